// EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1). The EXPUNGE
// responses come from this session's view, flushed before the tagged OK.
import { ArgReader } from '../../wire/args.js';
import { NoError } from '../../wire/errors.js';
import { resolveMessages } from './messages.js';
import { SELECTED, type Command } from './types.js';

export const expunge: Command = {
  names: ['EXPUNGE'],
  states: SELECTED,
  uid: true,
  async run(ctx) {
    const view = ctx.conn.view!;
    const r = new ArgReader(ctx.args, ctx.uid ? 'UID EXPUNGE' : 'EXPUNGE');
    const uids = ctx.uid ? new Set(resolveMessages(view, r.atom('UID set'), true)) : null;
    r.end();
    if (view.readOnly) throw new NoError('Mailbox is read-only', 'READ-ONLY');
    await view.mailbox.expunge(uids);
  },
};
