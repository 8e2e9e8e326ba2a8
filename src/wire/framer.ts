// IMAP command framing (RFC 3501 §4; literals RFC 7888): socket bytes →
// complete commands (text lines + literals). It knows only about CRLF and
// `{n}` / `{n+}` markers, and enforces the memory limits, so a hostile client
// can never make us buffer unbounded data. parser.ts turns a framed command
// into tokens.

export interface ParserLimits {
  /** One text line (between literals), excluding its CRLF. */
  maxLineBytes: number;
  /** One literal. */
  maxLiteralBytes: number;
  /** Literals per command. */
  maxLiterals: number;
  /** All text + literals of one command, as counted on the wire. */
  maxCommandBytes: number;
  /** Largest non-synchronizing literal we skip over after refusing it; beyond this the connection is dropped. */
  maxDiscardBytes: number;
  /** One literal streamed to a sink (APPEND's message): RFC 7889 APPENDLIMIT. */
  maxAppendBytes: number;
}

export const DEFAULT_LIMITS: ParserLimits = Object.freeze({
  maxLineBytes: 65536,
  maxLiteralBytes: 1024 * 1024,
  maxLiterals: 64,
  maxCommandBytes: 8 * 1024 * 1024,
  maxDiscardBytes: 64 * 1024 * 1024,
  maxAppendBytes: 50 * 1024 * 1024,
});

/**
 * Before login nothing needs more than a LOGIN line or a SASL response:
 * Dovecot's login processes allow about as much. Unfinished literals of the
 * post-login size held 8 MiB per connection for anyone who could connect.
 */
export const PREAUTH_LIMITS: ParserLimits = Object.freeze({
  maxLineBytes: 8192,
  maxLiteralBytes: 8192,
  maxLiterals: 8,
  maxCommandBytes: 16384,
  maxDiscardBytes: 65536,
  maxAppendBytes: 0,
});

/**
 * Where a streamed literal's bytes go instead of memory (APPEND writes them to
 * a file as they arrive). write() must take the chunk at once (it is reused).
 */
export interface LiteralSink {
  write(chunk: Buffer): void;
  /** Every byte has arrived. */
  finish(): void;
  /** The command was refused or the connection closed: drop what was written. Safe to repeat. */
  discard(): void;
}

/** What the framer knows when a literal is announced, for deciding whether it is streamed. */
export interface LiteralSinkRequest {
  tag: string | null;
  /** The command's text so far (literals left out), ending with the marker's line up to the marker. */
  text: string;
  /** Number of literals before this one in the command. */
  index: number;
  size: number;
  nonSync: boolean;
  /** Bytes of this command's literals already streamed to sinks (a MULTIAPPEND's earlier messages). */
  streamedBytes: number;
}

export interface LiteralSinkOffer {
  /** Largest literal taken this way; a bigger one is refused with literal-too-large. */
  maxBytes: number;
  open(): LiteralSink;
}

export type CommandPart =
  | { kind: 'text'; text: string }
  /** `data` is empty when the literal went to `sink`. */
  /** `binary`: a literal8, `~{n}` (RFC 3516), which may hold NUL. */
  | { kind: 'literal'; data: Buffer; nonSync: boolean; binary?: boolean; sink?: LiteralSink };

/**
 * A complete command. Parts produced by the framer always alternate
 * text, literal, text, …, text (the last line after a literal may be '').
 * `bytes` counts everything read from the wire for it, markers and CRLFs included.
 */
export interface FramedCommand {
  parts: CommandPart[];
  bytes: number;
}

export type FrameError =
  /** Line discarded up to its CRLF; answer BAD and keep going. */
  | { kind: 'line-too-long'; tag: string | null }
  /** Answer `tag NO [TOOBIG]`. Sync: no '+' was sent. Non-sync: the bytes are skipped, then the rest of the command. */
  | { kind: 'literal-too-large'; tag: string | null; size: number }
  | { kind: 'too-many-literals' | 'command-too-large'; tag: string | null }
  /** Send BYE and close; the framer ignores all further input. */
  | { kind: 'fatal'; reason: string };

