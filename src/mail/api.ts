// The store's API: the only module of src/mail that the rest of the server
// (the IMAP protocol, the server wiring, and next LMTP, Sieve and the admin
// socket) imports. Everything the protocols may use of the store is named
// here, and nothing else is reachable.
//
// Where it stands: the store's own classes (MailStore, Mailbox) are exported
// as types, so what the protocol may call is visible in one
// place. The next step narrows them to plain-data interfaces (MailUser,
// MailboxHandle) that an in-memory store can implement for command unit
// tests. A session's tracker (imap/tracker.ts) attaches as a MailboxListener.
import type { Logger } from 'pino';
import { MailStore, MailboxRegistry } from './store.js';
import type { SpecialUseMap } from './special-use.js';
import { removeLockTemplates } from './dotlock.js';

export { MailError, mailErrorOf, type MailErrorKind } from './errors.js';
export { HIERARCHY_SEPARATOR, normalizeName, checkName, type FolderInfo } from './store.js';
export { DEFAULT_SPECIAL_USE, type SpecialUseMap } from './special-use.js';
export { SYSTEM_FLAGS } from './flags.js';
export { isMessageGone, type MessageMeta, type FlagMode, type MailboxListener } from './mailbox.js';
export { MessageSpool } from './spool.js';
export { loadMessage, messageRange, readWithDate, type LoadedMessage } from './content.js';
export { prepareBatch, summariesFor, unreadableFault, WHOLE_LIMIT, type MessageNeeds, type Prepared, type PreparedBatch, type Outcome } from './message-data.js';
export { headerFacts, bodyText, bodyMatches, type HeaderFacts } from './facts.js';
export { textHint, type TextHint } from './text-index.js';
export type { MailStore, Mailbox };
import type { Mailbox } from './mailbox.js';

export interface MailServiceOptions {
  log: Logger;
  /** How often open folders are checked for changes the watcher missed. */
  rescanMs: number;
  specialUse: SpecialUseMap;
  /** Create the special-use folders at a user's first login. */
  createSpecialFolders: boolean;
}

/** Every user's mail, sharing one set of open folders (watchers, indexes) for the whole process. */
export class MailService {
  private readonly registry: MailboxRegistry;

  constructor(private readonly opts: MailServiceOptions) {
    this.registry = new MailboxRegistry(opts.log, opts.rescanMs);
  }

  /** The mail of the user whose Maildir is `root`. */
  userStore(root: string): MailStore {
    return new MailStore(root, this.registry, this.opts.specialUse, this.opts.createSpecialFolders);
  }

  /** Flushes every open folder's index to disk and stops watching (shutdown). */
  async close(): Promise<void> {
    await this.registry.closeAll();
    await removeLockTemplates();
  }
}
