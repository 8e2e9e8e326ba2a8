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
import { ByteInterner } from './byte-interner.js';
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
const NO_BYTES = Buffer.alloc(0);
/** Field-name shapes a FieldSelector remembers the picks of. */
const MAX_SHAPES = 10_000;

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

/**
 * A stored summary, read in place: bytes b[o, o + its length). Positions it
 * gives (start, end, FieldSelector's ranges) are positions in `b`.
 */
export class StoredSummary {
  private constructor(
    /** The buffer the summary is in (with others around it, for a reader). */
    public b: Buffer,
    private o: number,
  ) {}

  /** Null for a record this version cannot read (it is then summarised again). */
  static from(b: Buffer): StoredSummary | null {
    const s = new StoredSummary(b, 0);
    return s.readable(b.length) ? s : null;
  }

  /**
   * One StoredSummary pointed at record after record (`at`), for a loop over
   * a whole folder's index: an object and a subarray per message were a good
   * part of a THREAD's garbage. Nothing read from it may be kept past the
   * next `at` but copies (numbers, strings, parsed facts).
   */
  static reader(): StoredSummary {
    return new StoredSummary(NO_BYTES, 0);
  }

  /** Reads the summary in b[start, end) from now on; false (and nothing to read) when this version cannot read it. */
  at(b: Buffer, start: number, end: number): boolean {
    this.b = b;
    this.o = start;
    this.facts = undefined;
    return this.readable(end - start);
  }

  private readable(len: number): boolean {
    if (len < HEAD || this.b[this.o] !== VERSION) return false;
    const last = this.o + TABLE + (SECTIONS - 1) * 8;
    return this.b.readUInt32LE(last) + this.b.readUInt32LE(last + 4) === len;
  }

  get headerLen(): number {
    return this.b.readUInt32LE(this.o + 4);
  }

  get blankLine(): boolean {
    return this.b[this.o + 1] === 1;
  }

  /** Whether BODY and BODYSTRUCTURE are stored (else only what the header gives). */
  get hasStructure(): boolean {
    return (this.b[this.o + 2] & HAS_STRUCTURE) !== 0;
  }

  get hasEnvelope(): boolean {
    return (this.b[this.o + 2] & HAS_ENVELOPE) !== 0;
  }

  get sentMs(): number | null {
    const v = this.b.readDoubleLE(this.o + 8);
    return Number.isNaN(v) ? null : v;
  }

  /** Where a section starts in `b`. */
  start(section: number): number {
    return this.o + this.b.readUInt32LE(this.o + TABLE + section * 8);
  }

