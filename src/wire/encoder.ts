// IMAP response values and their wire form (RFC 3501 §4).
// Commands build ImapValue trees; the connection serialises them.

/** An atom or pre-formatted token written verbatim (flags, keywords, NIL-free tokens). */
export class Atom {
  constructor(readonly value: string) {}
}

/** A literal whose bytes are already in memory. */
/** `binary`: sent as a literal8 `~{n}` (RFC 3516 §4.2: content that may hold NUL). */
export class Literal {
  constructor(
    readonly data: Buffer,
    readonly binary = false,
  ) {}
}

/** A literal streamed from elsewhere (a message body); `size` is exact. */
export class StreamLiteral {
  constructor(
    readonly size: number,
    readonly open: () => AsyncIterable<Buffer>,
    readonly binary = false,
  ) {}
}

/** null is NIL; a JS string becomes a quoted string, or a literal when it cannot be quoted. */
export type ImapValue = null | number | string | Atom | Literal | StreamLiteral | ImapValue[];

export const atom = (value: string): Atom => new Atom(value);
export const NIL = null;

const MAX_QUOTED = 4096;

/** True when `s` can travel as an RFC 3501 quoted string: 7-bit, no CR/LF/NUL, short. */
export function canQuote(s: string): boolean {
  if (s.length > MAX_QUOTED) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 10 || c === 13 || c > 0x7e) return false;
  }
  return true;
}

export function quote(s: string): string {
  // Most strings need no escaping: skip the regex for them.
  return s.includes('"') || s.includes('\\') ? '"' + s.replace(/[\\"]/g, (m) => '\\' + m) + '"' : '"' + s + '"';
}

/**
 * Serialises a value into chunks: strings are wire text, StreamLiterals are
 * left for the writer to stream after their `{size}` prefix.
 */
export function encode(value: ImapValue, out: Array<string | Buffer | StreamLiteral>): void {
  if (value === null) {
    out.push('NIL');
  } else if (typeof value === 'number') {
    out.push(String(value));
  } else if (typeof value === 'string') {
    if (canQuote(value)) out.push(quote(value));
    else {
      const data = Buffer.from(value, 'utf8');
      out.push(`{${data.length}}\r\n`, data);
    }
  } else if (value instanceof Atom) {
    out.push(value.value);
  } else if (value instanceof Literal) {
    out.push(`${value.binary ? '~' : ''}{${value.data.length}}\r\n`, value.data);
  } else if (value instanceof StreamLiteral) {
    out.push(`${value.binary ? '~' : ''}{${value.size}}\r\n`, value);
  } else {
    out.push('(');
    value.forEach((item, i) => {
      if (i > 0) out.push(' ');
      encode(item, out);
    });
    out.push(')');
  }
}

/** Serialises a value that holds no StreamLiteral into one string (tests, small responses). */
export function encodeToString(value: ImapValue): string {
  const out: Array<string | Buffer | StreamLiteral> = [];
  encode(value, out);
  return out
    .map((c) => {
      if (c instanceof StreamLiteral) throw new Error('stream literal in encodeToString');
      return typeof c === 'string' ? c : c.toString('utf8');
    })
    .join('');
}
