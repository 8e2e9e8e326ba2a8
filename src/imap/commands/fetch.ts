// FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8).
import { ArgReader } from '../args.js';
import { atom, Literal, StreamLiteral, type ImapValue } from '../encoder.js';
import { NoError } from '../errors.js';
import { parseFetchItems, type FetchItem, type SectionItem } from '../fetch/items.js';
import { sectionData, applyPartial } from '../fetch/section.js';
import { envelope } from '../fetch/envelope.js';
import { bodystructure } from '../fetch/bodystructure.js';
import { imapDateTime } from '../fetch/date.js';
import { resolveMessages } from './messages.js';
import { loadMessage, messageRange, type LoadedMessage } from '../../mail/content.js';
import { MessageGoneError, type MessageMeta } from '../../mail/mailbox.js';
import { SELECTED, type Command, type CommandContext } from './types.js';

/** Items that need the parsed message, not just its metadata. */
function needsContent(items: FetchItem[]): boolean {
  return items.some(
    (i) => (i.kind === 'simple' && (i.name === 'ENVELOPE' || i.name === 'BODYSTRUCTURE' || i.name === 'BODY')) || (i.kind === 'section' && !(i.text === '' && !i.part.length)),
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
    r.end();
    if (ctx.uid && !items.some((i) => i.kind === 'simple' && i.name === 'UID')) items = [{ kind: 'simple', name: 'UID' }, ...items];
    const uids = resolveMessages(view, set, ctx.uid);

    // BODY[...] without PEEK, RFC822 and RFC822.TEXT set \Seen (§6.4.5).
    const setsSeen = !view.readOnly && items.some((i) => i.kind === 'section' && !i.peek);
    const seenChanged = new Set<number>();
    if (setsSeen) {
      const unseen = uids.map((u) => view.meta(u)).filter((m): m is MessageMeta => !!m && !view.isExpunged(m.uid) && !m.info.includes('S'));
      for (const m of await view.mailbox.setFlags(unseen, 'add', ['\\Seen'], view)) seenChanged.add(m.uid);
    }
    const wantsFlags = items.some((i) => i.kind === 'simple' && i.name === 'FLAGS');
    const withContent = needsContent(items);

    let gone = 0;
    for (const uid of uids) {
      const meta = view.meta(uid);
      const seq = view.seqOf(uid);
      if (!meta || view.isExpunged(uid)) {
        gone++;
        continue;
      }
      let values: ImapValue[];
      try {
        const msg = withContent ? await loadMessage(view.mailbox, meta) : null;
        values = await fetchValues(ctx, meta, msg, items);
      } catch (err) {
        if (err instanceof MessageGoneError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
          gone++;
          continue;
        }
        throw err;
      }
      if (seenChanged.has(uid) && !wantsFlags) values.push(atom('FLAGS'), view.flagsOf(meta).map(atom));
      await conn.untagged([seq, atom('FETCH'), values]);
    }
    if (gone) throw new NoError('Some messages were expunged meanwhile', 'EXPUNGEISSUED');
  },
};

async function fetchValues(ctx: CommandContext, meta: MessageMeta, msg: LoadedMessage | null, items: FetchItem[]): Promise<ImapValue[]> {
  const view = ctx.conn.view!;
  const mailbox = view.mailbox;
  const out: ImapValue[] = [];
  for (const item of items) {
    if (item.kind === 'section') {
      out.push(atom(item.label), await sectionValue(ctx, meta, msg, item));
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
    }
  }
  return out;
}

async function sectionValue(ctx: CommandContext, meta: MessageMeta, msg: LoadedMessage | null, item: SectionItem): Promise<ImapValue> {
  const mailbox = ctx.conn.view!.mailbox;
  // The whole message needs no parse: stream it at its known CRLF size.
  const data = msg ? sectionData(item, msg.root, msg.vsize) : { range: [0, await mailbox.vsizeOf(meta)] as [number, number] };
  const part = applyPartial(data, item.partial);
  if ('bytes' in part) return new Literal(part.bytes);
  const [start, end] = part.range;
  return new StreamLiteral(end - start, () => messageRange(mailbox, meta, msg, start, end));
}
