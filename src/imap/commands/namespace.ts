// NAMESPACE (RFC 2342): one personal namespace with no prefix, "." as separator (as Dovecot's Maildir++).
import { ArgReader } from '../../wire/args.js';
import { AUTHED, type Command } from './types.js';

export const namespace: Command = {
  names: ['NAMESPACE'],
  states: AUTHED,
  async run(ctx) {
    new ArgReader(ctx.args, 'NAMESPACE').end();
    ctx.conn.write('* NAMESPACE (("" ".")) NIL NIL\r\n');
  },
};
