// The body text facts.bodyText gives (every text part decoded, the header of
// every encapsulated message, joined by "\n"), produced from the CRLF form of
// a message fed in pieces, holding a few pieces at most. The MIME split
// follows mime.ts's Walker rule for rule (a delimiter line only has to start
// with "--boundary", the longest active boundary wins, an outer boundary ends
// inner parts, the line break before a delimiter is the delimiter's, a
// delimiter line cuts a header off), but line by line instead of by offsets
// into a whole buffer. Text comes out unfolded, in pieces, through `out`.
import { parseHeader, headerValue } from '../wire/header.js';
import { parseContentType, param, MAX_MIME_DEPTH, MAX_MIME_PARTS, type ContentType } from '../wire/mime.js';
import { decodeWords } from '../wire/header-values.js';
import { HtmlText } from './html-text.js';
import { charsetDecoder, transferDecoder, type ByteDecoder, type TextDecoder } from './body-decode.js';

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const NL_DASHES = Buffer.from('\n--');
const EMPTY = Buffer.alloc(0);
/** A part header bigger than this is searched by its first HEADER_CAP bytes (facts reads at most 1 MB of the top header too). */
const HEADER_CAP = 1024 * 1024;

interface Delimiter {
  level: number;
  close: boolean;
}

type Frame =
  /** level: its boundary's index in the stack; -1 once closed (in its epilogue). */
  | { kind: 'multipart'; depth: number; level: number; digest: boolean }
  | { kind: 'message'; depth: number }
  | { kind: 'leaf'; depth: number; text: TextPart | null };

interface PendingHeader {
  depth: number;
  digestChild: boolean;
  /** The header of an encapsulated message: its fields are body text. */
  encapsulated: boolean;
  chunks: Buffer[];
  bytes: number;
}

/** One text/* part: transfer decoding, charset, HTML → text. */
class TextPart {
  private readonly bytes: ByteDecoder;
  private readonly chars: TextDecoder;
  private readonly html: HtmlText | null;
  constructor(
    header: ReturnType<typeof parseHeader>,
    ct: ContentType,
    private readonly out: (s: string) => void,
  ) {
    this.bytes = transferDecoder((headerValue(header, 'content-transfer-encoding') ?? '').trim().toLowerCase());
    this.chars = charsetDecoder(param(ct, 'charset') ?? 'us-ascii');
    this.html = ct.subtype === 'html' ? new HtmlText() : null;
  }
  write(b: Buffer): void {
    if (b.length) this.text(this.chars.write(this.bytes.write(b)));
  }
  end(): void {
    const tail = this.bytes.end();
    this.text((tail.length ? this.chars.write(tail) : '') + this.chars.end());
    if (this.html) this.out(this.html.end());
  }
  private text(s: string): void {
    if (s) this.out(this.html ? this.html.write(s) : s);
  }
}

export class BodyTextStream {
  private readonly boundaries: Buffer[] = [];
  private readonly frames: Frame[] = [];
  private header: PendingHeader | null = null;
  private rest = EMPTY;
  private atLineStart = true;
  /** Skipping the rest of a delimiter line. */
  private skipping = false;
  private segments = 0;
  /** Parts begun so far (mime.ts counts the same way): past maxParts no boundary is recognised. */
  private parts = 0;

  constructor(
    private readonly out: (text: string) => void,
    // The same limits as parseMime, so the streamed text is the whole-file text.
    private readonly maxDepth = MAX_MIME_DEPTH,
    private readonly maxParts = MAX_MIME_PARTS,
  ) {
    this.startPart(0, false, false);
  }

  write(chunk: Buffer): void {
    this.run(this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk, false);
  }

  end(): void {
    this.run(this.rest, true);
    while (this.header) this.endHeader();
    while (this.frames.length) this.closeTop();
  }

  private segment(text: string): void {
    this.out(this.segments++ ? '\n' + text : text);
  }

  private startPart(depth: number, digestChild: boolean, encapsulated: boolean): void {
    this.parts++;
    this.header = { depth, digestChild, encapsulated, chunks: [], bytes: 0 };
    this.atLineStart = true;
  }

  /** The header is complete: the part's frame, and the next state. */
  private endHeader(): void {
    const h = this.header!;
    this.header = null;
    const fields = parseHeader(h.chunks.length === 1 ? h.chunks[0] : Buffer.concat(h.chunks));
    if (h.encapsulated) this.segment(fields.map((f) => `${f.name}: ${decodeWords(f.value)}`).join('\r\n'));
    const ct = parseContentType(headerValue(fields, 'content-type'), h.digestChild);
    const boundary = param(ct, 'boundary');
    if (ct.type === 'multipart' && boundary && h.depth < this.maxDepth) {
      this.boundaries.push(Buffer.from('--' + boundary));
      this.frames.push({ kind: 'multipart', depth: h.depth, level: this.boundaries.length - 1, digest: ct.subtype === 'digest' });
    } else if (ct.type === 'message' && (ct.subtype === 'rfc822' || ct.subtype === 'global') && h.depth < this.maxDepth) {
      // parsed whatever its encoding, as mime.ts does
      this.frames.push({ kind: 'message', depth: h.depth });
      this.startPart(h.depth + 1, false, true);
    } else {
      let text: TextPart | null = null;
      if (ct.type === 'text') {
        this.segment('');
        text = new TextPart(fields, ct, this.out);
      }
      this.frames.push({ kind: 'leaf', depth: h.depth, text });
    }
  }

