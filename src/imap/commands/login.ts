// LOGIN (RFC 3501 §6.2.3) and the shared login step used by AUTHENTICATE.
import { ArgReader } from '../args.js';
import { NoError, BadError } from '../errors.js';
import type { Connection } from '../connection.js';
import type { Command, CommandResult } from './types.js';

const MAX_FAILURES = 3;

/** Checks credentials, switches the connection to authenticated, or fails with a delay. */
export async function completeLogin(conn: Connection, login: string, password: string): Promise<CommandResult> {
  if (login.length > 256 || password.length > 1024) throw new BadError('Credentials too long');
  const entry = await conn.ctx.users.authenticate(login, password);
  const ip = conn.socket.remoteAddress;
  if (!entry) {
    conn.failedLogins++;
    conn.log.warn({ ip, user: login.slice(0, 64) }, 'login failed');
    // A pause per failure slows guessing; the connection is dropped after a few.
    await new Promise((r) => setTimeout(r, conn.ctx.config.authFailDelayMs));
    if (conn.failedLogins >= MAX_FAILURES) {
      conn.bye('Too many failed logins');
      return 'done';
    }
    throw new NoError('Authentication failed', 'AUTHENTICATIONFAILED');
  }
  conn.user = entry;
  conn.store = conn.ctx.storeFor(entry);
  conn.state = 'auth';
  conn.log.info({ ip, user: entry.name }, 'login');
  return { code: `CAPABILITY ${conn.ctx.capabilities(conn).join(' ')}`, text: 'Logged in' };
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
