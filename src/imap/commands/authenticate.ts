// AUTHENTICATE (RFC 3501 §6.2.2) with SASL-IR (RFC 4959), mechanisms:
//  - PLAIN (RFC 4616): one message, authzid NUL authcid NUL password.
//  - LOGIN (draft-murchison-sasl-login-00): the server asks "Username:" then
//    "Password:", each answered with base64 text. Not a standard, but Dovecot
//    offers it and Outlook and older mail apps use it. With SASL-IR the initial
//    response is the user name; an empty one ("=") is answered with the
//    "Username:" challenge as if there had been none (as Dovecot's mech-login).
// Either way the credentials go through completeLogin, like LOGIN, so failure
// penalties, connection limits and logging are the same; the plaintext policy
// (no password without TLS outside trusted networks) is applied by the
// connection before this runs, to AUTHENTICATE as a whole.
import { ArgReader } from '../../wire/args.js';
import { BadError, NoError } from '../../wire/errors.js';
import type { Connection } from '../connection.js';
import { completeLogin } from './login.js';
import type { Command } from './types.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Sends a `+ challenge` continuation and reads the client's base64 line; `*` cancels (§6.2.2: tagged BAD). */
async function exchange(conn: Connection, challenge: string): Promise<string> {
  conn.write(`+ ${Buffer.from(challenge).toString('base64')}\r\n`);
  const item = await conn.nextLine();
  if ('error' in item) throw new BadError('Authentication response too long');
  const part = item.cmd.parts[0];
  const line = part.kind === 'text' ? part.text.trim() : '';
  if (line === '*') throw new BadError('Authentication aborted by client');
  return line;
}

/** The decoded bytes of a base64 client response (`=` is the empty response of RFC 4959). */
function decode(response: string): string {
  if (response === '=') return '';
  if (!BASE64.test(response)) throw new BadError('Invalid base64 in authentication response');
  return Buffer.from(response, 'base64').toString('utf8');
}

export const authenticate: Command = {
  names: ['AUTHENTICATE'],
  states: ['notauth'],
  async run(ctx) {
    const { conn } = ctx;
    const r = new ArgReader(ctx.args, 'AUTHENTICATE');
    const mechanism = r.atom('mechanism').toUpperCase();
    const initial = r.done ? null : r.astring('initial response');
    r.end();
    switch (mechanism) {
      case 'PLAIN': {
        const fields = decode(initial ?? (await exchange(conn, ''))).split('\0');
        if (fields.length !== 3) throw new BadError('Malformed PLAIN response');
        const [authzid, authcid, password] = fields;
        if (authzid && authzid !== authcid) throw new NoError('Proxy authorization is not supported', 'AUTHORIZATIONFAILED');
        return completeLogin(conn, authcid, password);
      }
      case 'LOGIN': {
        let user = initial === null ? '' : decode(initial);
        if (user === '') user = decode(await exchange(conn, 'Username:'));
        const password = decode(await exchange(conn, 'Password:'));
        return completeLogin(conn, user, password);
      }
      default:
        throw new NoError(`Unsupported authentication mechanism ${mechanism.slice(0, 20)}`, 'CANNOT');
    }
  },
};
