// STORE and UID STORE (RFC 3501 §6.4.6, §6.4.8).
import { ArgReader, flagList } from '../args.js';
import { atom } from '../encoder.js';
import { BadError, NoError } from '../errors.js';
import { resolveMessages } from './messages.js';
import type { FlagMode, MessageMeta } from '../../mail/mailbox.js';
import { SELECTED, type Command } from './types.js';

export const store: Command = {
  names: ['STORE'],
  states: SELECTED,
  uid: true,
  async run(ctx) {
    const { conn } = ctx;
    const view = conn.view!;
    const r = new ArgReader(ctx.args, 'STORE');
    const set = r.atom('sequence set');
    const op = r.atom('data item').toUpperCase();
    const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(op);
    if (!m) throw new BadError('STORE: expected FLAGS, +FLAGS or -FLAGS');
    const flags = flagList(r.any('flag list'), 'STORE');
    r.end();
    if (flags.some((f) => f.startsWith('\\') && !/^\\(Answered|Flagged|Deleted|Seen|Draft|Recent)$/i.test(f)))
      throw new BadError('STORE: unknown system flag');
    if (view.readOnly) throw new NoError('Mailbox is read-only', 'READ-ONLY');
    const mode: FlagMode = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'replace';
    const uids = resolveMessages(view, set, ctx.uid);
    const metas = uids.map((u) => view.meta(u)).filter((x): x is MessageMeta => !!x && !view.isExpunged(x.uid));
    await view.mailbox.setFlags(metas, mode, flags, view);
    if (m[2]) return;
    for (const meta of metas) {
      const values = ctx.uid ? [atom('UID'), meta.uid, atom('FLAGS'), view.flagsOf(meta).map(atom)] : [atom('FLAGS'), view.flagsOf(meta).map(atom)];
      await conn.untagged([view.seqOf(meta.uid), atom('FETCH'), values]);
    }
  },
};
