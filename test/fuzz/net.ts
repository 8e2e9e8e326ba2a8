// The network fuzzer: mutated commands from many sessions against the real
// server process, while other sessions race each other with folder operations
// (CREATE/RENAME/DELETE/APPEND/STORE/EXPUNGE/FETCH) on the same mailboxes.
//
// Oracles, per input and for the whole run:
//  - no crash: the process is alive at the end and never exited;
//  - no hang: after each input (completed so that the server owes it nothing:
//    an unfinished line gets its CRLF, an unfinished literal its bytes), a
//    NOOP sentinel is answered within hangMs; every folder operation gets its
//    tagged reply within hangMs;
//  - no `* BYE Internal error`, no `NO [SERVERBUG]`, nothing logged as an
//    unexpected error (the server's own error lines);
//  - RSS bounded: sampled every second, before/after/peak reported.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { Rng } from './prng.js';
import { SEEDS, serialize, SIMPLE_MESSAGE, MULTIPART_MESSAGE, deepMimeMessage, manyAddressMessage, type Seed, type SessionState } from './corpus.js';
import { mutate } from './mutate.js';
import { inputSeed } from './wire-target.js';

export interface NetOptions {
  port: number;
  pid: number;
  seed: number;
  /** Stop after this long, or after maxInputs fuzz inputs, whichever comes first. */
  durationMs: number;
  maxInputs?: number;
  fuzzSessions: number;
  folderSessions: number;
  hangMs: number;
  /** Called every second with the figures so far. */
  onProgress?: (s: NetStats) => void;
}

export interface NetFailure {
  kind: 'hang' | 'bye-internal' | 'serverbug' | 'exited' | 'folder-op';
  session: string;
  detail: string;
  /** The input that preceded it (wire bytes, JSON-escaped latin1, cut at 2,000 characters). */
  input?: string;
  inputIndex?: number;
  /** The input's id for `npm run fuzz -- --net-replay <id>`. */
  replay?: string;
}

export interface NetStats {
  inputs: number;
  sentinels: number;
  folderOps: number;
  /** Folder operations answered NO (expected: they race each other). */
  folderNo: number;
  connections: number;
  /** BYE reasons seen (other than Internal error), with counts. */
  byes: Record<string, number>;
  /** Connections the server closed without a BYE. */
  closedSilently: number;
  /** Inputs whose completion would have needed more than 2 MiB of literal bytes: the session reconnected instead. */
  abandoned: number;
  /** Client-side framing lost step with the server (a continuation nobody asked for): the session reconnected. */
  desyncs: number;
  failures: NetFailure[];
  byeInternal: number;
  serverbug: number;
  hangs: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssAfterMiB: number;
  slowestMs: number;
  slowestInput: string;
}

export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

const LITERAL_CONTINUATION = '+ Ready for literal data';
/** What the framer answers when it refuses a literal or a line (connection.ts frameError). */
const REFUSAL = /^\S+ (NO \[TOOBIG\] (Literal|Command) too large|BAD Too many literals|BAD Command line too long)/;
const MAX_PAD = 2 * 1024 * 1024;

