// FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8).
import { ArgReader } from '../../wire/args.js';
import { atom, Literal, StreamLiteral, type ImapValue } from '../../wire/encoder.js';
import { BadError, NoError } from '../../wire/errors.js';
import { parseSequenceSet, resolveUids, compressUids } from '../../wire/sequence-set.js';
import type { Token } from '../../wire/parser.js';
import { parseFetchItems, type FetchItem, type SectionItem } from '../fetch/items.js';
import { sectionData, applyPartial } from '../fetch/section.js';
import { binaryValue } from '../fetch/binary.js';
import { envelope } from '../../wire/envelope.js';
import { bodystructure } from '../../wire/bodystructure.js';
import { imapDateTime } from '../fetch/date.js';
import { resolveMessages, SAVED_RESULT } from './messages.js';
import { fastPlan, fastFetch } from '../fetch/fast.js';
import { type LoadedMessage, isMessageGone, type MailError, type MessageRef } from '../../mail/api.js';
import { noFor } from '../mail-errors.js';
import { SELECTED, type Command, type CommandContext } from './types.js';

/** Items that need the parsed message, not just its metadata. */
function needsContent(items: FetchItem[]): boolean {
  return items.some(
    (i) =>
      (i.kind === 'simple' && (i.name === 'ENVELOPE' || i.name === 'BODYSTRUCTURE' || i.name === 'BODY')) ||
      (i.kind === 'section' && !(i.text === '' && !i.part.length)) ||
      i.kind === 'binary',
  );
}

