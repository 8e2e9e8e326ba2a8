// A raw-socket IMAP client for timing (test/bench/sync.ts).
//
// Inside the timed window it only frames: it finds each CRLF with
// Buffer.indexOf, skips literals {n} by count, and stops at the tagged reply.
// The received chunks are kept as they came (no copies); parsing and checking
// happen afterwards, outside the window (parseResponses, parseFetch).
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface CommandResult {
  tag: string;
  command: string;
  /** From write() until the tagged reply was framed, ms. */
  ms: number;
  /** Everything the server sent for this command, tagged line included. */
  raw: Buffer;
  status: 'OK' | 'NO' | 'BAD' | 'ERROR';
  /** The tagged line without CRLF (or an error description). */
  statusLine: string;
}

export class SyncClient {
  private chunks: Buffer[] = [];
  private skip = 0;
  /** Head of a line that began in an earlier chunk, for the tag check. */
  private partial: Buffer | null = null;
  /** True when the next byte starts a response (not the rest of a line after a literal). */
  private atStart = true;
  private startIsTag = false;
  private tagBuf: Buffer = Buffer.alloc(0);
  private waiting: ((endInChunk: number) => void) | null = null;
  private leftover: Buffer | null = null;
  private closedErr: Error | null = null;
  private onFail: ((e: Error) => void) | null = null;
  connectMs = 0;
  greeting = '';

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    const fail = (e: Error) => {
      this.closedErr ??= e;
      this.onFail?.(e);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by server')));
  }

  /** Connects and reads the greeting. */
  static async connect(port: number, host = '127.0.0.1', timeoutMs = 30_000): Promise<SyncClient> {
    const t0 = performance.now();
    const socket = net.connect({ port, host, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new SyncClient(socket);
    const g = await c.readGreeting(timeoutMs);
    c.greeting = g;
    c.connectMs = performance.now() - t0;
    return c;
  }

  private readGreeting(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => reject(new Error('no greeting')), timeoutMs);
      const grab = () => {
        const all = Buffer.concat([buf, ...this.chunks]);
        this.chunks = [];
        const i = all.indexOf('\r\n');
        if (i < 0) {
          buf = all;
          return false;
        }
        clearTimeout(timer);
        this.leftover = i + 2 < all.length ? all.subarray(i + 2) : null;
        resolve(all.toString('latin1', 0, i));
        return true;
      };
      // Collect raw chunks until the first CRLF (framing not armed yet).
      this.waiting = null;
      const onData = () => {
        if (grab()) this.socket.off('data', onData);
      };
      this.socket.on('data', onData);
      this.onFail = (e) => reject(e);
    });
  }

  private seq = 0;

  /** Sends one command and times it until its tagged reply; never throws for NO/BAD or a lost connection. */
  async command(text: string, timeoutMs = 300_000): Promise<CommandResult> {
    const tag = `s${++this.seq}`;
    this.tagBuf = Buffer.from(tag + ' ', 'latin1');
    this.chunks = [];
    this.skip = 0;
    this.partial = null;
    this.atStart = true;
    this.startIsTag = false;
    if (this.closedErr) return { tag, command: text, ms: NaN, raw: Buffer.alloc(0), status: 'ERROR', statusLine: this.closedErr.message };
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<{ end: number } | { error: Error }>((resolve) => {
      this.waiting = (end) => resolve({ end });
      this.onFail = (e) => resolve({ error: e });
      timer = setTimeout(() => resolve({ error: new Error(`timed out after ${timeoutMs} ms`) }), timeoutMs);
    });
    const t0 = performance.now();
    this.socket.write(`${tag} ${text}\r\n`);
    if (this.leftover) {
      const l = this.leftover;
      this.leftover = null;
      this.onData(l);
    }
    const r = await done;
    const ms = performance.now() - t0;
    clearTimeout(timer);
    this.waiting = null;
    this.onFail = null;
    if ('error' in r) {
      const raw = Buffer.concat(this.chunks);
      this.chunks = [];
      return { tag, command: text, ms: NaN, raw, status: 'ERROR', statusLine: r.error.message };
    }
    // The last chunk may hold bytes after the tagged line (an unsolicited response): keep them.
    const last = this.chunks[this.chunks.length - 1];
    if (r.end < last.length) {
      this.leftover = last.subarray(r.end);
      this.chunks[this.chunks.length - 1] = last.subarray(0, r.end);
    }
    const raw = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [];
    const lineStart = raw.lastIndexOf('\r\n', raw.length - 3) + 2;
    const statusLine = raw.toString('latin1', lineStart >= 2 ? lineStart : 0, raw.length - 2);
    const m = /^\S+ (OK|NO|BAD)\b/.exec(statusLine);
    return { tag, command: text, ms, raw, status: (m?.[1] as CommandResult['status']) ?? 'ERROR', statusLine };
  }

  private onData(d: Buffer): void {
    if (!this.waiting) {
      this.chunks.push(d);
      return;
    }
    this.chunks.push(d);
    let pos = 0;
    const len = d.length;
    while (pos < len) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - pos);
        this.skip -= n;
        pos += n;
        continue;
      }
      if (this.atStart && this.partial === null) {
        // Decide whether this response is the tagged one (needs tag.length bytes).
        if (len - pos >= this.tagBuf.length) this.startIsTag = d[pos] === this.tagBuf[0] && d.compare(this.tagBuf, 0, this.tagBuf.length, pos, pos + this.tagBuf.length) === 0;
        else {
          this.partial = d.subarray(pos);
          return;
        }
      }
      const lf = d.indexOf(10, pos);
      if (lf < 0) {
        // The line goes on in the next chunk; keep its head (tag check) and tail (literal check).
        this.partial = this.partial ? Buffer.concat([this.partial, d.subarray(pos)]) : d.subarray(pos);
        if (this.partial.length > 64 && !this.atStart) this.partial = this.partial.subarray(this.partial.length - 32);
        return;
      }
      let line: Buffer;
      if (this.partial) {
        line = Buffer.concat([this.partial, d.subarray(pos, lf + 1)]);
        this.partial = null;
        if (this.atStart) this.startIsTag = line.length >= this.tagBuf.length && line.compare(this.tagBuf, 0, this.tagBuf.length, 0, this.tagBuf.length) === 0;
      } else line = d.subarray(pos, lf + 1);
      pos = lf + 1;
      const L = line.length;
      // "...{123}\r\n" announces a literal; the response goes on after it.
      if (L >= 4 && line[L - 2] === 13 && line[L - 3] === 0x7d) {
        let k = L - 4;
        let n = 0;
        let mul = 1;
        while (k >= 0 && line[k] >= 0x30 && line[k] <= 0x39) {
          n += (line[k] - 0x30) * mul;
          mul *= 10;
          k--;
        }
        if (k >= 0 && line[k] === 0x7b && mul > 1) {
          this.skip = n;
          this.atStart = false;
          continue;
        }
      }
      // End of a response.
      if (this.startIsTag) {
        const w = this.waiting;
        this.waiting = null;
        w(pos);
        return;
      }
      this.atStart = true;
      this.startIsTag = false;
    }
  }

  async logout(): Promise<void> {
    if (!this.closedErr) await this.command('LOGOUT', 5000);
    this.close();
  }

  close(): void {
    this.onFail = null;
    this.socket.destroy();
  }
}

