// UNAUTHENTICATE (RFC 8437): end the login without ending the connection, so a
// client can log in as someone else over the same (TLS) connection.
import { ArgReader } from '../../wire/args.js';
import { AUTHED, type Command } from './types.js';

export const unauthenticate: Command = {
  names: ['UNAUTHENTICATE'],
  states: AUTHED,
  async run(ctx) {
    new ArgReader(ctx.args, 'UNAUTHENTICATE').end();
    const { conn } = ctx;
    conn.log.info({ user: conn.user?.name }, 'unauthenticate');
    if (!conn.unauthenticate()) {
      conn.bye('Too many connections waiting to log in from your address');
      return 'done';
    }
  },
};