export const fetch: Command = {
  names: ['FETCH'],
  states: SELECTED,
  uid: true,
  async run(ctx: CommandContext) {
    const { conn } = ctx;
    const view = conn.view!;
    const r = new ArgReader(ctx.args, 'FETCH');
    const set = r.atom('sequence set');
    let items = parseFetchItems(r.any('attributes'));
    // `FETCH 1 PREVIEW (LAZY)` (RFC 8970 §3 grammar): that list is PREVIEW's, not the fetch modifiers.
    const after = r.peek();
    if (items.length === 1 && items[0].kind === 'simple' && items[0].name === 'PREVIEW' && after?.type === 'list' && after.items.some((t) => t.type === 'atom' && t.value.toUpperCase() === 'LAZY'))
      items = parseFetchItems({ type: 'list', items: [{ type: 'atom', value: 'PREVIEW' }, r.any()] });
    const modifiers = r.done ? null : parseModifiers(r.list('fetch modifiers'), ctx);
    r.end();
    if (ctx.uid && !items.some((i) => i.kind === 'simple' && i.name === 'UID')) items = [{ kind: 'simple', name: 'UID' }, ...items];
    const wantsModseq = items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ');
    if (wantsModseq || modifiers) conn.enableExtension('CONDSTORE'); // RFC 7162 §3.1: CONDSTORE-enabling
    // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ in the response.
    if (modifiers && !wantsModseq) items = [...items, { kind: 'simple', name: 'MODSEQ' }];
    let uids = resolveMessages(view, set, ctx.uid);
    conn.announceKeywords(); // one another session added is in FLAGS before a FETCH shows it
    if (modifiers?.vanished) {
      // RFC 7162 §3.2.6: expunged UIDs in the set, since the modseq, before the FETCH responses.
      const expunged = view.mailbox.expungedSince(modifiers.changedSince);
      const saved = set === SAVED_RESULT ? new Set(view.savedSearch) : null;
      const gone = saved ? expunged.filter((u) => saved.has(u)) : resolveUids(parseSequenceSet(set), expunged);
      if (gone.length) conn.write(`* VANISHED (EARLIER) ${compressUids(gone)}\r\n`);
    }
    if (modifiers) uids = uids.filter((u) => (view.meta(u)?.modseq ?? 0) > modifiers.changedSince);

    // BODY[...] without PEEK, RFC822 and RFC822.TEXT set \Seen (§6.4.5).
    const setsSeen = !view.readOnly && items.some((i) => (i.kind === 'section' || i.kind === 'binary') && !i.peek); // BINARY too (RFC 3516 §4.2)
    const seenChanged = new Set<number>();
    if (setsSeen) {
      const unseen = uids.map((u) => view.meta(u)).filter((m): m is MessageRef => !!m && !view.isExpunged(m.uid) && !view.mailbox.isSeen(m));
      for (const m of await view.mailbox.setFlags(unseen, 'add', ['\\Seen'], view)) seenChanged.add(m.uid);
      view.contexts.touch(seenChanged);
    }
    const wantsFlags = items.some((i) => i.kind === 'simple' && i.name === 'FLAGS');
    const withContent = needsContent(items);

    const condstore = conn.extensions.condstore;
    const wantsModseqItem = items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ');
    /** One message the general way: parse what is needed, encode, stream big literals. False when it is gone. */
    const unreadable: MailError[] = [];
    const general = async (meta: MessageRef): Promise<boolean> => {
      let values: ImapValue[];
      try {
        const msg = withContent ? await view.mailbox.loadMessage(meta) : null;
        values = await fetchValues(ctx, meta, msg, items);
        // A streamed literal opens the file as it is written: make sure it will open before announcing it.
        if (values.some((v) => v instanceof StreamLiteral)) await view.mailbox.checkReadable(meta);
      } catch (err) {
        if (isMessageGone(err)) return false;
        unreadable.push(view.mailbox.unreadableFault(meta, err));
        return true;
      }
      if (seenChanged.has(meta.uid) && !wantsFlags) values.push(atom('FLAGS'), view.flagsOf(meta).map(atom));
      // RFC 7162 §3.1.4: with CONDSTORE on, a flag change this FETCH caused carries its MODSEQ.
      if (seenChanged.has(meta.uid) && condstore && !wantsModseqItem) values.push(atom('MODSEQ'), [meta.modseq]);
      await conn.untagged([view.seqOf(meta.uid), atom('FETCH'), values]);
      return true;
    };
    const present = (uid: number): MessageRef | null => {
      const meta = view.meta(uid);
      return meta && !view.isExpunged(uid) ? meta : null;
    };

    let gone = 0;
    const plan = fastPlan(items);
    if (plan) {
      const fast = await fastFetch(view.mailbox, uids, plan, {
        write: (b, written) => conn.write(b, written),
        cork: () => conn.socket.cork(),
        uncork: () => conn.socket.uncork(),
        drained: () => conn.drained(),
        present,
        seqOf: (uid) => view.seqOf(uid),
        baseFlags: (meta) => view.mailbox.flagsOf(meta),
        isRecent: (uid) => view.isRecent(uid),
        extra: (meta) => {
          if (!seenChanged.has(meta.uid)) return '';
          let x = wantsFlags ? '' : ` FLAGS (${view.flagsOf(meta).join(' ')})`;
          if (condstore && !wantsModseqItem) x += ` MODSEQ (${meta.modseq})`;
          return x;
        },
        slow: general,
      });
      gone = fast.gone;
      for (const u of fast.unreadable) unreadable.push(u);
    } else {
      for (const uid of uids) {
        const meta = present(uid);
        if (!meta || !(await general(meta))) gone++;
      }
    }
    if (gone) throw new NoError('Some messages were expunged meanwhile', 'EXPUNGEISSUED');
    // The others were answered; these few are a fault of the server's files, not of the request.
    if (unreadable.length) {
      conn.log.warn({ user: conn.user?.name, mailbox: view.mailbox.name, messages: unreadable.length, err: unreadable[0].message }, 'messages could not be read');
      throw noFor(unreadable[0].kind, `${unreadable[0].message} (${unreadable.length} message(s) not answered; the others were)`, 'FETCH');
    }
  },
};

