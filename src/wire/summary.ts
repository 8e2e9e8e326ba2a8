// A message's summary: what a client's sync asks of every message, rendered
// once and kept in the folder's index (src/mail/message-index.ts), so a later
// FETCH of ENVELOPE, BODYSTRUCTURE or the usual HEADER.FIELDS, or a SORT or
// THREAD, reads no file.
//
// The header fields kept are all of them except trace and signature fields
// (Received, DKIM-Signature, ARC-*, …) and any single field over 2 KB: no
// client syncs those, and they are most of a header's bytes. Their names are
// kept, so a request that names one of them is answered from the file instead.
//
// The stored form is read in place (no decoding step): a fixed table of
// section offsets, then the sections. A FETCH of 50,000 messages touches each
// record once and copies byte ranges out of it.
import { encode, type StreamLiteral } from './encoder.js';
import { parseMime } from './mime.js';
import { headerValue, headerEnd, type HeaderField } from './header.js';
import { decodeWords, parseMsgIds, parseRfc2822Date } from './header-values.js';
import { envelope } from './envelope.js';
import { bodystructure } from './bodystructure.js';
import { baseSubject, type BaseSubject } from './base-subject.js';

/**
 * What SORT and THREAD compare. The subject is decoded (RFC 2047) as SEARCH
 * decodes it; From, To and Cc are kept as written and decoded only by a SORT
 * on them (decoding every address at summary time was a quarter of its cost).
 */
export interface SortFacts {
  /** Date: header in UTC ms, or null when missing or unparsable. */
  sentMs: number | null;
  subject: string | null;
  /** RFC 5256 base subject of `subject`, and whether it was a reply or forward (THREAD, SORT SUBJECT). */
  base: BaseSubject;
  fromRaw: string | null;
  toRaw: string | null;
  ccRaw: string | null;
  messageId: string | null;
  references: string[];
  inReplyTo: string | null;
}

const DROPPED = new Set([
  'received',
  'x-received',
  'dkim-signature',
  'x-google-dkim-signature',
  'domainkey-signature',
  'arc-seal',
  'arc-message-signature',
  'arc-authentication-results',
  'authentication-results',
  'received-spf',
  'x-google-smtp-source',
  'x-gm-message-state',
]);
const MAX_KEPT_FIELD = 2048;
/**
 * A header of more fields than this keeps none (HEADER.FIELDS goes to the
 * file): 100,000 `To:` lines made a 2.6 MB summary, kept in the index and
 * copied out of the loader thread (issue 13 F). Real mail has a few dozen.
 */
const MAX_KEPT_FIELDS = 1000;
/** From, To and Cc are kept for SORT, which reads only their first address: the first 16 KiB of each do. */
const MAX_RAW_FACT = 16 * 1024;
const PLAIN_NAME = /^[\x21-\x39\x3b-\x7e]{1,200}$/;
/** In the dropped list: any field may be missing from the kept ones. */
const ANY = '*';
const CRLF = Buffer.from('\r\n');

// Sections of the stored form, in order.
const ENVELOPE = 0;
const BODY = 1;
const BODYSTRUCTURE = 2;
const FIELDS = 3; // kept fields, raw, concatenated
const LENGTHS = 4; // u32 byte length of each kept field
const NAMES = 5; // lower-case names of the kept fields, "\n"-separated, then "\0" (latin1)
const DROPPED_NAMES = 6; // "\n"-separated, or "*"
const SORT = 7; // SortFacts as JSON
const SECTIONS = 8;
const VERSION = 4;

// u8 version, u8 blankLine, u8 HAS_* bits, u8 reserved, u32 headerLen, f64 sentMs, then SECTIONS × (u32 offset, u32 length)
const TABLE = 16;
const HAS_STRUCTURE = 1;
const HAS_ENVELOPE = 2;
const HEAD = TABLE + SECTIONS * 8;

/**
 * Renders the stored form of a message's summary. `crlf` is the whole CRLF
 * message, or (`structure` false) at least its header block: then BODY and
 * BODYSTRUCTURE are left out, which spares the walk over the body that a
 * first header sync does not need; ENVELOPE is left out unless asked for.
 */
