// ManageSieve's wire format (RFC 5804 §4): commands are a line of atoms,
// numbers and strings, where a string is "quoted" (\" and \\ escaped) or a
// literal {n+} CRLF followed by n octets, after which the line goes on. A
// {n} literal (IMAP's synchronizing form) is taken the same way, without a
// continuation, as Pigeonhole does: the protocol has none to give.
// Pure: bytes in, tokens out, and the encoders for replies. No I/O.
//
// Limits: a line (without its literals), a command's literal bytes all
// together, and the tokens in one command. Input past a limit is read and
// dropped (a literal's octets are counted, never kept) to the end of the
// command, which is then answered with the error, so the next command is
// read from the right place.

export type Token = { kind: 'atom'; value: string } | { kind: 'number'; value: number } | { kind: 'string'; value: Buffer; literal: boolean };

export interface ReaderLimits {
  /** Bytes of one line, not counting literals. */
  maxLineBytes: number;
  /** Bytes of all the literals of one command together. */
  maxLiteralBytes: number;
  /** Tokens in one command. */
  maxTokens: number;
}

export type ReadError =
  /** A literal larger than the limit (the reply depends on the command: QUOTA/MAXSIZE for a script). */
  | { kind: 'too-big'; max: number; size: number }
  | { kind: 'syntax'; message: string };

export type ReadResult = { ok: true; tokens: Token[] } | { ok: false; error: ReadError; tokens: Token[] };

/** The longest number (RFC 5804: 32-bit unsigned). */
const MAX_NUMBER = 4294967295;
const LITERAL_END = /\{(\d{1,10})(\+?)\}$/;

/**
 * Splits input into commands. push() bytes, then call next() until it
 * returns null (more input needed).
 */
export class CommandReader {
  private buf: Buffer = Buffer.alloc(0);
  private tokens: Token[] = [];
  private literalBytes = 0;
  private error: ReadError | null = null;
  /** Octets of a literal still to come: kept into `literal`, or counted and dropped when `literal` is null. */
  private literalLeft = 0;
  private literal: Buffer[] | null = null;
  /** Dropping an overlong line up to its LF; the tail is kept to see whether it ended with a literal. */
  private skippingLine = false;
  private skippedTail = '';

  constructor(public limits: ReaderLimits) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
  }

  /** Bytes held that are not yet part of a returned command. */
  get bufferedBytes(): number {
    return this.buf.length + (this.literal ? this.literal.reduce((n, b) => n + b.length, 0) : 0);
  }

  /** Drops everything buffered (after STARTTLS: what came in the clear is never run). */
  reset(): void {
    this.buf = Buffer.alloc(0);
    this.startCommand();
  }

  next(): ReadResult | null {
    for (;;) {
      if (this.literalLeft > 0) {
        if (!this.buf.length) return null;
        const n = Math.min(this.literalLeft, this.buf.length);
        if (this.literal) this.literal.push(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n);
        this.literalLeft -= n;
        if (this.literalLeft > 0) return null;
        if (this.literal) this.tokens.push({ kind: 'string', value: Buffer.concat(this.literal), literal: true });
        this.literal = null;
        continue;
      }
      const nl = this.buf.indexOf(10);
      if (this.skippingLine) {
        if (nl < 0) {
          this.skippedTail = (this.skippedTail + this.buf.toString('latin1')).slice(-16);
          this.buf = Buffer.alloc(0);
          return null;
        }
        const tail = (this.skippedTail + this.buf.subarray(0, nl).toString('latin1')).replace(/\r$/, '').slice(-16);
        this.buf = this.buf.subarray(nl + 1);
        this.skippingLine = false;
        this.skippedTail = '';
        const m = LITERAL_END.exec(tail);
        if (m) {
          this.dropLiteral(Number(m[1]));
          continue;
        }
        return this.finish();
      }
      if (nl < 0) {
        if (this.buf.length > this.limits.maxLineBytes) {
          this.fail({ kind: 'syntax', message: `Line too long (max ${this.limits.maxLineBytes} bytes)` });
          this.skippingLine = true;
          continue;
        }
        return null;
      }
      if (nl > this.limits.maxLineBytes + 1) {
        this.fail({ kind: 'syntax', message: `Line too long (max ${this.limits.maxLineBytes} bytes)` });
        this.skippingLine = true;
        continue;
      }
      const line = this.buf.subarray(0, nl > 0 && this.buf[nl - 1] === 13 ? nl - 1 : nl);
      this.buf = this.buf.subarray(nl + 1);
      const more = this.line(line);
      if (!more) return this.finish();
    }
  }

  /** Tokenizes one line into the command; true when it ends with a literal (the command goes on). */
  private line(line: Buffer): boolean {
    const tail = line.subarray(Math.max(0, line.length - 16)).toString('latin1');
    const lit = LITERAL_END.exec(tail);
    const body = lit ? line.subarray(0, line.length - lit[0].length) : line;
    if (!this.error) {
      try {
        tokenize(body, this.tokens, this.limits.maxTokens);
      } catch (err) {
        if (!(err instanceof SyntaxProblem)) throw err;
        this.fail({ kind: 'syntax', message: err.message });
      }
    }
    if (!lit) return false;
    const size = Number(lit[1]);
    if (this.error) {
      this.dropLiteral(size);
      return true;
    }
    if (this.tokens.length >= this.limits.maxTokens) {
      this.fail({ kind: 'syntax', message: 'Too many arguments' });
      this.dropLiteral(size);
      return true;
    }
    if (size > MAX_NUMBER || this.literalBytes + size > this.limits.maxLiteralBytes) {
      this.fail({ kind: 'too-big', max: this.limits.maxLiteralBytes, size });
      this.dropLiteral(size);
      return true;
    }
    this.literalBytes += size;
    this.literalLeft = size;
    this.literal = [];
    if (size === 0) {
      this.tokens.push({ kind: 'string', value: Buffer.alloc(0), literal: true });
      this.literal = null;
    }
    return true;
  }

  private dropLiteral(size: number): void {
    this.literalLeft = size;
    this.literal = null;
  }

  private fail(error: ReadError): void {
    this.error ??= error;
  }

  private finish(): ReadResult {
    const result: ReadResult = this.error ? { ok: false, error: this.error, tokens: this.tokens } : { ok: true, tokens: this.tokens };
    this.startCommand();
    return result;
  }

  private startCommand(): void {
    this.tokens = [];
    this.literalBytes = 0;
    this.error = null;
    this.literalLeft = 0;
    this.literal = null;
    this.skippingLine = false;
    this.skippedTail = '';
  }
}