/** (CHANGEDSINCE modseq [VANISHED]) — RFC 7162 §3.1.4, §3.2.6. */
function parseModifiers(items: Token[], ctx: CommandContext): { changedSince: number; vanished: boolean } {
  let changedSince: number | null = null;
  let vanished = false;
  for (let i = 0; i < items.length; i++) {
    const t = items[i];
    const name = t.type === 'atom' ? t.value.toUpperCase() : '';
    if (name === 'CHANGEDSINCE') {
      const v = items[++i];
      if (!v || v.type !== 'atom' || !/^\d+$/.test(v.value)) throw new BadError('FETCH: CHANGEDSINCE needs a mod-sequence');
      changedSince = Number(v.value);
    } else if (name === 'VANISHED') {
      if (!ctx.uid || !ctx.conn.extensions.qresync) throw new BadError('FETCH: VANISHED needs UID FETCH with QRESYNC enabled');
      vanished = true;
    } else throw new BadError('FETCH: unknown modifier');
  }
  if (changedSince === null) throw new BadError('FETCH: modifiers need CHANGEDSINCE');
  return { changedSince, vanished };
}

async function fetchValues(ctx: CommandContext, meta: MessageRef, msg: LoadedMessage | null, items: FetchItem[]): Promise<ImapValue[]> {
  const view = ctx.conn.view!;
  const mailbox = view.mailbox;
  const out: ImapValue[] = [];
  for (const item of items) {
    if (item.kind === 'section') {
      out.push(atom(item.label), await sectionValue(ctx, meta, msg, item));
      continue;
    }
    if (item.kind === 'binary') {
      out.push(atom(item.label), await binaryValue(mailbox, meta, msg!, item));
      continue;
    }
    out.push(atom(item.name));
    switch (item.name) {
      case 'UID':
        out.push(meta.uid);
        break;
      case 'FLAGS':
        out.push(view.flagsOf(meta).map(atom));
        break;
      case 'INTERNALDATE':
        out.push(imapDateTime(await mailbox.internalDate(meta)));
        break;
      case 'EMAILID':
        out.push([atom(mailbox.emailId(meta))]); // RFC 8474 §5.1: EMAILID (objectid)
        break;
      case 'THREADID':
        out.push(null); // RFC 8474 §5.2: NIL, we keep no thread ids
        break;
      case 'PREVIEW':
        // RFC 8970 §3: the text, or NIL (LAZY and not made yet).
        out.push(await mailbox.preview(meta, item.lazy === true));
        break;
      case 'SAVEDATE': {
        // RFC 8514 §3: NIL where the store cannot tell.
        const saved = await mailbox.saveDate(meta);
        out.push(saved ? imapDateTime(saved) : null);
        break;
      }
      case 'RFC822.SIZE':
        out.push(await mailbox.vsizeOf(meta));
        break;
      case 'ENVELOPE':
        out.push(envelope(msg!.root.header));
        break;
      case 'BODYSTRUCTURE':
        out.push(bodystructure(msg!.root, true));
        break;
      case 'BODY':
        out.push(bodystructure(msg!.root, false));
        break;
      case 'MODSEQ':
        out.push([meta.modseq]);
        break;
    }
  }
  return out;
}

async function sectionValue(ctx: CommandContext, meta: MessageRef, msg: LoadedMessage | null, item: SectionItem): Promise<ImapValue> {
  const mailbox = ctx.conn.view!.mailbox;
  // The whole message needs no parse: stream it at its known CRLF size.
  const data = msg ? sectionData(item, msg.root, msg.vsize) : { range: [0, await mailbox.vsizeOf(meta)] as [number, number] };
  const part = applyPartial(data, item.partial);
  if ('bytes' in part) return new Literal(part.bytes);
  const [start, end] = part.range;
  return new StreamLiteral(end - start, () => mailbox.messageRange(meta, msg, start, end));
}