/** A response reader that knows server literals (`{n}` at a line's end), so message text is never taken for a status line. */
class Conn {
  readonly socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private pendingLiteral = 0;
  private current = '';
  /** Complete responses (literal bytes left out, marked as {n}). */
  private lines: string[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  byeReason: string | null = null;
  /** `+ Ready for literal data` lines received, and how many of them the client answered with a literal. */
  continuations = 0;
  honored = 0;

  constructor(
    port: number,
    localAddress: string,
    /** Prints every byte each way (for replaying one input). */
    readonly trace: boolean,
    readonly onLine: (l: string) => void,
  ) {
    this.socket = net.connect({ port, host: '127.0.0.1', localAddress });
    this.socket.on('data', (d: Buffer) => {
      if (this.trace) console.log(`S: ${JSON.stringify(d.toString('latin1').slice(0, 600))}`);
      this.feed(d);
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private feed(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.pendingLiteral > 0) {
        const n = Math.min(this.pendingLiteral, this.buf.length);
        this.pendingLiteral -= n;
        this.buf = this.buf.subarray(n);
        if (this.pendingLiteral > 0) break;
        continue;
      }
      const lf = this.buf.indexOf(0x0a);
      if (lf < 0) break;
      const line = this.buf.toString('latin1', 0, lf).replace(/\r$/, '');
      this.buf = this.buf.subarray(lf + 1);
      const m = /\{(\d+)\}$/.exec(line);
      if (m) {
        this.current += line;
        this.pendingLiteral = Number(m[1]);
        continue;
      }
      const full = this.current + line;
      this.current = '';
      if (full.startsWith('* BYE ')) this.byeReason = full.slice(6);
      if (full.startsWith(LITERAL_CONTINUATION)) this.continuations++;
      this.onLine(full);
      this.lines.push(full);
    }
    this.wake();
  }

  /** The next response for which `pred` holds (earlier ones are dropped), or null on timeout or close. */
  async waitFor(pred: (l: string) => boolean, timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length) {
        const l = this.lines.shift()!;
        if (pred(l)) return l;
      }
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve();
        }, left);
        this.waiters.push(wake);
      });
    }
  }

  /** Responses received and not yet consumed by waitFor (drops them). */
  drain(): string[] {
    return this.lines.splice(0);
  }

  async write(data: Buffer | string): Promise<void> {
    if (this.closed) return;
    if (this.trace) console.log(`C: ${JSON.stringify((typeof data === 'string' ? data : data.toString('latin1')).slice(0, 600))}`);
    if (!this.socket.write(data)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** `{n}` or `{n+}` at a line's end, as the server's framer reads it (framer.ts matchLiteralMarker). */
function literalMarker(line: Buffer): { size: number; nonSync: boolean } | null {
  const m = /\{(\d{1,10})(\+?)\}$/.exec(line.toString('latin1'));
  if (!m) return null;
  const size = Number(m[1]);
  return size > 0xffffffff ? null : { size, nonSync: m[2] === '+' };
}

/** A network input by its id, `seed index:mutation seed (or valid):session state`: what --net-replay takes. */
export function netInput(id: string): { bytes: Buffer; state: SessionState } {
  const [idx, how, state] = id.split(':');
  const seed = SEEDS[Number(idx)]!;
  return { bytes: how === 'valid' ? serialize(seed.elems) : mutate(seed, new Rng(Number(how))), state: state as SessionState };
}

const TAGGED = (tag: string) => (l: string) => l.startsWith(`${tag} OK`) || l.startsWith(`${tag} NO`) || l.startsWith(`${tag} BAD`);

export class NetFuzzer {
  readonly stats: NetStats;
  private stopAt = 0;
  private nextAddress = 1;
  private inputCounter = 0;

  constructor(private readonly opts: NetOptions) {
    this.stats = {
      inputs: 0, sentinels: 0, folderOps: 0, folderNo: 0, connections: 0, byes: {}, closedSilently: 0, abandoned: 0, desyncs: 0, failures: [],
      byeInternal: 0, serverbug: 0, hangs: 0, rssBeforeMiB: rssMiB(opts.pid), rssPeakMiB: 0, rssAfterMiB: 0, slowestMs: 0, slowestInput: '',
    };
  }

  private done(): boolean {
    return Date.now() >= this.stopAt || (this.opts.maxInputs !== undefined && this.stats.inputs >= this.opts.maxInputs) || this.stats.failures.length >= 50;
  }

  /** A fresh loopback source address per connection: the failed-login penalty and the per-IP caps count per address. */
  private address(): string {
    const n = this.nextAddress++ % 65000;
    return `127.1.${(n >> 8) & 255}.${(n & 255) || 1}`;
  }

  private fail(f: NetFailure): void {
    if (f.kind === 'hang') this.stats.hangs++;
    if (f.kind === 'bye-internal') this.stats.byeInternal++;
    if (f.kind === 'serverbug') this.stats.serverbug++;
    this.stats.failures.push(f);
  }

  private connect(session: string, lastInput: () => { text: string; index: number; id?: string } | null, trace = false): Conn {
    this.stats.connections++;
    const c: Conn = new Conn(this.opts.port, this.address(), trace, (l) => {
      if (/^\S+ NO \[SERVERBUG\]/.test(l)) this.fail({ kind: 'serverbug', session, detail: l, input: lastInput()?.text, inputIndex: lastInput()?.index, replay: lastInput()?.id });
      if (l.startsWith('* BYE Internal error')) this.fail({ kind: 'bye-internal', session, detail: l, input: lastInput()?.text, inputIndex: lastInput()?.index, replay: lastInput()?.id });
    });
    c.socket.on('close', () => {
      if (c.byeReason === null) this.stats.closedSilently++;
      else if (!c.byeReason.startsWith('Internal error')) {
        const reason = c.byeReason.replace(/\d+/g, 'N').slice(0, 60);
        this.stats.byes[reason] = (this.stats.byes[reason] ?? 0) + 1;
      }
    });
    return c;
  }

  async run(): Promise<NetStats> {
    this.stopAt = Date.now() + this.opts.durationMs;
    const rssTimer = setInterval(() => {
      const r = rssMiB(this.opts.pid);
      if (r > this.stats.rssPeakMiB) this.stats.rssPeakMiB = r;
      this.opts.onProgress?.(this.stats);
    }, 1000);
    try {
      const sessions: Promise<void>[] = [];
      for (let i = 0; i < this.opts.fuzzSessions; i++) sessions.push(this.fuzzSession(i));
      for (let i = 0; i < this.opts.folderSessions; i++) sessions.push(this.folderSession(i));
      await Promise.all(sessions);
    } finally {
      clearInterval(rssTimer);
    }
    this.stats.rssAfterMiB = rssMiB(this.opts.pid);
    if (Number.isNaN(this.stats.rssAfterMiB)) this.fail({ kind: 'exited', session: '-', detail: `server process ${this.opts.pid} is gone` });
    return this.stats;
  }

  // --- fuzz sessions --------------------------------------------------------

  private async fuzzSession(n: number): Promise<void> {
    const rng = new Rng(inputSeed(this.opts.seed, 0x7fff0000 + n));
    const name = `fuzz${n}`;
    let last: { text: string; index: number; id?: string } | null = null;
    while (!this.done()) {
      // The state this connection fuzzes in: mostly with a mailbox selected, where most commands are.
      const target: SessionState = rng.chance(0.2) ? 'notauth' : rng.chance(0.25) ? 'auth' : 'selected';
      const c = this.connect(name, () => last);
      try {
        if (!(await c.waitFor((l) => l.startsWith('* OK') || l.startsWith('* BYE'), this.opts.hangMs))) {
          if (!c.closed) this.fail({ kind: 'hang', session: name, detail: 'no greeting' });
          continue;
        }
        if (target !== 'notauth' && !(await this.setup(c, name, rng, target))) continue;
        const pool = SEEDS.filter((s) => target === 'selected' || s.state === 'notauth' || (target === 'auth' && s.state === 'auth'));
        for (let k = 0, inputs = 1 + rng.int(60); k < inputs && !c.closed && !this.done(); k++) {
          const seed: Seed = rng.chance(0.05) ? rng.pick(SEEDS) : rng.pick(pool);
          const index = this.inputCounter++;
          const id = `${SEEDS.indexOf(seed)}:${rng.chance(0.1) ? 'valid' : rng.u32()}:${target}`;
          const bytes = netInput(id).bytes;
          last = { text: JSON.stringify(bytes.subarray(0, 2000).toString('latin1')), index, id };
          const t0 = Date.now();
          const ok = await this.sendInput(c, name, bytes, rng, last);
          this.stats.inputs++;
          const ms = Date.now() - t0;
          if (ms > this.stats.slowestMs) {
            this.stats.slowestMs = ms;
            this.stats.slowestInput = last.text.slice(0, 300);
          }
          if (!ok) break;
        }
      } finally {
        c.close();
      }
    }
  }

  /** Logs in (as bob, sometimes alice) and selects a folder, the valid way. */
  private async setup(c: Conn, session: string, rng: Rng, target: SessionState): Promise<boolean> {
    const user = rng.chance(0.8) ? 'bob' : 'alice';
    const steps = [`s1 LOGIN ${user} ${user}-pass`];
    if (rng.chance(0.3)) steps.push('s2 ENABLE QRESYNC');
    if (target === 'selected') steps.push(`s3 ${rng.chance(0.8) ? 'SELECT' : 'EXAMINE'} ${rng.pick(['INBOX', 'INBOX', 'Shared', 'Race0', 'Trash'])}`);
    for (const step of steps) {
      const tag = step.split(' ')[0];
      await c.write(`${step}\r\n`);
      const reply = await c.waitFor(TAGGED(tag), this.opts.hangMs);
      if (!reply) {
        if (!c.closed) this.fail({ kind: 'hang', session, detail: `no reply to ${step}` });
        return false;
      }
      if (tag === 's1' && !reply.startsWith('s1 OK')) return false;
    }
    return true;
  }

  /**
   * Sends one input as a client would (waiting for the continuation of each
   * synchronizing literal, dropping it when the server refuses), completes it
   * so the server owes a reply, then waits for a NOOP sentinel's.
   * False: the connection is gone or out of step; the session reconnects.
   */
  private async sendInput(c: Conn, session: string, input: Buffer, rng: Rng, last: { text: string; index: number; id?: string }): Promise<boolean> {
    let pos = 0;
    let literalLeft = 0; // bytes of a literal the server is reading
    let lineOpen = false; // a literal was accepted and the rest of its line has not been sent
    c.drain();
    while (pos < input.length) {
      if (c.closed) return false;
      if (literalLeft > 0) {
        const n = Math.min(literalLeft, input.length - pos);
        await c.write(input.subarray(pos, pos + n));
        pos += n;
        literalLeft -= n;
        continue;
      }
      lineOpen = false;
      const lf = input.indexOf(0x0a, pos);
      if (lf < 0) {
        // An unfinished last line gets its CRLF here, so a marker it ends with is seen as the server will see it.
        input = Buffer.concat([input, Buffer.from('\r\n')]);
        continue;
      }
      let line = input.subarray(pos, lf);
      if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      const marker = literalMarker(line);
      // Pieces of a line sometimes arrive apart, as over a slow link.
      if (rng.chance(0.1) && lf - pos > 2) {
        const cut = pos + 1 + rng.int(lf - pos - 1);
        await c.write(input.subarray(pos, cut));
        await new Promise((r) => setImmediate(r));
        await c.write(input.subarray(cut, lf + 1));
      } else await c.write(input.subarray(pos, lf + 1));
      pos = lf + 1;
      if (!marker) continue;
      if (marker.nonSync) {
        literalLeft = marker.size;
        lineOpen = true;
        continue;
      }
      // A synchronizing literal: its bytes go only after the server's go-ahead; after a refusal
      // (of this literal, or of an earlier one of the command: the rest is dropped) never.
      const reply = await c.waitFor((l) => l.startsWith(LITERAL_CONTINUATION) || REFUSAL.test(l) || l.startsWith('* BYE'), 20_000);
      if (reply === null && !c.closed) {
        // Neither a go-ahead nor a refusal: the server is inside a literal this client thinks it
        // is not sending (it took an earlier command's untagged BAD for the refusal of one).
        // Out of step, not a hang; waiting 20 s at each of the input's markers hung the test
        // (37 markers, seed 1460870426). A server that stops answering still fails the sentinels.
        this.stats.desyncs++;
        return false;
      }
      if (reply?.startsWith(LITERAL_CONTINUATION)) {
        c.honored++;
        literalLeft = marker.size;
        lineOpen = true;
      } else pos = Math.min(input.length, pos + marker.size);
    }
    // Complete a literal the input left unfinished, then its line.
    if (literalLeft > 0) {
      if (literalLeft > MAX_PAD) {
        this.stats.abandoned++;
        return false;
      }
      await c.write(Buffer.alloc(literalLeft, 0x78));
    }
    if (lineOpen) await c.write('\r\n');

    // The sentinel. Continuations that are not for literals are answered so the sentinel is reached.
    const sentinelTags = new Set<string>();
    const sendSentinel = async () => {
      const tag = `Z${this.stats.sentinels++}`;
      sentinelTags.add(tag);
      await c.write(`${tag} NOOP\r\n`);
    };
    await sendSentinel();
    const deadline = Date.now() + this.opts.hangMs;
    for (;;) {
      const l = await c.waitFor(
        (x) => x.startsWith('+') || /^Z\d+ (OK|NO|BAD)\b/.test(x),
        Math.max(0, deadline - Date.now()),
      );
      if (l === null) {
        if (c.closed) return false;
        // The server asked for a literal the client did not send (it took a late refusal of an
        // earlier command for this one's): the sentinel went into that literal. Out of step, not a hang.
        if (c.continuations > c.honored) {
          this.stats.desyncs++;
          return false;
        }
        this.fail({ kind: 'hang', session, detail: `no reply to the sentinel within ${this.opts.hangMs} ms`, input: last.text, inputIndex: last.index, replay: last.id });
        return false;
      }
      if (l.startsWith('Z')) {
        if (sentinelTags.has(l.split(' ')[0])) return true;
        continue;
      }
      if (l.startsWith(LITERAL_CONTINUATION)) {
        this.stats.desyncs++;
        return false;
      }
      await c.write(l.startsWith('+ idling') ? 'DONE\r\n' : '*\r\n');
      await sendSentinel();
    }
  }

  /** One input on a fresh session in `state`, every byte printed: for looking at a failure. */
  async replay(input: Buffer, state: SessionState): Promise<boolean> {
    this.stopAt = Date.now() + 600_000;
    const c = this.connect('replay', () => null, true);
    try {
      await c.waitFor((l) => l.startsWith('* OK'), this.opts.hangMs);
      if (state !== 'notauth' && !(await this.setup(c, 'replay', new Rng(1), state))) return false;
      return await this.sendInput(c, 'replay', input, new Rng(2), { text: '', index: 0 });
    } finally {
      c.close();
    }
  }

  // --- folder sessions ------------------------------------------------------

  /** Races the other folder sessions on shared folder names; every command must get its tagged reply in time. */
  private async folderSession(n: number): Promise<void> {
    const rng = new Rng(inputSeed(this.opts.seed, 0x7ffe0000 + n));
    const name = `folders${n}`;
    let tagNo = 0;
    while (!this.done()) {
      const c = this.connect(name, () => null);
      try {
        if (!(await c.waitFor((l) => l.startsWith('* OK'), this.opts.hangMs))) continue;
        const run = async (cmd: string, literal?: string): Promise<string | null> => {
          const tag = `f${tagNo++}`;
          if (literal !== undefined) {
            await c.write(`${tag} ${cmd} {${Buffer.byteLength(literal)}+}\r\n`);
            await c.write(`${literal}\r\n`);
          } else await c.write(`${tag} ${cmd}\r\n`);
          const reply = await c.waitFor(TAGGED(tag), this.opts.hangMs);
          this.stats.folderOps++;
          if (reply === null && !c.closed) this.fail({ kind: 'hang', session: name, detail: `no reply to ${cmd.slice(0, 100)}` });
          if (reply?.startsWith(`${tag} NO`)) this.stats.folderNo++;
          return reply;
        };
        if (!(await run(`LOGIN bob bob-pass`))?.includes(' OK')) continue;
        for (let k = 0; k < 40 && !c.closed && !this.done(); k++) {
          const f = `Race${rng.int(3)}`;
          const g = `Race${rng.int(3)}`;
          switch (rng.int(10)) {
            case 0:
              await run(`CREATE ${f}`);
              break;
            case 1:
              await run(`RENAME ${f} ${g}`);
              break;
            case 2:
              await run(`DELETE ${f}`);
              break;
            case 3:
              await run(`APPEND ${rng.pick([f, 'INBOX', 'Shared'])} (\\Seen)`, rng.pick([SIMPLE_MESSAGE, MULTIPART_MESSAGE, deepMimeMessage(40), manyAddressMessage(200)]));
              break;
            case 4:
              await run(`SELECT ${rng.pick([f, 'INBOX', 'Shared'])}`);
              break;
            case 5:
              await run(`STORE 1:* +FLAGS (\\Deleted $Fuzz)`);
              break;
            case 6:
              await run(`EXPUNGE`);
              break;
            case 7:
              await run(`FETCH 1:* (FLAGS UID ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER] RFC822.SIZE)`);
              break;
            case 8:
              await run(`UID MOVE 1:* ${rng.pick([f, 'Shared', 'INBOX'])}`);
              break;
            case 9:
              await run(`STATUS ${f} (MESSAGES UIDNEXT)`);
              break;
          }
        }
        await run('LOGOUT');
      } finally {
        c.close();
      }
    }
  }
}
