// MIME structure of a CRLF message (RFC 2045/2046): part offsets, headers and
// content types, found in one linear pass over the bytes. Boundary handling
// follows RFC 2046 §5.1.1 and Dovecot's message-parser: a delimiter line only
// has to START with "--boundary", the longest active boundary wins (so nested
// boundaries that are prefixes of each other work), and an outer boundary
// also ends every inner part.

import { type HeaderField, headerValue, parseHeader } from './header.js';

export interface ContentType {
  /** Lower-cased. */
  type: string;
  subtype: string;
  /** In order; names lower-cased, values as written (unquoted). */
  params: Array<[string, string]>;
}

export interface MimePart {
  headerStart: number;
  /** Just after the blank line that ends the header (or where the header was cut off). */
  bodyStart: number;
  /** Exclusive. The CRLF before a boundary line belongs to the boundary. */
  end: number;
  header: HeaderField[];
  /**
   * Whether the header ended with an empty line. Not when the message is only
   * a header, or when a boundary line cut it off: then HEADER.FIELDS has no
   * blank line either (RFC 3501 §6.4.5).
   */
  blankLine: boolean;
  contentType: ContentType;
  /** LF count of the body, as IMAP/Dovecot report it. */
  bodyLines: number;
  children: MimePart[];
  /** message/rfc822 and message/global: the encapsulated message (absolute offsets). */
  message: MimePart | null;
  /** A multipart (with a boundary) or message part that parseMime's limits left unopened: its body is opaque. */
  unopened: boolean;
}

// ---------------------------------------------------------------------------
// Structured header values: Content-Type, Content-Disposition (RFC 2045, 2231)

/** A header value like `type/subtype; a=b` with names and values as written. */
export interface RawContentType {
  type: string;
  subtype: string;
  params: Array<[string, string]>;
  /** False when "type/subtype" did not parse: params are then not read (Dovecot sends NIL). */
  valid: boolean;
}

const TSPECIALS = '()<>@,;:\\"/[]?=';

/** A tiny RFC 2045 lexer: tokens, quoted strings, comments and whitespace. */
export class Lexer {
  i = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string {
    return this.s[this.i] ?? '';
  }
  /** Skips whitespace and (nested) comments; returns the text of the last comment seen. */
  skipCFWS(): string | null {
    let comment: string | null = null;
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.i++;
      else if (c === '(') comment = this.comment();
      else return comment;
    }
  }
  private comment(): string {
    const start = ++this.i;
    let depth = 1;
    while (this.i < this.s.length) {
      const c = this.s[this.i++];
      if (c === '\\') this.i++;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return this.s.slice(start, this.i - 1);
    }
    return this.s.slice(start);
  }
  /** RFC 2045 token (8-bit characters allowed); '' when none. */
  token(): string {
    const start = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c <= 0x20 || c === 0x7f || TSPECIALS.includes(this.s[this.i])) break;
      this.i++;
    }
    return this.s.slice(start, this.i);
  }
  /** Quoted string at the cursor, unescaped and unfolded; null when unterminated. */
  quoted(): string | null {
    let out = '';
    for (let j = this.i + 1; j < this.s.length; j++) {
      const c = this.s[j];
      if (c === '"') {
        this.i = j + 1;
        return out;
      }
      if (c === '\\' && j + 1 < this.s.length) out += this.s[++j];
      else if (c !== '\r' && c !== '\n') out += c;
    }
    return null;
  }
}

/** `; name=value` pairs from the cursor; stops quietly at the first malformed one. */
export function parseParams(lx: Lexer): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (;;) {
    lx.skipCFWS();
    if (lx.peek() !== ';') break;
    lx.i++;
    lx.skipCFWS();
    const name = lx.token();
    if (name === '') break;
    lx.skipCFWS();
    if (lx.peek() !== '=') break;
    lx.i++;
    lx.skipCFWS();
    const value = lx.peek() === '"' ? lx.quoted() : lx.token();
    if (value === null) break;
    out.push([name, value]);
  }
  return mergeRfc2231(out);
}

/**
 * RFC 2231 continuations (`name*0`, `name*1*` …) are joined, as Dovecot's
 * rfc2231-parser does: plain parameters first in order, then the continued
 * ones sorted by name (case-sensitively) and index. Segments are joined only
 * when their indexes run 0, 1, 2 … without a gap (names compared without
 * case); otherwise each is passed on as written (`y*0`, `y*2`). If any
 * segment is extended (`*` suffix) the result is `name*` with the value still
 * %-encoded, and starts with `''` (no charset, no language: RFC 2231 §4's
 * extended-initial-value) when the first segment was not itself extended.
 */
