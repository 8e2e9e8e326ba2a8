// RFC 2822 header block parsing: fields with their raw bytes (for
// BODY[HEADER.FIELDS]) and unfolded values (for ENVELOPE / BODYSTRUCTURE).

export interface HeaderField {
  /** Field name as written (trailing WSP before the colon removed). */
  name: string;
  lower: string;
  /** The whole field: name, colon, continuation lines and its final CRLF. */
  raw: Buffer;
  /** Unfolded (CRLF+WSP → WSP), leading WSP trimmed, no final CRLF; UTF-8 decoded. */
  readonly value: string;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/**
 * Parses a header block (header bytes, normally ending with the empty line).
 * Stops at the first empty line or at the end of `block`. Lines that are
 * neither a field nor a continuation (no colon) are skipped, with their
 * continuation lines, as Dovecot does.
 */
export function parseHeader(block: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  let start = -1; // start of the field being collected, -1 when none
  let pos = 0;
  const flush = (end: number): void => {
    if (start >= 0) fields.push(makeField(block, start, end));
    start = -1;
  };
  while (pos < block.length) {
    let eol = block.indexOf(LF, pos);
    eol = eol < 0 ? block.length : eol + 1;
    const c = block[pos];
    if (c === LF || (c === CR && block[pos + 1] === LF)) break; // the empty line
    if (c === SP || c === HT) {
      // continuation: belongs to the field being collected (or to a skipped line)
    } else {
      flush(pos);
      const colon = block.indexOf(COLON, pos);
      if (colon > pos && colon < eol) start = pos;
    }
    pos = eol;
  }
  flush(pos);
  return fields;
}

function makeField(block: Buffer, start: number, end: number): HeaderField {
  const colon = block.indexOf(COLON, start) - start;
  let nameEnd = start + colon;
  while (nameEnd > start && (block[nameEnd - 1] === SP || block[nameEnd - 1] === HT)) nameEnd--;
  const name = block.toString('utf8', start, nameEnd);
  return new Field(name, name.toLowerCase(), block, start, end, colon);
}

/**
 * A header field whose unfolded value, and even its bytes as a Buffer, are
 * worked out only when asked for (most never are): a view per field made
 * 100,000 header lines cost tens of MB (issue 13 F).
 */
class Field implements HeaderField {
  private unfolded: string | undefined;
  constructor(
    readonly name: string,
    readonly lower: string,
    private readonly block: Buffer,
    private readonly start: number,
    private readonly end: number,
    private readonly colon: number,
  ) {}

  get raw(): Buffer {
    return this.block.subarray(this.start, this.end);
  }

  get value(): string {
    return (this.unfolded ??= this.raw
      .toString('utf8', this.colon + 1)
      .replace(/\r?\n$/, '') // the field's own line end
      .replace(/\r?\n(?=[ \t])/g, '') // unfold: drop CRLF, keep the WSP
      .replace(/^[ \t]+/, ''));
  }
}

/** The value of the first field called `name` (case-insensitive), or null. */
export function headerValue(fields: HeaderField[], name: string): string | null {
  const lower = name.toLowerCase();
  for (const f of fields) if (f.lower === lower) return f.value;
  return null;
}

/**
 * BODY[HEADER.FIELDS (..)] and BODY[HEADER.FIELDS.NOT (..)]: the raw matching
 * fields in their original order, then the blank line (RFC 3501 §6.4.5) —
 * unless the header had none (`blankLine` false: a message that is only a
 * header, or a header cut off by a boundary), which §6.4.5 excepts.
 */
export function selectHeaderFields(fields: HeaderField[], names: string[], not: boolean, blankLine = true): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const parts: Buffer[] = [];
  for (const f of fields) {
    if (wanted.has(f.lower) === not) continue;
    parts.push(f.raw);
    // a last field cut off at EOF has no CRLF; keep the result well-formed
    if (f.raw[f.raw.length - 1] !== LF) parts.push(CRLF);
  }
  if (blankLine) parts.push(CRLF);
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');

/** Offset just after the empty line that ends the header block at the start of `b` (LF or CRLF), or -1. */
export function headerEnd(b: Buffer): number {
  if (b[0] === LF) return 1;
  if (b[0] === CR && b[1] === LF) return 2;
  let i = 0;
  for (;;) {
    i = b.indexOf(LF, i);
    if (i < 0 || i + 1 >= b.length) return -1;
    if (b[i + 1] === LF) return i + 2;
    if (b[i + 1] === CR && b[i + 2] === LF) return i + 3;
    i++;
  }
}