export function summarize(crlf: Buffer, structure = true, withEnvelope = true): Buffer {
  const root = parseMime(structure ? crlf : crlf.subarray(0, headerBlockEnd(crlf)));
  const kept: Buffer[] = [];
  const names: string[] = [];
  let dropped: string[] = [];
  for (const f of root.header) {
    if (!PLAIN_NAME.test(f.lower) || names.length >= MAX_KEPT_FIELDS) {
      // A name we could not store faithfully, or too many fields: every HEADER.FIELDS of this message goes to the file.
      kept.length = 0;
      names.length = 0;
      dropped = [ANY];
      break;
    }
    if (DROPPED.has(f.lower) || f.raw.length > MAX_KEPT_FIELD) dropped.push(f.lower);
    else {
      kept.push(f.raw[f.raw.length - 1] === 0x0a ? f.raw : Buffer.concat([f.raw, CRLF]));
      names.push(f.lower);
    }
  }
  const lengths = Buffer.allocUnsafe(kept.length * 4);
  kept.forEach((k, i) => lengths.writeUInt32LE(k.length, i * 4));
  const facts = sortFactsOf(root.header);
  const sections = [
    withEnvelope || structure ? wire(envelope(root.header)) : Buffer.alloc(0),
    structure ? wire(bodystructure(root, false)) : Buffer.alloc(0),
    structure ? wire(bodystructure(root, true)) : Buffer.alloc(0),
    Buffer.concat(kept),
    lengths,
    Buffer.from(names.join('\n') + '\0', 'latin1'),
    Buffer.from([...new Set(dropped)].join('\n'), 'latin1'),
    Buffer.from(JSON.stringify(facts), 'utf8'),
  ];
  const head = Buffer.alloc(HEAD);
  head.writeUInt8(VERSION, 0);
  head.writeUInt8(root.blankLine ? 1 : 0, 1);
  head.writeUInt8((structure ? HAS_STRUCTURE : 0) | (withEnvelope || structure ? HAS_ENVELOPE : 0), 2);
  head.writeUInt32LE(root.bodyStart, 4);
  head.writeDoubleLE(facts.sentMs ?? NaN, 8);
  let at = HEAD;
  sections.forEach((s, i) => {
    head.writeUInt32LE(at, TABLE + i * 8);
    head.writeUInt32LE(s.length, TABLE + i * 8 + 4);
    at += s.length;
  });
  return Buffer.concat([head, ...sections], at);
}

function sortFactsOf(header: HeaderField[]): SortFacts {
  const value = (name: string): string | null => {
    const v = headerValue(header, name);
    return v === null ? null : decodeWords(v);
  };
  const date = headerValue(header, 'date');
  const refs = headerValue(header, 'references');
  const irt = headerValue(header, 'in-reply-to');
  const mid = headerValue(header, 'message-id');
  const subject = value('subject');
  return {
    sentMs: date === null ? null : (parseRfc2822Date(date)?.ms ?? null),
    subject,
    base: baseSubject(subject ?? ''),
    fromRaw: firstPart(headerValue(header, 'from')),
    toRaw: firstPart(headerValue(header, 'to')),
    ccRaw: firstPart(headerValue(header, 'cc')),
    messageId: mid === null ? null : (parseMsgIds(mid)[0] ?? null),
    references: refs === null ? [] : parseMsgIds(refs),
    inReplyTo: irt === null ? null : (parseMsgIds(irt)[0] ?? null),
  };
}

function firstPart(v: string | null): string | null {
  return v !== null && v.length > MAX_RAW_FACT ? v.slice(0, MAX_RAW_FACT) : v;
}

function wire(value: Parameters<typeof encode>[0]): Buffer {
  const out: Array<string | Buffer | StreamLiteral> = [];
  encode(value, out);
  // Strings are UTF-8, as the connection writes them (a pre-encoded address list may carry 8-bit text).
  // Runs of strings are joined first: one Buffer per run, not per token.
  const parts: Buffer[] = [];
  let text = '';
  for (const c of out) {
    if (typeof c === 'string') text += c;
    else {
      parts.push(Buffer.from(text, 'utf8'), c as Buffer);
      text = '';
    }
  }
  if (!parts.length) return Buffer.from(text, 'utf8');
  parts.push(Buffer.from(text, 'utf8'));
  return Buffer.concat(parts);
}

/** A stored summary, read in place. */
export class StoredSummary {
  private constructor(readonly b: Buffer) {}

  /** Null for a record this version cannot read (it is then summarised again). */
  static from(b: Buffer): StoredSummary | null {
    if (b.length < HEAD || b[0] !== VERSION) return null;
    const end = b.readUInt32LE(TABLE + (SECTIONS - 1) * 8) + b.readUInt32LE(TABLE + (SECTIONS - 1) * 8 + 4);
    return end === b.length ? new StoredSummary(b) : null;
  }

