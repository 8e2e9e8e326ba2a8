// SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6, §6.3.7), kept in Dovecot's `subscriptions` file.
import { ArgReader } from '../../wire/args.js';
import { AUTHED, type Command } from './types.js';
import { fromClient } from './mailbox-name.js';

export const subscribe: Command = {
  names: ['SUBSCRIBE', 'UNSUBSCRIBE'],
  states: AUTHED,
  async run(ctx) {
    const r = new ArgReader(ctx.args, ctx.name);
    const name = fromClient(r.astring('mailbox name'), ctx.conn.extensions.utf8);
    r.end();
    const on = ctx.name === 'SUBSCRIBE';
    ctx.conn.notify?.expectOwn({ kind: on ? 'subscribed' : 'unsubscribed', name }); // RFC 5465 §5: not echoed to its maker
    await ctx.conn.store!.subscribe(name, on);
  },
};