export interface FramerHooks {
  onCommand(cmd: FramedCommand): void;
  /** A synchronizing literal was accepted: write "+ Ready for literal data\r\n" now. */
  onContinuation(): void;
  onError(err: FrameError): void;
  /** Streams this literal to a sink instead of a buffer (null: buffer it as usual). */
  literalSink?(req: LiteralSinkRequest): LiteralSinkOffer | null;
}

/** Discards the streamed literals of a command nobody took over (safe after a command ran). */
export function discardSinks(parts: CommandPart[]): void {
  for (const p of parts) if (p.kind === 'literal' && p.sink) p.sink.discard();
}

const LF = 0x0a;
const CR = 0x0d;
/** Longest literal marker is `{4294967295+}` (13 bytes); keep a little more of a discarded line. */
const TAIL_BYTES = 24;
const MAX_LITERAL_SIZE = 0xffffffff; // RFC 3501 `number` is 32-bit unsigned
const EMPTY = Buffer.alloc(0);

type Mode =
  | 'line' //    accumulating a text line
  | 'literal' // copying an accepted literal
  | 'skip' //    skipping a refused non-sync literal
  | 'discard' // dropping the rest of a refused command's line
  | 'dead'; //   after a fatal error

interface LiteralMarker {
  /** Offset of '{' in the line, or of the '~' of a literal8. */
  start: number;
  size: number;
  nonSync: boolean;
  binary: boolean;
}

export class CommandFramer {
  private limits: ParserLimits;
  private mode: Mode = 'line';

  // Current unterminated line (copies, since callers may reuse their chunks).
  private lineChunks: Buffer[] = [];
  private lineLen = 0;

  // Command in progress.
  private parts: CommandPart[] = [];
  private partBytes = 0;
  private cmdBytes = 0;
  private literalCount = 0;
  private tag: string | null = null;
  private firstLine = true;

  // Accepted literal being filled. Preallocated: its size is bounded by maxLiteralBytes.
  private litBuf: Buffer = EMPTY;
  private litFilled = 0;
  private litNonSync = false;
  private litBinary = false;
  /** Bytes of the command in progress streamed to sinks so far. */
  private streamedBytes = 0;
  /** Set while a literal streams to a sink; then litBuf stays empty and litSize counts. */
  private litSink: LiteralSink | null = null;
  private litSize = 0;

  // Input kept back by hold().
  private holding = false;
  private held: Buffer | null = null;

  // Refused input being dropped.
  private skipRemaining = 0;
  private discardTail: Buffer = EMPTY;
  /** Reported when the discarded line's LF arrives (line-too-long waits for it). */
  private pendingError: FrameError | null = null;