  get headerLen(): number {
    return this.b.readUInt32LE(4);
  }

  get blankLine(): boolean {
    return this.b[1] === 1;
  }

  /** Whether BODY and BODYSTRUCTURE are stored (else only what the header gives). */
  get hasStructure(): boolean {
    return (this.b[2] & HAS_STRUCTURE) !== 0;
  }

  get hasEnvelope(): boolean {
    return (this.b[2] & HAS_ENVELOPE) !== 0;
  }

  get sentMs(): number | null {
    const v = this.b.readDoubleLE(8);
    return Number.isNaN(v) ? null : v;
  }

  start(section: number): number {
    return this.b.readUInt32LE(TABLE + section * 8);
  }

  end(section: number): number {
    return this.start(section) + this.b.readUInt32LE(TABLE + section * 8 + 4);
  }

  get envelope(): Buffer {
    return this.section(ENVELOPE);
  }
  get body(): Buffer {
    return this.section(BODY);
  }
  get bodystructure(): Buffer {
    return this.section(BODYSTRUCTURE);
  }
  private facts: SortFacts | undefined;

  /** Parsed once and kept: THREAD and SORT read them for every message each time. */
  get sortFacts(): SortFacts {
    return (this.facts ??= JSON.parse(this.b.toString('utf8', this.start(SORT), this.end(SORT))) as SortFacts);
  }

  /**
   * What THREAD reads: the base subject, Message-ID, References and
   * In-Reply-To, read from the stored JSON's bytes in place: only their own
   * strings are made (a JSON.parse of the text and the objects it made were
   * most of a THREAD's time and garbage). JSON.stringify wrote the keys in
   * sortFactsOf's order; anything else (or an escape in a string) is read
   * the slow way.
   */
  get threadFacts(): Pick<SortFacts, 'base' | 'messageId' | 'references' | 'inReplyTo'> {
    if (this.facts) return this.facts;
    try {
      return readThreadFacts(this.b, this.start(SORT), this.end(SORT));
    } catch {
      return this.sortFacts;
    }
  }

  section(i: number): Buffer {
    return this.b.subarray(this.start(i), this.end(i));
  }

  /** Where the field names and dropped names are (what a field selection depends on). */
  get shapeStart(): number {
    return this.start(NAMES);
  }
  get shapeEnd(): number {
    return this.end(DROPPED_NAMES);
  }
}

/**
 * One HEADER.FIELDS[.NOT] request, answered from stored summaries. Messages
 * with the same field names (most of a folder) share one selection.
 */
export class FieldSelector {
  private readonly memo = new Map<string, number[] | null>();
  /** The field names of the last summary seen, and its picks: most of a folder shares them, so most messages need one byte compare. */
  private lastShape: Buffer | null = null;
  private lastPicks: number[] | null = null;

  constructor(
    readonly wanted: Set<string>,
    readonly not: boolean,
  ) {}

  /**
   * Byte ranges of `s.b` that make up the answer (the blank line not
   * included), or null when a wanted field may not be stored.
   */
  ranges(s: StoredSummary): number[] | null {
    const start = s.shapeStart;
    const end = s.shapeEnd;
    let picks: number[] | null | undefined;
    if (this.lastShape && this.lastShape.compare(s.b, start, end) === 0) picks = this.lastPicks;
    else {
      const shape = s.b.toString('latin1', start, end);
      picks = this.memo.get(shape);
      if (picks === undefined) {
        picks = this.pick(s);
        if (this.memo.size < 10_000) this.memo.set(shape, picks);
      }
      this.lastShape = Buffer.from(s.b.subarray(start, end));
      this.lastPicks = picks;
    }
    if (picks === null) return null;
    // picks: indices of kept fields to include; turn them into merged byte ranges.
    const out: number[] = [];
    const lengths = s.start(LENGTHS);
    let pos = s.start(FIELDS);
    let k = 0;
    const count = (s.end(LENGTHS) - lengths) / 4;
    for (let i = 0; i < count && k < picks.length; i++) {
      const len = s.b.readUInt32LE(lengths + i * 4);
      if (picks[k] === i) {
        k++;
        if (out.length && out[out.length - 1] === pos) out[out.length - 1] = pos + len;
        else out.push(pos, pos + len);
      }
      pos += len;
    }
    return out;
  }