  private closeTop(): void {
    const top = this.frames.pop()!;
    if (top.kind === 'leaf') top.text?.end();
    else if (top.kind === 'multipart' && top.level >= 0) this.boundaries.pop();
  }

  private onDelimiter(d: Delimiter): void {
    for (;;) {
      const top = this.frames[this.frames.length - 1];
      if (top.kind === 'multipart' && top.level === d.level) {
        if (!d.close) this.startPart(top.depth + 1, top.digest, false);
        else {
          this.boundaries.pop();
          top.level = -1; // the epilogue runs to the parent's next delimiter
        }
        return;
      }
      this.closeTop();
    }
  }

  /** Whether enough of the line at `p` is here to tell a delimiter or a blank line. */
  private decidable(b: Buffer, p: number): boolean {
    let need = 2;
    for (const d of this.boundaries) need = Math.max(need, d.length + 2);
    return b.length - p >= need || b.indexOf(LF, p) >= 0;
  }

  /** The delimiter line starting at `p`, if any: longest matching boundary, innermost on ties (mime.ts). */
  private delimiterAt(b: Buffer, p: number): Delimiter | null {
    if (b[p] !== DASH || b[p + 1] !== DASH || this.parts >= this.maxParts) return null;
    let level = -1;
    for (let k = this.boundaries.length - 1; k >= 0; k--) {
      const d = this.boundaries[k];
      if ((level < 0 || d.length > this.boundaries[level].length) && p + d.length <= b.length && b.compare(d, 0, d.length, p, p + d.length) === 0) level = k;
    }
    if (level < 0) return null;
    const after = p + this.boundaries[level].length;
    return { level, close: b[after] === DASH && b[after + 1] === DASH };
  }

  private run(b: Buffer, eof: boolean): void {
    let p = 0;
    while (p < b.length) {
      if (this.skipping) {
        const lf = b.indexOf(LF, p);
        if (lf < 0) {
          p = b.length;
          break;
        }
        p = lf + 1;
        this.skipping = false;
        this.atLineStart = true;
        continue;
      }
      if (this.atLineStart) {
        if (!eof && !this.decidable(b, p)) break;
        if (this.header) {
          const blank = b[p] === LF ? 1 : b[p] === CR && b[p + 1] === LF ? 2 : 0;
          if (blank) {
            p += blank;
            this.endHeader();
            continue;
          }
          if (this.delimiterAt(b, p)) {
            this.endHeader(); // cut off: the same line again, in the part's body
            continue;
          }
        } else {
          const d = this.delimiterAt(b, p);
          if (d) {
            this.onDelimiter(d);
            this.skipping = true;
            this.atLineStart = false;
            continue;
          }
        }
        this.atLineStart = false;
      }
      p = this.header ? this.headerLine(b, p) : this.bodyRun(b, p, eof);
      if (p < 0) {
        p = -p - 1;
        break;
      }
    }
    this.rest = p < b.length ? Buffer.from(b.subarray(p)) : EMPTY;
  }

  /** Collects the header line at `p` (to its LF or the end of `b`); returns where it stopped. */
  private headerLine(b: Buffer, p: number): number {
    const h = this.header!;
    const lf = b.indexOf(LF, p);
    const end = lf < 0 ? b.length : lf + 1;
    if (h.bytes < HEADER_CAP) {
      const piece = b.subarray(p, Math.min(end, p + HEADER_CAP - h.bytes));
      h.chunks.push(Buffer.from(piece));
      h.bytes += piece.length;
    }
    if (lf >= 0) this.atLineStart = true;
    return end;
  }

  /**
   * Body bytes from `p` (not a line start) up to the next delimiter line or
   * as far as `b` allows; a line starting "--" is looked at only when enough
   * of it is here. Returns the next position, or -(position + 1) to wait for
   * more input there.
   */
  private bodyRun(b: Buffer, p: number, eof: boolean): number {
    const top = this.frames[this.frames.length - 1];
    const sink = top.kind === 'leaf' ? top.text : null;
    for (let from = p; ; ) {
      const nl = this.boundaries.length ? b.indexOf(NL_DASHES, from) : -1;
      if (nl < 0) {
        // no candidate here: all of it is content, except a tail that may begin one
        let cut = b.length;
        if (!eof) {
          const lf = b.indexOf(LF, Math.max(p, b.length - 3));
          if (lf >= 0) cut = lf;
          else if (b[b.length - 1] === CR) cut = b.length - 1;
          if (cut > p && b[cut - 1] === CR && cut < b.length && b[cut] === LF) cut--;
        }
        sink?.write(b.subarray(p, cut));
        return cut < b.length ? -cut - 1 : cut;
      }
      const lineStart = nl + 1;
      const breakStart = nl > p && b[nl - 1] === CR ? nl - 1 : nl;
      if (!eof && !this.decidable(b, lineStart)) {
        sink?.write(b.subarray(p, breakStart));
        return -breakStart - 1;
      }
      const d = this.delimiterAt(b, lineStart);
      if (!d) {
        from = lineStart;
        continue;
      }
      sink?.write(b.subarray(p, breakStart)); // the line break is the delimiter's
      this.onDelimiter(d);
      this.skipping = true;
      return lineStart;
    }
  }
}
