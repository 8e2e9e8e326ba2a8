// AUTHENTICATE PLAIN (RFC 3501 §6.2.2, RFC 4616), with SASL-IR (RFC 4959).
import { ArgReader } from '../args.js';
import { BadError, NoError } from '../errors.js';
import { completeLogin } from './login.js';
import type { Command } from './types.js';

export const authenticate: Command = {
  names: ['AUTHENTICATE'],
  states: ['notauth'],
  async run(ctx) {
    const { conn } = ctx;
    const r = new ArgReader(ctx.args, 'AUTHENTICATE');
    const mechanism = r.atom('mechanism').toUpperCase();
    let response = r.done ? null : r.astring('initial response');
    r.end();
    if (mechanism !== 'PLAIN') throw new NoError(`Unsupported authentication mechanism ${mechanism.slice(0, 20)}`, 'CANNOT');
    if (response === null) {
      conn.write('+ \r\n');
      const item = await conn.nextLine();
      if ('error' in item) throw new BadError('Authentication response too long');
      const part = item.cmd.parts[0];
      response = part.kind === 'text' ? part.text.trim() : '';
      if (response === '*') throw new BadError('Authentication aborted by client');
    }
    if (response === '=') response = '';
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(response)) throw new BadError('Invalid base64 in authentication response');
    const fields = Buffer.from(response, 'base64').toString('utf8').split('\0');
    if (fields.length !== 3) throw new BadError('Malformed PLAIN response');
    const [authzid, authcid, password] = fields;
    if (authzid && authzid !== authcid) throw new NoError('Proxy authorization is not supported', 'AUTHORIZATIONFAILED');
    return completeLogin(conn, authcid, password);
  },
};
