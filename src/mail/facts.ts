// The parsed facts SEARCH, SORT and THREAD need from a message: its header
// fields with RFC 2047 encoded words decoded, the Date: header, the thread
// identifiers, and (only when asked for) the decoded text of its body. They
// are kept in a process-wide LRU bounded by bytes, keyed by mailbox root +
// basename (content never changes; a flag rename keeps the basename), so a
// second search does not read every file again.
//
// Header facts come from a header-only read of the file; body text from a
// full read, MIME walk, transfer decoding (quoted-printable, base64), charset
// conversion (libmime / iconv-lite) and, for text/html, tag stripping.
import { READ_MESSAGE } from './message-file.js';
import { promises as fs } from 'node:fs';
import { decode as decodeCharset } from 'libmime/lib/charset.js';
import type { Mailbox, MessageMeta } from './mailbox.js';
import { parseHeader, headerValue, headerEnd, type HeaderField } from '../wire/header.js';
import { parseMime, param, type MimePart } from '../wire/mime.js';
import { readCrlf, toCrlf } from './crlf.js';
import { ByteLru } from '../runtime/lru.js';
import { cacheShare } from '../runtime/memory-budget.js';
import { decodeWords, parseMsgIds, parseRfc2822Date } from '../wire/header-values.js';
import { htmlToText } from './html-text.js';
import { parseAddressList } from '../wire/envelope.js';
import { decodeQP } from '../wire/transfer.js';
import { bodyStreamOptions, matchBodyStream } from './body-match-pool.js';

export { htmlToText, decodeQP };

export interface FactField {
  /** Lower-cased field name. */
  lower: string;
  /** Unfolded value with encoded words decoded. */
  value: string;
  /** `fold(value)`, for case-insensitive substring search. */
  folded: string;
  /**
   * Address fields: the parsed addresses, folded, as `name <local@domain>`
   * one per line, comments and folding whitespace gone — so FROM
   * user@domain.org finds `<user (c)@ (c) domain.org>` (RFC 3501 §6.4.4, as Dovecot does).
   */
  addresses?: string;
}

export interface HeaderFacts {
  fields: FactField[];
  /** The whole header (decoded), folded: for TEXT. */
  headerFolded: string;
  /** Date: header as UTC milliseconds, or null when missing or unparsable. */
  sentMs: number | null;
  /** Date: header's calendar day as written (its own zone, RFC 3501 SENT*), as days since 1970-01-01. */
  sentDay: number | null;
  messageId: string | null;
  references: string[];
  inReplyTo: string | null;
}

/** Case folding used for SEARCH matching (RFC 3501 §6.4.4: case-insensitive substring). */
export function fold(s: string): string {
  return s.normalize('NFC').toLowerCase();
}

// ---------------------------------------------------------------------------
// The cache

interface Entry {
  header: HeaderFacts;
  body: string | null;
}

/** 32 MiB on a machine with 8 GB or more (runtime/memory-budget.ts). */
const CACHE_BYTES = cacheShare('headers');
/** Body text longer than this is searched but not cached. */
const MAX_CACHED_BODY = 4 * 1024 * 1024;

function headerCost(h: HeaderFacts): number {
  let n = 256 + h.headerFolded.length * 2;
  for (const f of h.fields) n += 48 + (f.lower.length + f.value.length + f.folded.length + (f.addresses?.length ?? 0)) * 2;
  for (const r of h.references) n += 16 + r.length * 2;
  return n;
}

const cache = new ByteLru<string, Entry>(CACHE_BYTES);

/** Statistics and reset for tests. */
export const factsCache = {
  get bytes(): number {
    return cache.bytes;
  },
  clear(): void {
    cache.clear();
  },
  reads: 0,
};

const keyOf = (mailbox: Mailbox, meta: MessageMeta): string => `${mailbox.maildir.root}\0${meta.basename}`;

/** The header facts of a message (a header-only read on a cache miss). */
export async function headerFacts(mailbox: Mailbox, meta: MessageMeta): Promise<HeaderFacts> {
  const key = keyOf(mailbox, meta);
  const hit = cache.get(key);
  if (hit) return hit.header;
  factsCache.reads++;
  const block = await mailbox.withFile(meta, readHeaderBlock);
  const header = headerFactsOf(parseHeader(block));
  if (mailbox.settled(meta)) cache.set(key, { header, body: null }, headerCost(header));
  return header;
}

/** The decoded, folded text of the message body (all text parts), for BODY and TEXT. */
export async function bodyText(mailbox: Mailbox, meta: MessageMeta): Promise<string> {
  const key = keyOf(mailbox, meta);
  const hit = cache.get(key);
  if (hit?.body != null) return hit.body;
  factsCache.reads++;
  const data = await mailbox.withFile(meta, readCrlf);
  const root = parseMime(data);
  const header = hit?.header ?? headerFactsOf(root.header);
  const body = bodyTextOf(data, root);
  if (!mailbox.settled(meta)) return body; // still being written: not kept
  meta.vsize ??= data.length;
  const kept = body.length <= MAX_CACHED_BODY ? body : null;
  cache.set(key, { header, body: kept }, headerCost(header) + (kept ? kept.length * 2 : 0));
  return body;
}

/**
 * Which of `needles` (folded) the body text contains, as
 * `bodyText().includes(needle)` says, but a message file bigger than
 * bodyStreamOptions.threshold is never read whole: a worker matches it as a
 * stream (body-match.ts), holding a few chunks whatever its size.
 */
