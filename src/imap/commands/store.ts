// STORE and UID STORE (RFC 3501 §6.4.6, §6.4.8).
import { ArgReader, flagList } from '../../wire/args.js';
import { atom, type ImapValue } from '../../wire/encoder.js';
import { compressUids } from '../../wire/sequence-set.js';
import { BadError, NoError } from '../../wire/errors.js';
import { resolveMessages } from './messages.js';
import type { FlagMode, MessageRef } from '../../mail/api.js';
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
    let unchangedSince: number | null = null;
    if (r.peek()?.type === 'list') {
      // (UNCHANGEDSINCE modseq) — RFC 7162 §3.1.3
      const mods = r.list('store modifiers');
      if (mods.length !== 2 || mods[0].type !== 'atom' || mods[0].value.toUpperCase() !== 'UNCHANGEDSINCE' || mods[1].type !== 'atom' || !/^\d+$/.test(mods[1].value))
        throw new BadError('STORE: expected (UNCHANGEDSINCE mod-sequence)');
      unchangedSince = Number(mods[1].value);
      conn.enableExtension('CONDSTORE');
    }
    const op = r.atom('data item').toUpperCase();
    const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(op);
    if (!m) throw new BadError('STORE: expected FLAGS, +FLAGS or -FLAGS');
    // RFC 3501 §9 store-att-flags: a flag list, or one or more flags without parentheses.
    const first = r.any('flag list');
    const flags = flagList(first, 'STORE');
    while (first.type !== 'list' && !r.done) {
      const next = r.any('flag');
      if (next.type === 'list') throw new BadError('STORE: a flag list after flags');
      flags.push(...flagList(next, 'STORE'));
    }
    r.end();
    if (flags.some((f) => f.startsWith('\\') && !/^\\(Answered|Flagged|Deleted|Seen|Draft|Recent)$/i.test(f)))
      throw new BadError('STORE: unknown system flag');
    if (view.readOnly) throw new NoError('Mailbox is read-only', 'READ-ONLY');
    const mode: FlagMode = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'replace';
    const uids = resolveMessages(view, set, ctx.uid);
    const metas = uids.map((u) => view.meta(u)).filter((x): x is MessageRef => !!x && !view.isExpunged(x.uid));
    const cond = unchangedSince === null ? undefined : { unchangedSince, modified: [] as number[] };
    const changed = new Set(await view.mailbox.setFlags(metas, mode, flags, view, cond));
    view.contexts.touch([...changed].map((m) => m.uid)); // live searches see this session's changes too (RFC 5267 §4.3)
    conn.announceKeywords(); // a keyword new to the folder is in FLAGS before a FETCH shows it
    const { condstore, qresync } = conn.extensions;
    const modified = new Set(cond?.modified ?? []);
    for (const meta of metas) {
      if (modified.has(meta.uid)) continue;
      // .SILENT drops FLAGS, but with CONDSTORE a changed message still reports its new MODSEQ (RFC 7162 §3.1.3).
      if (m[2] && !(condstore && changed.has(meta))) continue;
      // With QRESYNC on, every FETCH response carries the UID (RFC 7162 §3.2.4; the client may know only UIDs).
      const values: ImapValue[] = ctx.uid || qresync ? [atom('UID'), meta.uid] : [];
      if (!m[2]) values.push(atom('FLAGS'), view.flagsOf(meta).map(atom));
      if (condstore) values.push(atom('MODSEQ'), [meta.modseq]);
      await conn.untagged([view.seqOf(meta.uid), atom('FETCH'), values]);
    }
    if (modified.size) {
      // MODIFIED lists what was not changed: sequence numbers, or UIDs for UID STORE.
      const list = [...modified].map((u) => (ctx.uid ? u : view.seqOf(u)));
      return { code: `MODIFIED ${compressUids(list)}`, text: 'Conditional STORE failed' };
    }
  },
};