class SyntaxProblem extends Error {}

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
/** RFC 5804 atom-specials, with CTL and SP: "(" ")" "{" SP CTL "%" "*" DQUOTE "\". */
function isAtomChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== DQUOTE && c !== BACKSLASH;
}

/** Appends the tokens of one line (or the part of one between literals). */
export function tokenize(line: Buffer, out: Token[], maxTokens = 64): void {
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === SP || c === 0x09) {
      i++;
      continue;
    }
    if (out.length >= maxTokens) throw new SyntaxProblem('Too many arguments');
    if (c === DQUOTE) {
      const bytes: number[] = [];
      i++;
      for (;;) {
        if (i >= line.length) throw new SyntaxProblem('Missing \'"\'');
        const b = line[i];
        if (b === DQUOTE) break;
        if (b === BACKSLASH) {
          const e = line[i + 1];
          if (e !== DQUOTE && e !== BACKSLASH) throw new SyntaxProblem('Invalid escape in a quoted string (only \\" and \\\\)');
          bytes.push(e);
          i += 2;
          continue;
        }
        if (b === 0 || b === 13) throw new SyntaxProblem('Invalid character in a quoted string');
        bytes.push(b);
        i++;
      }
      i++;
      if (bytes.length > 1024) throw new SyntaxProblem('Quoted string too long (max 1024 octets; send a literal)');
      out.push({ kind: 'string', value: Buffer.from(bytes), literal: false });
      continue;
    }
    if (c === 0x7b) throw new SyntaxProblem('A literal must end its line');
    const start = i;
    while (i < line.length && isAtomChar(line[i])) i++;
    if (i === start) throw new SyntaxProblem(`Invalid character in the command line (0x${c.toString(16).padStart(2, '0')})`);
    const word = line.subarray(start, i).toString('latin1');
    if (/^\d+$/.test(word)) {
      if (word.length > 10 || Number(word) > MAX_NUMBER) throw new SyntaxProblem('Number too big');
      out.push({ kind: 'number', value: Number(word) });
    } else out.push({ kind: 'atom', value: word });
  }
}

// --- replies ---

/**
 * A string as the server sends it: quoted when it is short and on one line
 * (with " and \ escaped), a {n} literal otherwise (RFC 5804 §4).
 */
export function encodeString(s: string | Buffer): string | Buffer {
  const buf = typeof s === 'string' ? Buffer.from(s) : s;
  if (buf.length <= 1024 && !buf.includes(13) && !buf.includes(10) && !buf.includes(0)) {
    return `"${buf.toString('utf8').replace(/[\\"]/g, (c) => '\\' + c)}"`;
  }
  return Buffer.concat([Buffer.from(`{${buf.length}}\r\n`), buf]);
}

/** OK / NO / BYE with an optional response code and text, one reply (RFC 5804 §1.3). */
export function reply(kind: 'OK' | 'NO' | 'BYE', code: string | null, text: string | null): Buffer {
  const parts: Array<string | Buffer> = [kind];
  if (code) parts.push(` (${code})`);
  if (text !== null) parts.push(' ', encodeString(text));
  parts.push('\r\n');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}
