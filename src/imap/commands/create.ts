// CREATE (RFC 3501 §6.3.3): a Maildir++ folder, as Dovecot makes it; its
// MAILBOXID in the reply (RFC 8474 §4.1).
import { ArgReader } from '../../wire/args.js';
import { AUTHED, type Command } from './types.js';
import { fromClient } from './mailbox-name.js';

export const create: Command = {
  names: ['CREATE'],
  states: AUTHED,
  async run(ctx) {
    const r = new ArgReader(ctx.args, 'CREATE');
    const name = fromClient(r.astring('mailbox name'), ctx.conn.extensions.utf8);
    r.end();
    ctx.conn.notify?.expectOwn({ kind: 'created', name }); // RFC 5465 §5: not echoed to its maker
    await ctx.conn.store!.create(name);
    // RFC 8474 §4.1: the new folder's MAILBOXID in the tagged OK.
    const id = (await ctx.conn.store!.mailbox(name))?.mailboxId;
    return id ? { code: `MAILBOXID (${id})`, text: 'CREATE completed' } : undefined;
  },
};
