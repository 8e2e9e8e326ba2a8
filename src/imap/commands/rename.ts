// RENAME (RFC 3501 §6.3.5): children move along; RENAME INBOX moves its messages.
import { ArgReader } from '../../wire/args.js';
import { AUTHED, type Command } from './types.js';

export const rename: Command = {
  names: ['RENAME'],
  states: AUTHED,
  async run(ctx) {
    const r = new ArgReader(ctx.args, 'RENAME');
    const from = r.astring('existing mailbox name');
    const to = r.astring('new mailbox name');
    r.end();
    await ctx.conn.store!.rename(from, to);
  },
};
