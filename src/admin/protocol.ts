// The admin socket's protocol: one JSON object a line each way. A request
// names a command; the reply is {"ok":true,"result":…} or
// {"ok":false,"error":"…"}. Requests are checked here, whole, before anything
// runs: a bad one is an error reply, never a crash.

/** A request line longer than this is refused and the connection closed. */
export const MAX_REQUEST_BYTES = 16 * 1024;

export type AdminRequest =
  | { cmd: 'who' }
  | { cmd: 'kick'; user: string }
  | { cmd: 'expunge'; user: string; folder: string; beforeMs: number; dryRun: boolean }
  | { cmd: 'reindex'; user: string; folder: string | null }
  | { cmd: 'quota'; user: string; recalc: boolean };

export type AdminReply = { ok: true; result: unknown } | { ok: false; error: string };

/** One IMAP session, as `who` lists it. */
export interface SessionInfo {
  id: string;
  user: string | null;
  ip: string | null;
  /** When the connection was accepted, and when it logged in (ISO 8601). */
  since: string;
  loggedIn: string | null;
  folder: string | null;
  idle: boolean;
}

export interface QuotaReport {
  user: string;
  /** null: no limit. */
  storageLimit: number | null;
  messageLimit: number | null;
  bytes: number;
  messages: number;
  /** False when the user has no limit: usage is not tracked then and was counted for this report. */
  tracked: boolean;
}

/** A request that cannot be carried out, with the reason for the operator. */
export class AdminError extends Error {}

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || v === '' || v.length > 1024) throw new AdminError(`${what} must be a non-empty string`);
  return v;
};

/** Parses one request line; throws AdminError saying what is wrong. */
export function parseRequest(line: string): AdminRequest {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new AdminError('not a JSON object');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new AdminError('not a JSON object');
  const r = o as Record<string, unknown>;
  switch (r.cmd) {
    case 'who':
      return { cmd: 'who' };
    case 'kick':
      return { cmd: 'kick', user: str(r.user, 'user') };
    case 'expunge': {
      if (typeof r.beforeMs !== 'number' || !Number.isFinite(r.beforeMs)) throw new AdminError('beforeMs must be a number (ms since 1970)');
      return { cmd: 'expunge', user: str(r.user, 'user'), folder: str(r.folder, 'folder'), beforeMs: r.beforeMs, dryRun: r.dryRun === true };
    }
    case 'reindex':
      return { cmd: 'reindex', user: str(r.user, 'user'), folder: r.folder === undefined || r.folder === null ? null : str(r.folder, 'folder') };
    case 'quota':
      return { cmd: 'quota', user: str(r.user, 'user'), recalc: r.recalc === true };
    default:
      throw new AdminError(`unknown command ${JSON.stringify(r.cmd)} (who, kick, expunge, reindex, quota)`);
  }
}
