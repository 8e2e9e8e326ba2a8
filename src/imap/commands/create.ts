// CREATE (RFC 3501 §6.3.3): a Maildir++ folder, as Dovecot makes it.
import { ArgReader } from '../../wire/args.js';
import { AUTHED, type Command } from './types.js';

export const create: Command = {
  names: ['CREATE'],
  states: AUTHED,
  async run(ctx) {
    const r = new ArgReader(ctx.args, 'CREATE');
    const name = r.astring('mailbox name');
    r.end();
    await ctx.conn.store!.create(name);
  },
};
