// FETCH BINARY[part]<partial>, BINARY.PEEK and BINARY.SIZE (RFC 3516 §4.2):
// a part's content with its Content-Transfer-Encoding undone. Decoded as it
// streams from the message: a first pass finds the size (and whether there
// is a NUL, which needs a literal8), a second one sends the bytes, so a big
// attachment is never held whole. Small parts keep the first pass's bytes.
import { headerValue } from '../../wire/header.js';
import { Literal, StreamLiteral, type ImapValue } from '../../wire/encoder.js';
import { NoError } from '../../wire/errors.js';
import { transferDecoder, type LoadedMessage, type MailboxHandle, type MessageRef } from '../../mail/api.js';
import { findPart } from './section.js';
import type { BinaryItem } from './items.js';

/** Decoded parts up to this size are answered from memory; bigger ones are decoded a second time as they are sent. */
const KEEP_BYTES = 1024 * 1024;
const IDENTITY = new Set(['7bit', '8bit', 'binary']);
const DECODED = new Set(['base64', 'quoted-printable']);

interface Source {
  start: number;
  end: number;
  cte: string;
}

/** The raw bytes a BINARY section names and how they are encoded; null for a part that does not exist. */
function sourceOf(msg: LoadedMessage, part: number[]): Source | null {
  if (!part.length) return { start: 0, end: msg.vsize, cte: 'binary' }; // BINARY[]: the message as it is
  const p = findPart(msg.root, part);
  if (!p) return null;
  const cte = (headerValue(p.header, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  // §4.3: an encoding we cannot undo is NO [UNKNOWN-CTE], not a guess.
  if (!IDENTITY.has(cte) && !DECODED.has(cte)) throw new NoError(`Unknown Content-Transfer-Encoding: ${cte.slice(0, 40)}`, 'UNKNOWN-CTE');
  return { start: p.bodyStart, end: p.end, cte };
}

async function* decoded(mailbox: MailboxHandle, meta: MessageRef, msg: LoadedMessage, src: Source): AsyncIterable<Buffer> {
  const decoder = transferDecoder(src.cte);
  for await (const chunk of mailbox.messageRange(meta, msg, src.start, src.end)) {
    const out = decoder.write(chunk);
    if (out.length) yield out;
  }
  const tail = decoder.end();
  if (tail.length) yield tail;
}

/** Bytes [from, to) of a stream. */
async function* slice(chunks: AsyncIterable<Buffer>, from: number, to: number): AsyncIterable<Buffer> {
  let pos = 0;
  for await (const c of chunks) {
    const a = Math.max(from - pos, 0);
    const b = Math.min(to - pos, c.length);
    if (a < b) yield c.subarray(a, b);
    pos += c.length;
    if (pos >= to) return;
  }
}

/**
 * Whether decoded content goes out as a literal8: RFC 3516 §4.2 needs one for
 * NUL; as Dovecot 2.3 does, any byte outside 7-bit text (NUL or 8-bit) in the
 * whole part makes it one, for a partial range too.
 */
function notText(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] === 0 || b[i]! >= 0x80) return true;
  return false;
}

export async function binaryValue(mailbox: MailboxHandle, meta: MessageRef, msg: LoadedMessage, item: BinaryItem): Promise<ImapValue> {
  const src = sourceOf(msg, item.part);
  if (!src) return item.size ? 0 : new Literal(Buffer.alloc(0));
  let size = 0;
  let raw = false;
  let kept: Buffer[] | null = [];
  for await (const c of decoded(mailbox, meta, msg, src)) {
    size += c.length;
    if (!raw && notText(c)) raw = true;
    if (kept && size <= KEEP_BYTES) kept.push(Buffer.from(c));
    else kept = null;
  }
  if (item.size) return size;
  const from = Math.min(item.partial?.origin ?? 0, size);
  const to = item.partial ? Math.min(from + item.partial.count, size) : size;
  if (kept) return new Literal(Buffer.concat(kept).subarray(from, to), raw);
  return new StreamLiteral(to - from, () => slice(decoded(mailbox, meta, msg, src), from, to), raw);
}
