// SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6, §6.3.7), kept in Dovecot's `subscriptions` file.
import { ArgReader } from '../../wire/args.js';
import { AUTHED, type Command } from './types.js';

export const subscribe: Command = {
  names: ['SUBSCRIBE', 'UNSUBSCRIBE'],
  states: AUTHED,
  async run(ctx) {
    const r = new ArgReader(ctx.args, ctx.name);
    const name = r.astring('mailbox name');
    r.end();
    await ctx.conn.store!.subscribe(name, ctx.name === 'SUBSCRIBE');
  },
};
