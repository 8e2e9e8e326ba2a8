// DELETE (RFC 3501 §6.3.4). INBOX cannot be deleted; a folder with children
// loses its messages and stays as a \Noselect parent (Dovecot's Maildir++ way).
import { ArgReader } from '../../wire/args.js';
import { AUTHED, type Command } from './types.js';
import { fromClient } from './mailbox-name.js';

export const del: Command = {
  names: ['DELETE'],
  states: AUTHED,
  async run(ctx) {
    const r = new ArgReader(ctx.args, 'DELETE');
    const name = fromClient(r.astring('mailbox name'), ctx.conn.extensions.utf8);
    r.end();
    ctx.conn.notify?.expectOwn({ kind: 'deleted', name }); // RFC 5465 §5: not echoed to its maker
    await ctx.conn.store!.delete(name);
  },
};