// --- parsing, outside the timed window ---

export interface Literal {
  literal: Buffer;
}
export type Value = string | null | Literal | Value[];

export interface Response {
  /** The response with each literal replaced by "{n}" (latin1). */
  text: string;
  literals: Buffer[];
  /** Offsets in `text` just after each literal's "{n}\r\n". */
  litAt: number[];
}

/** Splits raw server output into responses (untagged and tagged), literals apart. */
export function parseResponses(raw: Buffer): Response[] {
  const out: Response[] = [];
  let pos = 0;
  let cur: Response | null = null;
  let text = '';
  while (pos < raw.length) {
    const lf = raw.indexOf(10, pos);
    const end = lf < 0 ? raw.length : lf + 1;
    const seg = raw.toString('latin1', pos, end);
    pos = end;
    cur ??= { text: '', literals: [], litAt: [] };
    text += seg;
    const m = /\{(\d+)\}\r\n$/.exec(seg);
    if (m) {
      const n = Number(m[1]);
      cur.literals.push(raw.subarray(pos, pos + n));
      cur.litAt.push(text.length);
      pos += n;
      continue;
    }
    cur.text = text;
    out.push(cur);
    cur = null;
    text = '';
  }
  if (cur) {
    cur.text = text;
    out.push(cur);
  }
  return out;
}

/**
 * Parses the parenthesised data of "* n FETCH (...)" into alternating item
 * names and values. Literals come back as { literal }.
 */
export function parseFetch(r: Response): { seq: number; items: Map<string, Value> } | null {
  const m = /^\* (\d+) FETCH \(/.exec(r.text);
  if (!m) return null;
  const p = new ValueParser(r, m[0].length - 1);
  const list = p.value() as Value[];
  const items = new Map<string, Value>();
  for (let k = 0; k + 1 < list.length; k += 2) items.set(String(list[k]).toUpperCase(), list[k + 1]);
  return { seq: Number(m[1]), items };
}

export class ValueParser {
  private lit = 0;
  constructor(
    private readonly r: Response,
    public pos: number,
  ) {}

  value(): Value {
    const s = this.r.text;
    while (s[this.pos] === ' ') this.pos++;
    const c = s[this.pos];
    if (c === '(') {
      this.pos++;
      const list: Value[] = [];
      for (;;) {
        while (s[this.pos] === ' ') this.pos++;
        if (s[this.pos] === ')') {
          this.pos++;
          return list;
        }
        if (this.pos >= s.length) throw new Error('unterminated list');
        list.push(this.value());
      }
    }
    if (c === '"') {
      let out = '';
      this.pos++;
      for (;;) {
        const ch = s[this.pos++];
        if (ch === undefined) throw new Error('unterminated string');
        if (ch === '\\') out += s[this.pos++];
        else if (ch === '"') return out;
        else out += ch;
      }
    }
    if (c === '{') {
      const close = s.indexOf('}', this.pos);
      this.pos = close + 3; // past "}\r\n"
      const litIndex = this.r.litAt.indexOf(this.pos, this.lit);
      if (litIndex < 0) throw new Error('literal not found');
      this.lit = litIndex + 1;
      return { literal: this.r.literals[litIndex] };
    }
    // Atom, number, NIL, or a section name like BODY[HEADER.FIELDS (A B)]<0>.
    const start = this.pos;
    let depth = 0;
    while (this.pos < s.length) {
      const ch = s[this.pos];
      if (ch === '[') depth++;
      else if (ch === ']') depth--;
      else if (depth === 0 && (ch === ' ' || ch === ')' || ch === '(' || ch === '\r')) break;
      this.pos++;
    }
    const atom = s.slice(start, this.pos);
    if (atom === '') throw new Error(`unexpected ${JSON.stringify(s.slice(this.pos, this.pos + 20))}`);
    return atom.toUpperCase() === 'NIL' ? null : atom;
  }
}
