// What each admin request does, on the store API and the server's sessions.
// The same code answers over the admin socket (inside the running server)
// and, for the requests that need no running server, straight from the
// command line.
import { MailError, normalizeName, type MailUser } from '../mail/api.js';
import { expungeArrivedBefore, type ExpungeOldResult } from '../housekeeping/expunge-old.js';
import type { UserEntry } from '../auth/passwd-file.js';
import { AdminError, type AdminRequest, type QuotaReport, type SessionInfo } from './protocol.js';

/** An IMAP session as the admin side sees it (the server's Connection). */
export interface AdminSession {
  readonly id: string;
  readonly user: UserEntry | null;
  readonly remoteAddress: string | undefined;
  readonly since: number;
  readonly loggedInAt: number | null;
  readonly idling: boolean;
  readonly view: { mailbox: { name: string } } | null;
  bye(reason: string): void;
}

export interface AdminDeps {
  lookup(name: string): UserEntry | undefined;
  /** The user's mail for the server's own work (creates no folder). */
  storeOf(user: UserEntry): MailUser;
  /** The live sessions; null when no server runs (who and kick need one). */
  sessions: (() => Iterable<AdminSession>) | null;
  /** Messages judged per step (autoexpunge.batch). */
  batch: number;
}

export async function runAdmin(req: AdminRequest, deps: AdminDeps): Promise<unknown> {
  switch (req.cmd) {
    case 'who':
      return who(deps);
    case 'kick': {
      const user = userOf(req.user, deps);
      let kicked = 0;
      for (const s of [...sessionsOf(deps)]) {
        if (s.user?.name !== user.name) continue;
        s.bye('Disconnected by the administrator');
        kicked++;
      }
      return { user: user.name, kicked };
    }
    case 'expunge': {
      const user = userOf(req.user, deps);
      const box = await storeCall(() => deps.storeOf(user).mailbox(req.folder));
      if (!box) throw new AdminError(`${user.name} has no folder ${normalizeName(req.folder)}`);
      const r: ExpungeOldResult = await expungeArrivedBefore(box, req.beforeMs, { batch: deps.batch, dryRun: req.dryRun });
      return { user: user.name, folder: box.name, before: new Date(req.beforeMs).toISOString(), dryRun: req.dryRun, ...r };
    }
    case 'reindex': {
      const user = userOf(req.user, deps);
      return { user: user.name, folders: await storeCall(() => deps.storeOf(user).reindex(req.folder)) };
    }
    case 'quota': {
      const user = userOf(req.user, deps);
      const store = deps.storeOf(user);
      const q = await storeCall(() => (req.recalc ? store.recalculateQuota() : store.quota()));
      const tracked = q.limits.storage !== null || q.limits.messages !== null;
      // With no limit the usage is not tracked: count it for the report.
      const usage = tracked || req.recalc ? q : await storeCall(() => store.recalculateQuota());
      const report: QuotaReport = { user: user.name, storageLimit: q.limits.storage, messageLimit: q.limits.messages, bytes: usage.bytes, messages: usage.messages, tracked };
      return report;
    }
  }
}

function who(deps: AdminDeps): SessionInfo[] {
  return [...sessionsOf(deps)].map((s) => ({
    id: s.id,
    user: s.user?.name ?? null,
    ip: s.remoteAddress ?? null,
    since: new Date(s.since).toISOString(),
    loggedIn: s.loggedInAt === null ? null : new Date(s.loggedInAt).toISOString(),
    folder: s.view?.mailbox.name ?? null,
    idle: s.idling,
  }));
}

function sessionsOf(deps: AdminDeps): Iterable<AdminSession> {
  if (!deps.sessions) throw new AdminError('no running server: sessions are only known to it');
  return deps.sessions();
}

function userOf(name: string, deps: AdminDeps): UserEntry {
  const u = deps.lookup(name);
  if (!u) throw new AdminError(`no user ${name} in the users file`);
  return u;
}

/** A store refusal (no such folder, a bad name) is the operator's answer, not a server fault. */
async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MailError) throw new AdminError(err.message);
    throw err;
  }
}