export async function bodyMatches(mailbox: Mailbox, meta: MessageMeta, needles: string[]): Promise<boolean[]> {
  const hit = cache.get(keyOf(mailbox, meta));
  const cached = hit?.body;
  if (cached != null) return needles.map((n) => cached.includes(n));
  const size = meta.vsize ?? (await mailbox.withFile(meta, (f) => fs.stat(f))).size;
  if (size > bodyStreamOptions.threshold) {
    factsCache.reads++;
    return mailbox.withFile(meta, (file) => matchBodyStream(file, needles));
  }
  const body = await bodyText(mailbox, meta);
  return needles.map((n) => body.includes(n));
}

/**
 * The header facts and the folded body text of a whole message (LF or CRLF
 * line ends), as headerFacts() and bodyText() give them: for a store that
 * holds its messages in memory.
 */
export function factsOfMessage(message: Buffer): { header: HeaderFacts; body: string } {
  const data = toCrlf(message);
  const root = parseMime(data);
  return { header: headerFactsOf(root.header), body: bodyTextOf(data, root) };
}

function bodyTextOf(data: Buffer, root: MimePart): string {
  const out: string[] = [];
  partText(data, root, out);
  return fold(out.join('\n'));
}

/**
 * The two strings TEXT and BODY match against, from a whole file as stored
 * (LF line ends): `header` is headerFacts().headerFolded (the header block as
 * readHeaderBlock cuts it), `body` is bodyText(). For the text index
 * (text-index*.ts), which must see exactly what the evaluator sees.
 */
export function searchTextsOf(file: Buffer): { header: string; body: string } {
  const head = file.subarray(0, Math.min(file.length, HEADER_MAX));
  const end = headerEnd(head);
  const header = headerFactsOf(parseHeader(end >= 0 ? head.subarray(0, end) : head)).headerFolded;
  const data = toCrlf(file);
  return { header, body: bodyTextOf(data, parseMime(data)) };
}

// ---------------------------------------------------------------------------
// Header

const HEADER_PROBE = 16 * 1024;
const HEADER_MAX = 1024 * 1024;

/** Reads the file up to and including the blank line that ends the header (at most 1 MB). */
async function readHeaderBlock(file: string): Promise<Buffer> {
  const fh = await fs.open(file, READ_MESSAGE);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(HEADER_PROBE);
      const { bytesRead } = await fh.read(buf, 0, HEADER_PROBE, total);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const end = headerEnd(all);
      if (end >= 0) return all.subarray(0, end);
      if (bytesRead < HEADER_PROBE || total >= HEADER_MAX) return all;
    }
    return Buffer.concat(chunks);
  } finally {
    await fh.close();
  }
}

const ADDRESS_FIELDS = new Set(['from', 'sender', 'reply-to', 'to', 'cc', 'bcc']);

function addressLines(raw: string): string {
  const out: string[] = [];
  for (const a of parseAddressList(raw)) {
    if (a.host === null) continue; // group markers
    const addr = `${a.mailbox ?? ''}@${a.host}`;
    out.push(a.name ? `${decodeWords(a.name)} <${addr}>` : addr);
  }
  return out.join('\n');
}

export function headerFactsOf(header: HeaderField[]): HeaderFacts {
  const fields: FactField[] = header.map((f) => {
    const value = decodeWords(f.value);
    // Folding whitespace is collapsed, as in the envelope: SUBJECT "a b" finds a subject folded between a and b.
    const field: FactField = { lower: f.lower, value, folded: fold(value.replace(/\s+/g, ' ')) };
    if (ADDRESS_FIELDS.has(f.lower)) field.addresses = fold(addressLines(f.value));
    return field;
  });
  const date = headerValue(header, 'date');
  const parsed = date === null ? null : parseRfc2822Date(date);
  const refs = headerValue(header, 'references');
  const irt = headerValue(header, 'in-reply-to');
  const mid = headerValue(header, 'message-id');
  return {
    fields,
    headerFolded: fields.map((f) => `${f.lower}: ${f.folded}`).join('\r\n'),
    sentMs: parsed?.ms ?? null,
    sentDay: parsed?.day ?? null,
    messageId: mid === null ? null : (parseMsgIds(mid)[0] ?? null),
    references: refs === null ? [] : parseMsgIds(refs),
    inReplyTo: irt === null ? null : (parseMsgIds(irt)[0] ?? null),
  };
}

export function factValue(h: HeaderFacts, lower: string): string | null {
  for (const f of h.fields) if (f.lower === lower) return f.value;
  return null;
}

// ---------------------------------------------------------------------------
// Body text

function partText(data: Buffer, part: MimePart, out: string[]): void {
  const ct = part.contentType;
  if (part.message) {
    // message/rfc822: the encapsulated header is body text of the outer message
    const inner = part.message;
    out.push(inner.header.map((f) => `${f.name}: ${decodeWords(f.value)}`).join('\r\n'));
    partText(data, inner, out);
    return;
  }
  if (ct.type === 'multipart') {
    for (const child of part.children) partText(data, child, out);
    return;
  }
  if (ct.type !== 'text') return; // attachments (images, octet-streams …) are not text
  out.push(textOfPart(data, part, ct.subtype));
}

/** A text/* leaf part decoded (transfer encoding, charset) to a string; HTML as its text. */
export function textOfPart(data: Buffer, part: MimePart, subtype: string): string {
  const ct = part.contentType;
  const raw = data.subarray(part.bodyStart, part.end);
  const cte = (headerValue(part.header, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  const bytes = cte === 'base64' ? Buffer.from(raw.toString('latin1'), 'base64') : cte === 'quoted-printable' ? decodeQP(raw) : raw;
  const charset = param(ct, 'charset') ?? 'us-ascii';
  let text: string;
  try {
    text = /^(us-ascii|utf-?8|ascii)$/i.test(charset) ? bytes.toString('utf8') : decodeCharset(bytes, charset);
  } catch {
    text = bytes.toString('utf8');
  }
  return subtype === 'html' ? htmlToText(text) : text;
}
