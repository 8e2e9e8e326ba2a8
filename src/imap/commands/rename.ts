// RENAME (RFC 3501 §6.3.5): children move along; RENAME INBOX moves its messages.
import { ArgReader } from '../../wire/args.js';
import { AUTHED, type Command } from './types.js';
import { fromClient } from './mailbox-name.js';

export const rename: Command = {
  names: ['RENAME'],
  states: AUTHED,
  async run(ctx) {
    const r = new ArgReader(ctx.args, 'RENAME');
    const from = fromClient(r.astring('existing mailbox name'), ctx.conn.extensions.utf8);
    const to = fromClient(r.astring('new mailbox name'), ctx.conn.extensions.utf8);
    r.end();
    ctx.conn.notify?.expectOwn({ kind: 'renamed', from, name: to }); // RFC 5465 §5: not echoed to its maker
    await ctx.conn.store!.rename(from, to);
  },
};