  end(section: number): number {
    return this.start(section) + this.b.readUInt32LE(this.o + TABLE + section * 8 + 4);
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
   * What THREAD reads (the base subject, Message-ID, References and
   * In-Reply-To) as numbers from `ids` and `subjects` (an interner of base
   * subjects: THREAD's folds them, as it compares them), read from the stored
   * JSON's bytes in place: no string is made for them (a JSON.parse, and
   * later a string per id, were most of a THREAD's time and garbage).
   * JSON.stringify wrote the keys in sortFactsOf's order; anything else is
   * read the slow way.
   */
  threadFactsInto(ids: ByteInterner, subjects: ByteInterner, out: ThreadFactNumbers): void {
    if (!this.facts) {
      try {
        return readThreadFactsInto(this.b, this.start(SORT), this.end(SORT), ids, subjects, out);
      } catch {
        // not the layout expected: below
      }
    }
    out.fromFacts(this.sortFacts, ids, subjects);
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
  /** Field-name shapes seen (the NAMES and DROPPED_NAMES sections' bytes), numbered, and their picks by number. */
  private readonly shapes = new ByteInterner();
  private readonly picksOf: Array<number[] | null> = [];
  /**
   * The last shape seen of each byte length: a folder's messages share a few
   * shapes, so one native comparison usually finds the number without
   * hashing hundreds of bytes per message.
   */
  private readonly byLength = new Map<number, number>();
  /** What ranges() returns, reused: valid until its next call. */
  private readonly out: number[] = [];

  constructor(
    readonly wanted: Set<string>,
    readonly not: boolean,
  ) {}

  /**
   * Byte ranges of `s.b` that make up the answer (the blank line not
   * included), or null when a wanted field may not be stored. The array is
   * this selector's own, overwritten by the next call.
   */
  ranges(s: StoredSummary): number[] | null {
    const start = s.shapeStart;
    const end = s.shapeEnd;
    let picks: number[] | null;
    // A folder has a few hundred shapes at most; past 10,000 (a hostile one) they are worked out each time.
    if (this.shapes.count < MAX_SHAPES) {
      const seen = this.byLength.get(end - start);
      const id = seen !== undefined && this.shapes.equals(seen, s.b, start, end) ? seen : this.shapes.intern(s.b, start, end);
      this.byLength.set(end - start, id);
      if (id === this.picksOf.length) this.picksOf.push(this.pick(s));
      picks = this.picksOf[id];
    } else picks = this.pick(s);
    if (picks === null) return null;
    // picks: indices of kept fields to include; turn them into merged byte ranges.
    // Written by index, the length set at the end: `length = 0` would drop the array's store every call.
    const out = this.out;
    let n = 0;
    const lengths = s.start(LENGTHS);
    let pos = s.start(FIELDS);
    let k = 0;
    const count = (s.end(LENGTHS) - lengths) / 4;
    for (let i = 0; i < count && k < picks.length; i++) {
      const len = s.b.readUInt32LE(lengths + i * 4);
      if (picks[k] === i) {
        k++;
        if (n && out[n - 1] === pos) out[n - 1] = pos + len;
        else {
          out[n++] = pos;
          out[n++] = pos + len;
        }
      }
      pos += len;
    }
    out.length = n;
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

/** One message's THREAD facts as interned numbers (StoredSummary.threadFactsInto); -1 for a missing id. */
export class ThreadFactNumbers {
  /** The base subject's. */
  subject = -1;
  replyOrFwd = false;
  messageId = -1;
  inReplyTo = -1;
  /** The References ids are refs[0] to refs[refCount - 1]. */
  refs = new Int32Array(64);
  refCount = 0;

  /** Sets these numbers from the facts as strings (a parsed summary, or a list given by a caller). */
  fromFacts(f: Pick<SortFacts, 'base' | 'messageId' | 'references' | 'inReplyTo'>, ids: ByteInterner, subjects: ByteInterner): void {
    this.subject = subjects.internString(f.base.base);
    this.replyOrFwd = f.base.replyOrFwd;
    this.messageId = f.messageId === null ? -1 : ids.internString(f.messageId);
    this.refCount = 0;
    for (const r of f.references) this.pushRef(ids.internString(r));
    this.inReplyTo = f.inReplyTo === null ? -1 : ids.internString(f.inReplyTo);
  }

  pushRef(id: number): void {
    if (this.refCount === this.refs.length) {
      const more = new Int32Array(this.refs.length * 2);
      more.set(this.refs);
      this.refs = more;
    }
    this.refs[this.refCount++] = id;
  }
}

// Reading THREAD's facts from the stored JSON in place (StoredSummary.threadFactsInto).
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
  // A loop: the keys are a dozen bytes, less than a native compare's call costs.
  for (let i = 0; i < key.length; i++) if (b[at + i] !== key[i]) throw new SyntaxError('unexpected sort facts layout');
  return at + key.length;
}

/** The number in `table` of the JSON string whose opening quote is at `at`; an escaped one is decoded first. */
function jsonText(b: Buffer, at: number, table: ByteInterner): number {
  if (b[at] !== QUOTE) throw new SyntaxError('expected a string');
  const close = b.indexOf(QUOTE, at + 1);
  if (close < 0) throw new SyntaxError('unterminated string');
  // A backslash before the first quote (looked for up to it only: indexOf would search the rest of the read buffer).
  let escaped = false;
  for (let i = at + 1; i < close && !escaped; i++) escaped = b[i] === BACKSLASH;
  if (!escaped) {
    cursor = close + 1;
    return table.intern(b, at + 1, close);
  }
  let i = at + 1;
  while (i < b.length && b[i] !== QUOTE) i += b[i] === BACKSLASH ? 2 : 1;
  cursor = i + 1;
  return table.internString(JSON.parse(b.toString('utf8', at, i + 1)) as string);
}

function jsonTextOrNull(b: Buffer, at: number, table: ByteInterner): number {
  if (b[at] !== 0x6e) return jsonText(b, at, table); // n(ull)
  cursor = at + 4;
  return -1;
}

function readThreadFactsInto(b: Buffer, start: number, end: number, ids: ByteInterner, subjects: ByteInterner, out: ThreadFactNumbers): void {
  const at = b.indexOf(BASE_OPEN, start);
  if (at < 0 || at >= end) throw new SyntaxError('no base subject');
  // The keys THREAD needs are looked for first; a layout refused half-way leaves a number or two no message uses (harmless).
  const mid = b.indexOf(MESSAGE_ID_KEY, at);
  if (mid < 0 || mid >= end || b[end - 1] !== 0x7d) throw new SyntaxError('not the layout written');
  out.subject = jsonText(b, at + BASE_OPEN.length, subjects);
  out.replyOrFwd = b[expectAt(b, cursor, REPLY_KEY)] === 0x74; // t(rue)
  out.messageId = jsonTextOrNull(b, mid + MESSAGE_ID_KEY.length, ids);
  let i = expectAt(b, cursor, REFERENCES_OPEN);
  out.refCount = 0;
  while (b[i] !== 0x5d) {
    // ]
    if (out.refCount) i = b[i] === 0x2c ? i + 1 : -1; // ,
    out.pushRef(jsonText(b, i, ids));
    i = cursor;
  }
  out.inReplyTo = jsonTextOrNull(b, expectAt(b, i + 1, IN_REPLY_TO_KEY), ids);
  if (cursor + 1 !== end) throw new SyntaxError('trailing sort facts');
}