  constructor(
    private readonly hooks: FramerHooks,
    limits?: Partial<ParserLimits>,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Takes effect for the next checks (e.g. APPEND raising maxLiteralBytes). */
  setLimits(l: Partial<ParserLimits>): void {
    this.limits = { ...this.limits, ...l };
  }

  /** Bytes currently held: the command in progress and input kept back by hold(). */
  get bufferedBytes(): number {
    return this.partBytes + this.lineLen + (this.litSink ? 0 : this.litSize) + (this.held?.length ?? 0);
  }

  /**
   * Stops framing after the command being completed now: the rest of the
   * input is kept (at most the chunk it came in) until release(). Before
   * login a command is framed only once the previous one has run, so its
   * limits are the ones in force when it arrives.
   */
  hold(): void {
    this.holding = true;
  }

  /** Frames the input kept back by hold() (which may hold again). */
  release(): void {
    this.holding = false;
    const held = this.held;
    this.held = null;
    if (held) this.push(held, true);
  }

  /** Takes the input kept back by hold() away unframed (the client's first compressed bytes after COMPRESS). */
  takeHeld(): Buffer | null {
    const held = this.held;
    this.held = null;
    return held;
  }

  get isHolding(): boolean {
    return this.holding;
  }

  /** `owned`: the chunk is ours to keep (callers may reuse theirs, so a held rest is copied). */
  push(chunk: Buffer, owned = false): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.holding) {
        const rest = chunk.subarray(pos);
        this.held = this.held ? Buffer.concat([this.held, rest]) : owned ? rest : Buffer.from(rest);
        return;
      }
      switch (this.mode) {
        case 'line':
          pos = this.readLine(chunk, pos);
          break;
        case 'literal':
          pos = this.readLiteral(chunk, pos);
          break;
        case 'skip':
          pos = this.skip(chunk, pos);
          break;
        case 'discard':
          pos = this.discard(chunk, pos);
          break;
        case 'dead':
          return;
      }
    }
  }

  // --- line mode -----------------------------------------------------------

  private readLine(chunk: Buffer, pos: number): number {
    const lf = chunk.indexOf(LF, pos);
    const end = lf === -1 ? chunk.length : lf;
    const piece = chunk.subarray(pos, end);
    // +1 leaves room for the CR of a CRLF split across chunks.
    if (this.lineLen + piece.length > this.limits.maxLineBytes + 1) {
      this.lineOverflow(piece, lf !== -1);
      return lf === -1 ? chunk.length : lf + 1;
    }
    if (lf === -1) {
      this.lineChunks.push(Buffer.from(piece));
      this.lineLen += piece.length;
      return chunk.length;
    }
    const raw = this.lineChunks.length === 0 ? piece : Buffer.concat([...this.lineChunks, piece]);
    const rawLen = raw.length + 1; // + LF
    this.lineChunks = [];
    this.lineLen = 0;
    const line = raw.length > 0 && raw[raw.length - 1] === CR ? raw.subarray(0, raw.length - 1) : raw;
    if (line.length > this.limits.maxLineBytes) {
      this.lineOverflow(line, true);
    } else {
      this.completeLine(line, rawLen);
    }
    return lf + 1;
  }

  /** The current line is over maxLineBytes: keep only what we need (tag, tail) and drop it. */
  private lineOverflow(piece: Buffer, terminated: boolean): void {
    const room = Math.max(0, this.limits.maxLineBytes - this.lineLen);
    const prefix = Buffer.concat([...this.lineChunks, piece.subarray(0, room)]);
    const tag = this.firstLine ? extractTag(prefix, false) : this.tag;
    const tail = appendTail(appendTail(EMPTY, ...this.lineChunks), piece);
    this.lineChunks = [];
    this.lineLen = 0;
    this.resetCommand();
    this.pendingError = { kind: 'line-too-long', tag };
    this.mode = 'discard';
    this.discardTail = tail;
    if (terminated) this.finishDiscardedLine();
  }

  private completeLine(line: Buffer, rawLen: number): void {
    // Stray empty lines between commands are harmless; ignore them like most servers.
    if (this.firstLine && line.length === 0) return;
    if (this.firstLine) {
      this.tag = extractTag(line, true);
      this.firstLine = false;
    }
    this.cmdBytes += rawLen;
    const marker = matchLiteralMarker(line);
    const text = line.subarray(0, marker ? marker.start : line.length).toString('utf8');
    this.addPart({ kind: 'text', text }, marker ? marker.start : line.length);

    const l = this.limits;
    if (this.cmdBytes > l.maxCommandBytes) {
      this.refuse({ kind: 'command-too-large', tag: this.tag }, marker);
      return;
    }
    if (!marker) {
      const cmd: FramedCommand = { parts: this.parts, bytes: this.cmdBytes };
      this.parts = []; // handed over with their sinks
      this.resetCommand();
      this.hooks.onCommand(cmd);
      return;
    }
    this.literalCount++;
    let offer: LiteralSinkOffer | null = null;
    if (this.hooks.literalSink && this.literalCount <= l.maxLiterals) {
      const textSoFar = this.parts.map((p) => (p.kind === 'text' ? p.text : '')).join('');
      offer = this.hooks.literalSink({ tag: this.tag, text: textSoFar, index: this.literalCount - 1, size: marker.size, nonSync: marker.nonSync, streamedBytes: this.streamedBytes });
    }
    if (this.literalCount > l.maxLiterals) {
      this.refuse({ kind: 'too-many-literals', tag: this.tag }, marker);
    } else if (offer) {
      if (marker.size > offer.maxBytes) {
        this.refuse({ kind: 'literal-too-large', tag: this.tag, size: marker.size }, marker);
        return;
      }
      try {
        this.litSink = offer.open();
      } catch (err) {
        this.fatal(`Cannot store literal: ${(err as Error).message}`);
        return;
      }
      this.streamedBytes += marker.size;
      this.litBuf = EMPTY;
      this.litSize = marker.size;
      this.litFilled = 0;
      this.litNonSync = marker.nonSync;
      this.litBinary = marker.binary;
      this.mode = 'literal';
      if (marker.size === 0) this.finishLiteral();
      if (!marker.nonSync) this.hooks.onContinuation();
    } else if (marker.size > l.maxLiteralBytes) {
      this.refuse({ kind: 'literal-too-large', tag: this.tag, size: marker.size }, marker);
    } else if (this.cmdBytes + marker.size > l.maxCommandBytes) {
      this.refuse({ kind: 'command-too-large', tag: this.tag }, marker);
    } else {
      this.cmdBytes += marker.size;
      this.litBuf = Buffer.allocUnsafe(marker.size);
      this.litSize = marker.size;
      this.litFilled = 0;
      this.litNonSync = marker.nonSync;
      this.litBinary = marker.binary;
      this.mode = 'literal';
      if (marker.size === 0) this.finishLiteral();
      // Set state first: the hook may write to the socket, and the client may answer fast.
      if (!marker.nonSync) this.hooks.onContinuation();
    }
  }

  /**
   * Refuse the command in progress. A sync literal was never sent by the client
   * (it waits for '+'), so the command simply ends; a non-sync literal is already
   * on its way and must be skipped, then whatever follows it up to the command's end.
   */
  private refuse(err: FrameError, marker: LiteralMarker | null): void {
    this.resetCommand();
    if (marker?.nonSync) {
      if (marker.size > this.limits.maxDiscardBytes) {
        this.fatal(`Non-synchronizing literal of ${marker.size} bytes is too large`);
        return;
      }
      this.hooks.onError(err);
      this.startSkip(marker.size);
      return;
    }
    this.hooks.onError(err);
  }

  // --- literal mode --------------------------------------------------------

  private readLiteral(chunk: Buffer, pos: number): number {
    const n = Math.min(this.litSize - this.litFilled, chunk.length - pos);
    if (this.litSink) {
      try {
        this.litSink.write(chunk.subarray(pos, pos + n));
      } catch (err) {
        this.fatal(`Cannot store literal: ${(err as Error).message}`);
        return chunk.length;
      }
    } else chunk.copy(this.litBuf, this.litFilled, pos, pos + n);
    this.litFilled += n;
    if (this.litFilled === this.litSize) this.finishLiteral();
    return pos + n;
  }

  private finishLiteral(): void {
    const sink = this.litSink;
    const data = this.litBuf;
    this.litBuf = EMPTY;
    this.litFilled = 0;
    this.litSize = 0;
    this.litSink = null;
    if (sink) {
      try {
        sink.finish();
      } catch (err) {
        sink.discard();
        this.fatal(`Cannot store literal: ${(err as Error).message}`);
        return;
      }
      this.addPart({ kind: 'literal', data: EMPTY, nonSync: this.litNonSync, ...(this.litBinary && { binary: true }), sink }, 0);
    } else this.addPart({ kind: 'literal', data, nonSync: this.litNonSync, ...(this.litBinary && { binary: true }) }, data.length);
    this.mode = 'line';
  }

  /** The connection is gone: drops a literal being streamed and any held by the command in progress. */
  close(): void {
    this.held = null;
    this.holding = false;
    this.litSink?.discard();
    this.litSink = null;
    this.resetCommand();
    this.mode = 'dead';
  }

  // --- skipping refused input ----------------------------------------------

  private startSkip(size: number): void {
    this.skipRemaining = size;
    this.discardTail = EMPTY;
    this.mode = size === 0 ? 'discard' : 'skip';
  }

  private skip(chunk: Buffer, pos: number): number {
    const n = Math.min(this.skipRemaining, chunk.length - pos);
    this.skipRemaining -= n;
    if (this.skipRemaining === 0) this.mode = 'discard';
    return pos + n;
  }

  private discard(chunk: Buffer, pos: number): number {
    const lf = chunk.indexOf(LF, pos);
    const end = lf === -1 ? chunk.length : lf;
    this.discardTail = appendTail(this.discardTail, chunk.subarray(pos, end));
    if (lf === -1) return chunk.length;
    this.finishDiscardedLine();
    return lf + 1;
  }

  /** A discarded line ended. If it announced a non-sync literal, that is still part of the refused command. */
  private finishDiscardedLine(): void {
    let tail = this.discardTail;
    this.discardTail = EMPTY;
    if (tail.length > 0 && tail[tail.length - 1] === CR) tail = tail.subarray(0, tail.length - 1);
    if (this.pendingError) {
      const err = this.pendingError;
      this.pendingError = null;
      this.hooks.onError(err);
      if (this.mode === 'dead') return;
    }
    const marker = matchLiteralMarker(tail);
    if (marker?.nonSync) {
      if (marker.size > this.limits.maxDiscardBytes) {
        this.fatal(`Non-synchronizing literal of ${marker.size} bytes is too large`);
      } else {
        this.startSkip(marker.size);
      }
      return;
    }
    // No literal, or a sync one the client will not send without our '+': the command is over.
    this.mode = 'line';
  }

  // --- helpers -------------------------------------------------------------

  private addPart(part: CommandPart, size: number): void {
    this.parts.push(part);
    this.partBytes += size;
  }

  private resetCommand(): void {
    discardSinks(this.parts); // a refused command's streamed literals
    this.parts = [];
    this.partBytes = 0;
    this.cmdBytes = 0;
    this.literalCount = 0;
    this.streamedBytes = 0;
    this.tag = null;
    this.firstLine = true;
  }

  private fatal(reason: string): void {
    this.resetCommand();
    this.lineChunks = [];
    this.lineLen = 0;
    this.litBuf = EMPTY;
    this.litFilled = 0;
    this.litSink?.discard();
    this.litSink = null;
    this.mode = 'dead';
    this.hooks.onError({ kind: 'fatal', reason });
  }
}