  private pick(s: StoredSummary): number[] | null {
    const droppedText = s.b.toString('latin1', s.start(DROPPED_NAMES), s.end(DROPPED_NAMES));
    const dropped = droppedText ? droppedText.split('\n') : [];
    if (dropped.includes(ANY)) return null;
    // HEADER.FIELDS: no wanted field may have been dropped. HEADER.FIELDS.NOT: every dropped one must be excluded.
    if (this.not ? dropped.some((d) => !this.wanted.has(d)) : dropped.some((d) => this.wanted.has(d))) return null;
    const namesText = s.b.toString('latin1', s.start(NAMES), s.end(NAMES) - 1);
    const names = namesText ? namesText.split('\n') : [];
    const picks: number[] = [];
    names.forEach((n, i) => {
      if (this.wanted.has(n) !== this.not) picks.push(i);
    });
    return picks;
  }
}

/** The whole answer as one buffer (what the fast path writes in ranges; for tests). */
export function headerFieldsFrom(s: StoredSummary, sel: FieldSelector): Buffer | null {
  const r = sel.ranges(s);
  if (!r) return null;
  const parts: Buffer[] = [];
  for (let i = 0; i < r.length; i += 2) parts.push(s.b.subarray(r[i], r[i + 1]));
  if (s.blankLine) parts.push(CRLF);
  return Buffer.concat(parts);
}

/** Offset just after the blank line that ends the header, or the whole length when there is none. */
export function headerBlockEnd(b: Buffer): number {
  const end = headerEnd(b);
  return end < 0 ? b.length : end;
}

// Reading THREAD's facts from the stored JSON in place (StoredSummary.threadFacts).
const BASE_OPEN = Buffer.from(',"base":{"base":');
const REPLY_KEY = Buffer.from(',"replyOrFwd":');
const MESSAGE_ID_KEY = Buffer.from(',"messageId":');
const REFERENCES_OPEN = Buffer.from(',"references":[');
const IN_REPLY_TO_KEY = Buffer.from(',"inReplyTo":');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Where the last string read ended (just past its closing quote, or past `null`). */
let cursor = 0;

function expectAt(b: Buffer, at: number, key: Buffer): number {
  if (b.compare(key, 0, key.length, at, at + key.length) !== 0) throw new SyntaxError('unexpected sort facts layout');
  return at + key.length;
}

/** The JSON string whose opening quote is at `at`; escaped ones go through JSON.parse. */
function jsonString(b: Buffer, at: number): string {
  if (b[at] !== QUOTE) throw new SyntaxError('expected a string');
  const close = b.indexOf(QUOTE, at + 1);
  const escape = b.indexOf(BACKSLASH, at + 1);
  if (close < 0) throw new SyntaxError('unterminated string');
  if (escape < 0 || escape > close) {
    cursor = close + 1;
    return b.toString('utf8', at + 1, close);
  }
  let i = at + 1;
  while (i < b.length && b[i] !== QUOTE) i += b[i] === BACKSLASH ? 2 : 1;
  cursor = i + 1;
  return JSON.parse(b.toString('utf8', at, i + 1)) as string;
}

function jsonStringOrNull(b: Buffer, at: number): string | null {
  if (b[at] !== 0x6e) return jsonString(b, at); // n(ull)
  cursor = at + 4;
  return null;
}

function readThreadFacts(b: Buffer, start: number, end: number): Pick<SortFacts, 'base' | 'messageId' | 'references' | 'inReplyTo'> {
  const at = b.indexOf(BASE_OPEN, start);
  if (at < 0 || at >= end) throw new SyntaxError('no base subject');
  const base = jsonString(b, at + BASE_OPEN.length);
  const replyOrFwd = b[expectAt(b, cursor, REPLY_KEY)] === 0x74; // t(rue)
  const mid = b.indexOf(MESSAGE_ID_KEY, cursor);
  if (mid < 0 || mid >= end) throw new SyntaxError('no Message-ID key');
  const messageId = jsonStringOrNull(b, mid + MESSAGE_ID_KEY.length);
  let i = expectAt(b, cursor, REFERENCES_OPEN);
  const references: string[] = [];
  while (b[i] !== 0x5d) {
    // ]
    if (references.length) i = b[i] === 0x2c ? i + 1 : -1; // ,
    references.push(jsonString(b, i));
    i = cursor;
  }
  const inReplyTo = jsonStringOrNull(b, expectAt(b, i + 1, IN_REPLY_TO_KEY));
  if (cursor + 1 !== end || b[cursor] !== 0x7d) throw new SyntaxError('trailing sort facts'); // }
  return { base: { base, replyOrFwd }, messageId, references, inReplyTo };
}
