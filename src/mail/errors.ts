// Store failures the client can act on: a MailError with a kind, which each
// protocol maps to its own reply in one place. Anything else thrown from the
// store is a bug, or a file-system fault that mailErrorOf() classifies.

export type MailErrorKind =
  /** The folder or message does not exist. */
  | 'notfound'
  /** A folder of that name exists already. */
  | 'exists'
  /** The messages were expunged meanwhile. */
  | 'expunged'
  /** The name is not a valid folder name. */
  | 'invalid'
  /** The operation cannot be done on this folder (INBOX, a rename under itself …). */
  | 'cannot'
  /** The file system refused us access. */
  | 'permission'
  /** Try again later: a lock held, a transient I/O error. */
  | 'temporary'
  /** A server limit (name length, keyword slots, count). */
  | 'limit'
  /** Out of space: the user's quota or the disk. */
  | 'quota';

export class MailError extends Error {
  constructor(
    readonly kind: MailErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const ERRNO_KINDS = new Map<string, [MailErrorKind, string]>(Object.entries({
  ENOENT: ['notfound', 'No such folder or message (it was removed meanwhile)'],
  EEXIST: ['exists', 'It exists already'],
  ENOTEMPTY: ['exists', 'The target exists already'],
  EACCES: ['permission', 'Permission denied on the server'],
  EPERM: ['permission', 'Permission denied on the server'],
  ENOSPC: ['quota', 'The server is out of disk space'],
  EDQUOT: ['quota', 'Disk quota exceeded'],
  ENAMETOOLONG: ['limit', 'Name too long for the file system'],
  EMFILE: ['temporary', 'Too many open files; try again'],
  ENFILE: ['temporary', 'Too many open files; try again'],
  EAGAIN: ['temporary', 'Resource temporarily unavailable; try again'],
  EIO: ['temporary', 'I/O error on the server'],
} satisfies Record<string, [MailErrorKind, string]>));

/**
 * The MailError an error means, or null for one nobody expected. File-system
 * errors from racing sessions and outside writers (a folder deleted by another
 * session, a full disk) are faults of one command, not of the server.
 */
export function mailErrorOf(err: unknown): MailError | null {
  if (err instanceof MailError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const known = typeof code === 'string' ? ERRNO_KINDS.get(code) : undefined;
  return known ? new MailError(known[0], known[1]) : null;
}

export class MessageGoneError extends Error {
  constructor(readonly uid: number) {
    super(`message ${uid} was expunged`);
  }
}

/** An error that means the message went away meanwhile (expunged, or its file removed): skip it, don't fail. */
export function isMessageGone(err: unknown): boolean {
  return err instanceof MessageGoneError || (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** The disk (ENOSPC) or the user's file-system quota (EDQUOT) has no room for what was written. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
