// Streaming versions of the decoding facts.partText does on a whole part:
// transfer decoding (base64, quoted-printable) and charset conversion. Each
// takes pieces cut anywhere and gives, in total, what the whole-part decoder
// gives for their concatenation.
import { StringDecoder } from 'node:string_decoder';
import { DecodeStream, decode as decodeCharset, normalizeCharset } from 'libmime/lib/charset.js';
import { decodeQP } from '../wire/transfer.js';

const EMPTY = Buffer.alloc(0);

export interface ByteDecoder {
  write(b: Buffer): Buffer;
  end(): Buffer;
}

/**
 * Node's base64 decoding of the part (Buffer.from(latin1, 'base64')): bytes
 * outside the alphabet are skipped and the first `=` ends the data. Whole
 * quads are decoded as they come; up to three characters wait.
 */
class Base64Decoder implements ByteDecoder {
  private carry = '';
  private stopped = false;
  write(b: Buffer): Buffer {
    if (this.stopped) return EMPTY;
    let s = b.toString('latin1');
    const eq = s.indexOf('=');
    if (eq >= 0) {
      s = s.slice(0, eq);
      this.stopped = true;
    }
    s = this.carry + s.replace(/[^A-Za-z0-9+/_-]+/g, '');
    const whole = s.length - (s.length % 4);
    this.carry = s.slice(whole);
    return Buffer.from(s.slice(0, whole), 'base64');
  }
  end(): Buffer {
    const out = Buffer.from(this.carry, 'base64');
    this.carry = '';
    return out;
  }
}

/** Longest run of white space after a trailing `=` held back to see whether a line break follows (a soft break). */
const QP_HOLD_CAP = 64 * 1024;

/** decodeQP over pieces: a `=` whose meaning depends on bytes not here yet waits for them. */
class QpDecoder implements ByteDecoder {
  private carry = EMPTY;
  write(b: Buffer): Buffer {
    const s = this.carry.length ? Buffer.concat([this.carry, b]) : b;
    const cut = undecided(s);
    this.carry = Buffer.from(s.subarray(cut));
    return decodeQP(s.subarray(0, cut));
  }
  end(): Buffer {
    const out = decodeQP(this.carry);
    this.carry = EMPTY;
    return out;
  }
}

/** Where the undecided tail starts: the last `=` when fewer than 2 bytes, or only blanks and CR, follow it. */
function undecided(s: Buffer): number {
  const eq = s.lastIndexOf(0x3d);
  if (eq < 0) return s.length;
  if (s.length - eq < 3) return eq;
  if (s.length - eq > QP_HOLD_CAP) return s.length;
  for (let i = eq + 1; i < s.length; i++) if (s[i] !== 0x20 && s[i] !== 0x09 && s[i] !== 0x0d) return s.length;
  return eq;
}

class Identity implements ByteDecoder {
  write(b: Buffer): Buffer {
    return b;
  }
  end(): Buffer {
    return EMPTY;
  }
}

export function transferDecoder(cte: string): ByteDecoder {
  return cte === 'base64' ? new Base64Decoder() : cte === 'quoted-printable' ? new QpDecoder() : new Identity();
}

export interface TextDecoder {
  write(b: Buffer): string;
  end(): string;
}

/** The charsets libmime decodes with encoding-japanese, which has no incremental decoder. */
const JAPANESE_CHARSET = /^jis|^iso-?2022-?jp|^EUCJP/i;
/** Japanese text is decoded a batch of whole lines at a time (ISO-2022-JP returns to ASCII by each line's end). */
const LINE_BATCH = 64 * 1024;

/** Charset conversion as facts.partText does it (UTF-8 itself, others by libmime), one piece at a time. */
export function charsetDecoder(charset: string): TextDecoder {
  if (/^(us-ascii|utf-?8|ascii)$/i.test(charset)) return new StringDecoder('utf8');
  if (JAPANESE_CHARSET.test(normalizeCharset(charset))) return new LineBatchDecoder(charset);
  return new LibmimeDecoder(charset);
}

/** libmime's DecodeStream (what its decode() gives, however the input is cut), driven synchronously. */
class LibmimeDecoder implements TextDecoder {
  private readonly stream: DecodeStream;
  private readonly utf8 = new StringDecoder('utf8');
  private text = '';
  constructor(charset: string) {
    this.stream = new DecodeStream(charset);
    // its output is taken as it is pushed, never buffered in the stream
    this.stream.push = (chunk: unknown): boolean => {
      if (Buffer.isBuffer(chunk)) this.text += this.utf8.write(chunk);
      return true;
    };
    // Better still, the text before it becomes UTF-8: a lone surrogate (broken UTF-16) then stays
    // what decode() gives instead of turning into U+FFFD.
    const inner = this.stream as unknown as { pushText?: (text: string | undefined, final: boolean) => void };
    if (typeof inner.pushText === 'function') inner.pushText = (text) => void (this.text += text ?? '');
  }
  write(b: Buffer): string {
    this.stream._transform(b, 'latin1', () => undefined); // the encoding is unused for a Buffer
    return this.take();
  }
  end(): string {
    this.stream._flush(() => undefined);
    return this.take() + this.utf8.end();
  }
  private take(): string {
    const t = this.text;
    this.text = '';
    return t;
  }
}

class LineBatchDecoder implements TextDecoder {
  private pending: Buffer[] = [];
  private size = 0;
  constructor(private readonly charset: string) {}
  write(b: Buffer): string {
    const lf = b.lastIndexOf(0x0a);
    if (lf < 0 || this.size + lf < LINE_BATCH) {
      this.pending.push(Buffer.from(b));
      this.size += b.length;
      return this.size > 4 * LINE_BATCH ? this.end() : '';
    }
    const out = decodeCharset(Buffer.concat([...this.pending, b.subarray(0, lf + 1)]), this.charset);
    this.pending = [Buffer.from(b.subarray(lf + 1))];
    this.size = b.length - lf - 1;
    return out;
  }
  end(): string {
    const all = Buffer.concat(this.pending);
    this.pending = [];
    this.size = 0;
    return all.length ? decodeCharset(all, this.charset) : '';
  }
}
