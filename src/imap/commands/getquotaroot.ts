// GETQUOTAROOT (RFC 9208 §4.3.2): the quota roots of a mailbox, each with its
// QUOTA. Every folder of a user is under the user's one root; a user with no
// limits gets `* QUOTAROOT name` with no root (Dovecot then sends nothing
// untagged, but the RFC asks for the QUOTAROOT response). As in Dovecot, the
// folder need not exist: the answer is the same for any name.
import { ArgReader } from '../../wire/args.js';
import { quote } from '../../wire/encoder.js';
import { normalizeName } from '../../mail/api.js';
import { fromClient, mailboxName } from './mailbox-name.js';
import { QUOTA_ROOT, hasQuotaRoot, quotaLine } from './getquota.js';
import { AUTHED, type Command } from './types.js';

export const getquotaroot: Command = {
  names: ['GETQUOTAROOT'],
  states: AUTHED,
  async run(ctx) {
    const r = new ArgReader(ctx.args, 'GETQUOTAROOT');
    const name = normalizeName(fromClient(r.astring('mailbox name'), ctx.conn.extensions.utf8));
    r.end();
    const q = await ctx.conn.store!.quota();
    if (!hasQuotaRoot(q)) {
      ctx.conn.write(`* QUOTAROOT ${mailboxName(name, ctx.conn.extensions.utf8)}\r\n`);
      return { text: 'No quota' };
    }
    ctx.conn.write(`* QUOTAROOT ${mailboxName(name, ctx.conn.extensions.utf8)} ${quote(QUOTA_ROOT)}\r\n${quotaLine(q)}`);
    return { text: 'Getquotaroot completed' };
  },
};
