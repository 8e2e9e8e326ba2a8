// LOGIN (RFC 3501 §6.2.3) and the shared login step used by AUTHENTICATE.
import { ArgReader } from '../../wire/args.js';
import { NoError, BadError } from '../../wire/errors.js';
import type { Connection } from '../connection.js';
import { addressGroup, clientIp } from '../../auth/penalty.js';
import type { Command, CommandResult } from './types.js';

const MAX_FAILURES = 3;

/**
 * Checks credentials, switches the connection to authenticated, or fails
 * after the penalty of the IP and of the user name (2 s doubling to 15 s, see auth/penalty.ts).
 *
 * The failure line is for fail2ban (deploy/fail2ban/filter.d/maildir-imapd.conf);
 * keep it stable: pino JSON, level 40, fields in this order —
 *   {"level":40,"time":…,"pid":…,"cid":"…","ip":"203.0.113.9","user":"bob","msg":"login failed"}
 */
export async function completeLogin(conn: Connection, login: string, password: string): Promise<CommandResult> {
  if (login.length > 256 || password.length > 1024) throw new BadError('Credentials too long');
  const limits = conn.ctx.logins;
  const ip = clientIp(conn.remoteAddress);
  // The penalty counts per IPv4 address or IPv6 /64; the log names the address itself (fail2ban bans it).
  const group = addressGroup(ip);
  // One check at a time per IP, each after the penalty of the failures before it (on any connection).
  const check = async () => {
    const result = await conn.ctx.users.authenticate(login, password);
    return { result, delay: result.ok ? 0 : limits ? limits.penalty.fail(group, login) : conn.ctx.config.authFailDelayMs };
  };
  const { result, delay } = limits ? await limits.penalty.serialize(group, login, check) : await check();
  if (!result.ok) {
    conn.failedLogins++;
    if (result.unsupported) conn.log.error({ user: login.slice(0, 64), scheme: result.unsupported }, 'unsupported password scheme; this user cannot log in');
    conn.log.warn({ ip, user: login.slice(0, 64) }, 'login failed');
    await sleep(delay);
    if (conn.failedLogins >= MAX_FAILURES) {
      conn.bye('Too many failed logins');
      return 'done';
    }
    throw new NoError('Authentication failed', 'AUTHENTICATIONFAILED');
  }
  const entry = result.entry;
  // Forgives only the failures made for this name (its owner's typos), never other names' guesses from this IP.
  limits?.penalty.succeed(group, login);
  if (limits && !limits.userIp.acquire(conn, entry.name, ip)) {
    conn.log.warn({ ip, user: entry.name, max: limits.userIp.max }, 'login refused: too many connections for this user from this IP');
    throw new NoError(`Too many connections for this user from your IP (at most ${limits.userIp.max})`, 'LIMIT');
  }
  // The connection may have closed while the password was checked: its onClose has run already.
  if (conn.isClosed) {
    limits?.release(conn);
    return 'done';
  }
  conn.authenticated(entry, conn.ctx.storeFor(entry));
  conn.log.info({ ip, user: entry.name }, 'login');
  return { code: `CAPABILITY ${conn.ctx.capabilities(conn).join(' ')}`, text: 'Logged in' };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export const login: Command = {
  names: ['LOGIN'],
  states: ['notauth'],
  async run(ctx) {
    const r = new ArgReader(ctx.args, 'LOGIN');
    const user = r.astring('user name');
    const password = r.astring('password');
    r.end();
    return completeLogin(ctx.conn, user, password);
  },
};
