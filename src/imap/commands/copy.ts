// COPY and UID COPY (RFC 3501 §6.4.7) as hard links, with COPYUID (RFC 4315);
// MOVE and UID MOVE (RFC 6851): the copy, an untagged OK [COPYUID …], then
// the source messages expunged (their EXPUNGEs go out before the tagged OK).
import { ArgReader } from '../../wire/args.js';
import { NoError } from '../../wire/errors.js';
import { resolveMessages } from './messages.js';
import type { MessageRef } from '../../mail/api.js';
import { formatSet } from '../../wire/sequence-set.js';
import { SELECTED, type Command } from './types.js';
import { fromClient } from './mailbox-name.js';

export const copy: Command = {
  names: ['COPY', 'MOVE'],
  states: SELECTED,
  uid: true,
  async run(ctx) {
    const { conn } = ctx;
    const view = conn.view!;
    const move = ctx.name === 'MOVE';
    const r = new ArgReader(ctx.args, ctx.name);
    const set = r.atom('sequence set');
    const name = fromClient(r.astring('mailbox name'), conn.extensions.utf8);
    r.end();
    if (move && view.readOnly) throw new NoError('Mailbox is read-only', 'READ-ONLY');
    const uids = resolveMessages(view, set, ctx.uid).sort((a, b) => a - b);
    const dest = await conn.store!.mailbox(name);
    if (!dest) throw new NoError("Mailbox doesn't exist", 'TRYCREATE');
    const metas = uids.map((u) => view.meta(u)).filter((m): m is MessageRef => !!m && !view.isExpunged(m.uid));
    if (metas.length < uids.length) throw new NoError('Some of the requested messages no longer exist', 'EXPUNGEISSUED');
    if (!metas.length) return { text: `${move ? 'Move' : 'Copy'} completed (no messages)` };
    const source = view.mailbox;
    const { uids: destUids, uidValidity } = await (move ? conn.store!.move(source, metas, dest) : conn.store!.copy(source, metas, dest));
    const code = `COPYUID ${uidValidity} ${formatSet(metas.map((m) => m.uid))} ${formatSet(destUids)}`;
    if (!move) return { code, text: 'Copy completed' };
    // RFC 6851 §4.3: COPYUID in an untagged OK, then the EXPUNGEs (written before the tagged OK).
    conn.write(`* OK [${code}] Moved UIDs.\r\n`);
    return { text: 'Move completed' };
  },
};
