// One password check for Postfix SMTP AUTH: the users file, schemes, failure
// penalty and log lines of IMAP LOGIN (a brute force over SMTP is the same
// brute force, so both count against one penalty per address), but every reply
// within a budget well under Postfix's 10 s read timeout on the auth socket
// (xsasl_dovecot_server.c AUTH_TIMEOUT): a reply Postfix stops waiting for
// becomes "Connection lost to authentication server" for a real user.
//
// So where IMAP holds a failed reply for the whole penalty (2 s doubling to
// 15 s), here the hold is cut at the budget; and a check that could not start
// before the budget ran out (the address is still paying for earlier failures,
// on SMTP or IMAP) is not made at all: it fails at once without testing the
// password, so the penalty still bounds guesses per address.
import type { Logger } from 'pino';
import type { UserDb } from '../auth/users.js';
import type { LoginLimits } from '../auth/limits.js';
import { addressGroup } from '../auth/penalty.js';

export interface VerifyOptions {
  users: UserDb;
  /** The server's shared penalty (and the IMAP side's); null: a fixed `failDelayMs` after each failure. */
  limits: LoginLimits | null;
  /** Longest time from the credentials to the reply. */
  replyWithinMs: number;
  /** Without `limits`: the delay after a failure. */
  failDelayMs: number;
}

export type Verdict =
  | { ok: true; user: string }
  /** `deferred`: the password was not checked (the address's penalty outlasts the reply budget). */
  | { ok: false; deferred?: boolean };

/** A check needs some time of its own (a slow hash): it is not started with less than this left. */
const CHECK_RESERVE_MS = 500;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Checks `login`/`password` for the SMTP client at `ip` (Postfix's rip=).
 * The failure line is the one fail2ban reads (see src/imap/commands/login.ts):
 * pino JSON, level 40, `"ip":…,"user":…,"msg":"login failed"`.
 */
export async function verifyLogin(opts: VerifyOptions, log: Logger, login: string, password: string, ip: string): Promise<Verdict> {
  const started = Date.now();
  const deadline = started + opts.replyWithinMs;
  const group = addressGroup(ip);
  const limits = opts.limits;
  const check = async () => {
    if (Date.now() > deadline - CHECK_RESERVE_MS) return null;
    const result = await opts.users.authenticate(login, password);
    return { result, delay: result.ok ? 0 : limits ? limits.penalty.fail(group, login) : opts.failDelayMs };
  };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), opts.replyWithinMs - CHECK_RESERVE_MS / 2)));
  const outcome = await Promise.race([limits ? limits.penalty.serialize(group, login, check) : check(), late]);
  clearTimeout(timer);
  if (outcome === null) {
    log.info({ ip, user: login.slice(0, 64) }, 'login deferred: failure penalty for this address');
    return { ok: false, deferred: true };
  }
  const { result, delay } = outcome;
  if (!result.ok) {
    if (result.unsupported) log.error({ user: login.slice(0, 64), scheme: result.unsupported }, 'unsupported password scheme; this user cannot log in');
    log.warn({ ip, user: login.slice(0, 64) }, 'login failed');
    await sleep(Math.min(delay, deadline - Date.now()));
    return { ok: false };
  }
  // Forgives only the failures made for this name (its owner's typos), never other names' guesses from this address.
  limits?.penalty.succeed(group, login);
  log.info({ ip, user: result.entry.name }, 'login');
  return { ok: true, user: result.entry.name };
}