function mergeRfc2231(params: Array<[string, string]>): Array<[string, string]> {
  const plain: Array<[string, string]> = [];
  const segs: Array<{ name: string; idx: number; ext: boolean; value: string }> = [];
  for (const [key, value] of params) {
    const m = /^([^*]*)\*(?:(\d+)(\*)?)?$/.exec(key);
    if (!m) {
      plain.push([key, value]);
      continue;
    }
    segs.push({ name: m[1], idx: m[2] === undefined ? 0 : Number(m[2]), ext: m[2] === undefined || m[3] === '*', value });
  }
  segs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.idx - b.idx));
  for (let i = 0, next = 0; i < segs.length; i = next) {
    const lower = segs[i].name.toLowerCase();
    for (next = i; next < segs.length && segs[next].name.toLowerCase() === lower; next++);
    const group = segs.slice(i, next);
    if (group.some((g, k) => g.idx !== k)) {
      for (const g of group) plain.push([`${g.name}*${g.idx}${g.ext ? '*' : ''}`, g.value]);
      continue;
    }
    const anyExtended = group.some((g) => g.ext);
    let value = anyExtended && !group[0].ext ? "''" : '';
    for (const g of group) value += anyExtended && !g.ext ? g.value.replace(/[^A-Za-z0-9!#$&+.^_`{|}~-]/g, pct) : g.value;
    plain.push([anyExtended ? group[0].name + '*' : group[0].name, value]);
  }
  return plain;
}

function pct(c: string): string {
  return [...Buffer.from(c)].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
}

/** Content-Type with case kept as written (what BODYSTRUCTURE sends, like Dovecot). */
export function parseRawContentType(value: string): RawContentType {
  const lx = new Lexer(value);
  lx.skipCFWS();
  const type = lx.token();
  lx.skipCFWS();
  if (lx.peek() !== '/') return { type, subtype: '', params: [], valid: false };
  lx.i++;
  lx.skipCFWS();
  const subtype = lx.token();
  if (type === '' || subtype === '') return { type: '', subtype: '', params: [], valid: false };
  return { type, subtype, params: parseParams(lx), valid: true };
}

/** A `token; params` header such as Content-Disposition; null when there is no token. */
export function parseTokenParams(value: string): { token: string; params: Array<[string, string]> } | null {
  const lx = new Lexer(value);
  lx.skipCFWS();
  const token = lx.token();
  return token === '' ? null : { token, params: parseParams(lx) };
}

/** The lower-cased Content-Type of a part; `digestChild` changes the default (RFC 2046 §5.1.5). */
export function parseContentType(value: string | null, digestChild = false): ContentType {
  const raw = value === null ? null : parseRawContentType(value);
  if (raw === null || !raw.valid) {
    if (raw === null && digestChild) return { type: 'message', subtype: 'rfc822', params: [] };
    return { type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']] };
  }
  return {
    type: raw.type.toLowerCase(),
    subtype: raw.subtype.toLowerCase(),
    params: raw.params.map(([k, v]) => [k.toLowerCase(), v]),
  };
}

export function param(ct: ContentType, name: string): string | null {
  for (const [k, v] of ct.params) if (k === name) return v;
  return null;
}

// ---------------------------------------------------------------------------
// The structure walk

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const NL_DASHES = Buffer.from('\n--');

/** A boundary line found in the buffer. */
interface Delimiter {
  lineStart: number;
  lineEnd: number; // after its LF (or EOF)
  level: number; // index in the boundary stack
  close: boolean;
}

class Part implements MimePart {
  children: MimePart[] = [];
  message: MimePart | null = null;
  unopened = false;
  end = 0;
  /** Start of the line where the header scan stopped: the blank line, a boundary line that cut the header off, or EOF. */
  headerScanEnd = 0;
  private lines = -1;
  constructor(
    private readonly buf: Buffer,
    readonly headerStart: number,
    readonly bodyStart: number,
    readonly header: HeaderField[],
    readonly contentType: ContentType,
    readonly blankLine: boolean,
  ) {}
  /** Counted on first use so that parsing stays one pass over big attachments. */
  get bodyLines(): number {
    if (this.lines < 0) {
      let n = 0;
      for (let p = this.buf.indexOf(LF, this.bodyStart); p >= 0 && p < this.end; p = this.buf.indexOf(LF, p + 1)) n++;
      this.lines = n;
    }
    return this.lines;
  }
}

class Walker {
  private readonly stack: Buffer[] = []; // "--boundary" of each open multipart, outermost first
  /** Parts made so far, the top one included. */
  private parts = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly maxDepth: number,
    private readonly maxParts: number,
  ) {}

  /** Once `maxParts` parts exist no boundary is recognised any more: the part being read runs to EOF, and so do its ancestors. */
  private get full(): boolean {
    return this.parts >= this.maxParts;
  }

  private lineEnd(p: number): number {
    const lf = this.buf.indexOf(LF, p);
    return lf < 0 ? this.buf.length : lf + 1;
  }

  /** The boundary line starting at `p`, if any: longest matching delimiter, innermost on ties. */
  private delimiterAt(p: number): Delimiter | null {
    const b = this.buf;
    if (b[p] !== DASH || b[p + 1] !== DASH || this.full) return null;
    let level = -1;
    for (let k = this.stack.length - 1; k >= 0; k--) {
      const d = this.stack[k];
      if ((level < 0 || d.length > this.stack[level].length) && p + d.length <= b.length && b.compare(d, 0, d.length, p, p + d.length) === 0) level = k;
    }
    if (level < 0) return null;
    const after = p + this.stack[level].length;
    return { lineStart: p, lineEnd: this.lineEnd(p), level, close: b[after] === DASH && b[after + 1] === DASH };
  }

  /** The next boundary line at or after line start `p`; null means the part runs to EOF. */
  private nextDelimiter(p: number): Delimiter | null {
    if (this.stack.length === 0 || this.full) return null;
    const here = this.delimiterAt(p);
    if (here) return here;
    for (let nl = this.buf.indexOf(NL_DASHES, p); nl >= 0; nl = this.buf.indexOf(NL_DASHES, nl + 1)) {
      const d = this.delimiterAt(nl + 1);
      if (d) return d;
    }
    return null;
  }

  /** Parses the part starting at `start`; returns it and the delimiter that ended it. */
  part(start: number, depth: number, digestChild: boolean): { part: Part; term: Delimiter | null } {
    const b = this.buf;
    this.parts++;
    let p = start;
    let bodyStart = b.length;
    let blankLine = false;
    while (p < b.length) {
      // the header ends at the empty line, or is cut off by a boundary line,
      // whose preceding line break is the boundary's (RFC 2046 §5.1.1)
      const blank = b[p] === LF ? 1 : b[p] === CR && b[p + 1] === LF ? 2 : 0;
      if (blank > 0) {
        bodyStart = p + blank;
        blankLine = true;
        break;
      }
      if (this.delimiterAt(p)) {
        bodyStart = Math.max(start, crlfBefore(b, p));
        break;
      }
      p = this.lineEnd(p);
    }
    const header = parseHeader(b.subarray(start, bodyStart));
    const ct = parseContentType(headerValue(header, 'content-type'), digestChild);
    const part = new Part(b, start, bodyStart, header, ct, blankLine);
    part.headerScanEnd = Math.min(p, b.length);

    let term: Delimiter | null;
    // the part's end is the line break before `term`, but never before `minEnd`
    // (a line break that ends a close delimiter or a header line is not the boundary's)
    let minEnd = bodyStart;
    const boundary = param(ct, 'boundary');
    const room = depth < this.maxDepth && !this.full;
    if (((ct.type === 'multipart' && boundary) || isMessage(ct)) && !room) part.unopened = true;
    if (ct.type === 'multipart' && boundary && room) {
      this.stack.push(Buffer.from('--' + boundary));
      const level = this.stack.length - 1;
      let d = this.nextDelimiter(bodyStart); // skips the preamble
      while (d && d.level === level && !d.close) {
        const child = this.part(d.lineEnd, depth + 1, ct.subtype === 'digest');
        part.children.push(child.part);
        d = child.term;
      }
      this.stack.pop();
      if (d && d.level === level) {
        // after our close delimiter, the epilogue runs to the parent's next boundary
        minEnd = d.lineEnd;
        d = this.nextDelimiter(d.lineEnd);
      }
      term = d;
    } else if (isMessage(ct) && room) {
      // parsed whatever its encoding, as Dovecot does (base64 just yields a junk header)
      const inner = this.part(bodyStart, depth + 1, false);
      part.message = inner.part;
      // When a boundary cuts off the inner header, Dovecot's message part (its
      // size, lines and BODY[n]) keeps the header's last line break, though
      // BODY[n.HEADER] does not; so do we, so BODYSTRUCTURE stays the same.
      minEnd = Math.max(inner.part.end, inner.part.headerScanEnd);
      term = inner.term;
    } else {
      term = this.nextDelimiter(bodyStart);
    }
    part.end = term ? Math.max(minEnd, crlfBefore(b, term.lineStart)) : b.length;
    return { part, term };
  }
}

function isMessage(ct: ContentType): boolean {
  return ct.type === 'message' && (ct.subtype === 'rfc822' || ct.subtype === 'global');
}

/** Position of the line break that precedes the line at `p` (it belongs to the boundary). */
function crlfBefore(b: Buffer, p: number): number {
  if (p > 0 && b[p - 1] === LF) return p >= 2 && b[p - 2] === CR ? p - 2 : p - 1;
  return p;
}

/**
 * Dovecot 2.3's bounds since CVE-2020-12100 (message-parser's max_nested_mime_parts
 * and max_total_mime_parts): 100 levels counting the top one, 10,000 parts in all.
 * They bound the time and memory of one parse whatever a sender wrote.
 */
export const MAX_MIME_DEPTH = 99;
export const MAX_MIME_PARTS = 10_000;

/**
 * Parses the MIME tree of a CRLF message. A multipart or message/rfc822 part
 * at depth `maxDepth` is left opaque (outer boundaries still end it). Once
 * `maxParts` parts exist, no boundary is recognised any more: the part being
 * read, and every part around it, runs to the end of the message, so no byte
 * is lost and BODY[] is the whole file. Never an error.
 */
export function parseMime(crlf: Buffer, maxDepth = MAX_MIME_DEPTH, maxParts = MAX_MIME_PARTS): MimePart {
  return new Walker(crlf, maxDepth, maxParts).part(0, 0, false).part;
}