/** `{n}` or `{n+}` at the very end of a line (CR already removed), or a literal8 `~{n}` / `~{n+}`. */
function matchLiteralMarker(line: Buffer): LiteralMarker | null {
  let i = line.length - 1;
  if (i < 2 || line[i] !== 0x7d /* } */) return null;
  i--;
  const nonSync = line[i] === 0x2b; /* + */
  if (nonSync) i--;
  const digitsEnd = i + 1;
  while (i >= 0 && line[i]! >= 0x30 && line[i]! <= 0x39) i--;
  const digits = digitsEnd - (i + 1);
  if (digits === 0 || digits > 10 || i < 0 || line[i] !== 0x7b /* { */) return null;
  const size = Number(line.toString('latin1', i + 1, digitsEnd));
  if (size > MAX_LITERAL_SIZE) return null;
  const binary = i > 0 && line[i - 1] === 0x7e; /* ~ */
  return { start: binary ? i - 1 : i, size, nonSync, binary };
}

/** Keep the last TAIL_BYTES bytes of a discarded line, enough to spot a literal marker. */
function appendTail(tail: Buffer, ...pieces: Buffer[]): Buffer {
  for (const p of pieces) {
    if (p.length >= TAIL_BYTES) tail = Buffer.from(p.subarray(p.length - TAIL_BYTES));
    else if (p.length > 0) {
      const t = Buffer.concat([tail, p]);
      tail = t.length > TAIL_BYTES ? t.subarray(t.length - TAIL_BYTES) : t;
    }
  }
  return tail;
}

/**
 * The first space-separated token, if it is a valid tag. Invalid tags give null:
 * echoing control characters or parentheses back in a response would be worse.
 */
function extractTag(line: Buffer, complete: boolean): string | null {
  const sp = line.indexOf(0x20);
  const end = sp === -1 ? (complete ? line.length : -1) : sp;
  if (end <= 0) return null;
  const tag = line.toString('latin1', 0, end);
  return isValidTag(tag) ? tag : null;
}

/** RFC 3501 `tag`: ASTRING-CHAR except '+'. */
function isTagChar(c: number): boolean {
  if (c <= 0x20 || c >= 0x7f) return false;
  // atom-specials (minus ']', which ASTRING-CHAR allows) plus '+'
  return !(c === 0x28 || c === 0x29 || c === 0x7b || c === 0x25 || c === 0x2a || c === 0x22 || c === 0x5c || c === 0x2b);
}

export function isValidTag(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTagChar(s.charCodeAt(i))) return false;
  return true;
}
