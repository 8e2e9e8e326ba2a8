// Row 7 of the load benchmark (issue 5): 20 clients for 20 s doing LOGIN,
// SELECT, FETCH, STORE, EXPUNGE, APPEND and LOGOUT in imaptest-like
// proportions, against a mailbox that starts with 1,000 realistic messages.
//
// Also home of the two things the other load rows share: RawImap, a small
// raw-socket IMAP client with its own framing (literals included) that costs
// far less CPU than imapflow, and the realistic message generator.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';

// --- the raw client ---

export interface Reply {
  status: 'OK' | 'NO' | 'BAD';
  /** The tagged line without the tag. */
  text: string;
  /** Untagged responses, first line of each (literals skipped), at most 200 characters each. */
  untagged: string[];
  ms: number;
}

export interface ConnectOptions {
  port: number;
  host?: string;
  tls?: boolean;
  localAddress?: string;
  timeoutMs?: number;
}

/** A protocol-level failure: the connection closed, a BYE, an unexpected continuation or tag. */
export class DesyncError extends Error {}

const CRLF = Buffer.from('\r\n');

/**
 * One IMAP connection with hand-written framing: reads lines, skips `{n}`
 * literals by length, and matches tagged replies to the one outstanding
 * command. `onUntagged` sees each untagged response's first line with the
 * performance.now() taken when its bytes arrived (push measurements).
 */
export class RawImap {
  private rx: Buffer = Buffer.alloc(0);
  /** Where the response being assembled started, and how far the scan got. */
  private respStart = 0;
  private scan = 0;
  /** First line segment of the current response (before any literal). */
  private head: string | null = null;
  private pending: {
    tag: string;
    t0: number;
    untagged: string[];
    resolve: (r: Reply) => void;
    reject: (e: Error) => void;
    onContinue?: () => void;
  } | null = null;
  private greetingWaiter: ((line: string) => void) | null = null;
  private tagSeq = 0;
  closed = false;
  closeReason = '';
  exists = 0;
  /** Set by the owner: every untagged line as it arrives. */
  onUntagged: ((line: string, t: number) => void) | null = null;
  /** Untagged BYE seen (outside LOGOUT); counted by the mixed load as an error. */
  byes: string[] = [];
  expectBye = false;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d, performance.now()));
    socket.on('error', (err) => {
      this.closeReason ||= err.message;
    });
    socket.on('close', () => {
      this.closed = true;
      this.closeReason ||= 'connection closed';
      const p = this.pending;
      this.pending = null;
      p?.reject(new DesyncError(`${this.closeReason} while waiting for ${p.tag}`));
      this.greetingWaiter?.('');
    });
  }

  /** Connects and waits for the greeting (which must be `* OK`). */
  static async connect(o: ConnectOptions): Promise<RawImap> {
    const host = o.host ?? '127.0.0.1';
    const timeoutMs = o.timeoutMs ?? 15_000;
    const socket = o.tls
      ? tls.connect({ port: o.port, host, localAddress: o.localAddress, rejectUnauthorized: false } as tls.ConnectionOptions)
      : net.connect({ port: o.port, host, localAddress: o.localAddress });
    const c = new RawImap(socket);
    const greeting = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        c.greetingWaiter = null;
        socket.destroy();
        reject(new DesyncError(`no greeting within ${timeoutMs} ms`));
      }, timeoutMs);
      c.greetingWaiter = (line) => {
        clearTimeout(timer);
        c.greetingWaiter = null;
        if (!line) reject(new DesyncError(`closed before the greeting (${c.closeReason})`));
        else resolve(line);
      };
    });
    if (!greeting.startsWith('* OK')) {
      socket.destroy();
      throw new DesyncError(`greeting: ${greeting.slice(0, 120)}`);
    }
    return c;
  }

  private onData(d: Buffer, t: number): void {
    this.rx = this.rx.length === this.respStart ? d : Buffer.concat([this.rx.subarray(this.respStart), d]);
    this.scan -= this.respStart;
    this.respStart = 0;
    for (;;) {
      const nl = this.rx.indexOf(CRLF, this.scan);
      if (nl < 0) return;
      const lineStart = this.scan;
      // A line ending in {n} or {n+} is followed by n bytes of literal.
      let lit = -1;
      if (nl > lineStart && this.rx[nl - 1] === 0x7d /* } */) {
        const open = this.rx.lastIndexOf(0x7b /* { */, nl - 1);
        if (open >= lineStart) {
          const n = Number(this.rx.toString('latin1', open + 1, nl - 1).replace(/\+$/, ''));
          if (Number.isInteger(n) && n >= 0) lit = n;
        }
      }
      if (this.head === null) this.head = this.rx.toString('latin1', lineStart, Math.min(nl, lineStart + 200));
      if (lit >= 0) {
        if (this.rx.length < nl + 2 + lit) {
          return; // wait for the rest of the literal; rescan this line then
        }
        this.scan = nl + 2 + lit;
        continue;
      }
      this.scan = nl + 2;
      const head = this.head;
      this.head = null;
      this.respStart = this.scan;
      this.response(head, t);
    }
  }

  private response(line: string, t: number): void {
    if (this.greetingWaiter) {
      this.greetingWaiter(line);
      return;
    }
    const p = this.pending;
    if (line.startsWith('* ')) {
      const m = /^\* (\d+) (EXISTS|EXPUNGE)\b/i.exec(line);
      if (m) {
        if (m[2].toUpperCase() === 'EXISTS') this.exists = Number(m[1]);
        else this.exists--;
      } else if (/^\* BYE\b/i.test(line) && !this.expectBye) this.byes.push(line);
      p?.untagged.push(line);
      this.onUntagged?.(line, t);
      return;
    }
    if (line.startsWith('+')) {
      if (p?.onContinue) {
        const go = p.onContinue;
        p.onContinue = undefined;
        go();
        return;
      }
      this.fail(`unexpected continuation: ${line.slice(0, 80)}`);
      return;
    }
    const sp = line.indexOf(' ');
    const tag = line.slice(0, sp);
    if (!p || tag !== p.tag) {
      this.fail(`unexpected tagged line (waiting for ${p?.tag ?? 'nothing'}): ${line.slice(0, 120)}`);
      return;
    }
    const rest = line.slice(sp + 1);
    const status = rest.slice(0, 3).toUpperCase().startsWith('OK') ? 'OK' : rest.slice(0, 3).toUpperCase() === 'BAD' ? 'BAD' : 'NO';
    this.pending = null;
    p.resolve({ status, text: rest, untagged: p.untagged, ms: t - p.t0 });
  }

  private fail(why: string): void {
    this.closeReason = `desync: ${why}`;
    this.socket.destroy();
  }

  /**
   * Sends `tag text` and resolves with the tagged reply (NO and BAD resolve
   * too; the caller decides). With `literal`, `text` must end in `{n}`: the
   * literal goes after the server's continuation.
   */
  command(text: string, literal?: Buffer): Promise<Reply> {
    if (this.closed) return Promise.reject(new DesyncError(`connection already closed (${this.closeReason})`));
    if (this.pending) return Promise.reject(new DesyncError('a command is already outstanding'));
    const tag = `t${++this.tagSeq}`;
    return new Promise<Reply>((resolve, reject) => {
      this.pending = { tag, t0: performance.now(), untagged: [], resolve, reject };
      if (literal) {
        this.pending.onContinue = () => {
          this.socket.write(literal);
          this.socket.write('\r\n');
        };
      }
      this.socket.write(`${tag} ${text}\r\n`);
    });
  }

  /** Sends IDLE and waits for its continuation. */
  idle(): Promise<void> {
    const tag = `t${++this.tagSeq}`;
    return new Promise<void>((resolve, reject) => {
      this.pending = { tag, t0: performance.now(), untagged: [], resolve: () => undefined, reject, onContinue: resolve };
      this.socket.write(`${tag} IDLE\r\n`);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// --- realistic messages ---

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part'.split(
    ' ',
  );
const NAMES = ['Alice Martin', 'Bruno Keller', 'Chloé Dubois', 'Dmitri Ivanov', 'Eva Nowak', 'Fatima Haddad', 'Giulia Rossi', 'Hiro Tanaka', 'Ingrid Berg', 'José García'];

function words(r: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(r() * WORDS.length)]);
  return out.join(' ');
}

function paragraphs(r: () => number, bytes: number): string {
  let s = '';
  while (s.length < bytes) {
    let line = '';
    for (let i = 0; i < 4 && s.length + line.length < bytes; i++) line += words(r, 10 + Math.floor(r() * 4)) + '\n';
    s += line + '\n';
  }
  return s;
}

function encodedWord(s: string): string {
  return `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

function base64Lines(buf: Buffer): string {
  return (buf.toString('base64').match(/.{1,76}/g) ?? []).join('\n');
}

/**
 * Message i of a deterministic realistic mailbox: half plain text, a quarter
 * multipart/alternative, one in ten with an attachment (5–60 KB), one in ten
 * with RFC 2047 encoded headers; a third are replies in a thread. LF line ends,
 * as Postfix writes them.
 */
export function realisticMessage(i: number, date: Date): string {
  const r = rng(i * 7919 + 17);
  const kind = i % 20;
  const from = NAMES[i % NAMES.length];
  const fromAddr = `${from.split(' ')[0].toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}@example.org`;
  const msgId = `<${i}.${date.getTime().toString(36)}@load.example>`;
  const thread = i > 3 && i % 3 === 0;
  const parent = thread ? i - 1 - Math.floor(r() * Math.min(i - 1, 30)) : 0;
  const subjectText = `${thread ? 'Re: ' : ''}${words(r, 3 + Math.floor(r() * 5))} #${thread ? parent : i}`;
  const encoded = kind === 7 || kind === 17;
  const h: string[] = [
    `Return-Path: <${fromAddr}>`,
    `Delivered-To: bob@example.com`,
    `Received: from mx.example.org (mx.example.org [192.0.2.${i % 250}])\n\tby mail.example.com (Postfix) with ESMTPS id ${((i * 2654435761) >>> 0).toString(16).toUpperCase()}\n\tfor <bob@example.com>; ${date.toUTCString()}`,
    `From: ${encoded ? encodedWord(from) : `"${from.normalize('NFD').replace(/[^\x20-\x7e]/g, '')}"`} <${fromAddr}>`,
    `To: Bob <bob@example.com>`,
    ...(i % 4 === 0 ? [`Cc: ${NAMES[(i + 3) % NAMES.length].normalize('NFD').replace(/[^\x20-\x7e]/g, '')} <cc${i % 7}@example.net>`] : []),
    `Subject: ${encoded ? encodedWord(`Grüße — ${subjectText} ✓`) : subjectText}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${msgId}`,
    ...(thread ? [`In-Reply-To: <${parent}.x@load.example>`, `References: <${Math.max(1, parent - 3)}.x@load.example> <${parent}.x@load.example>`] : []),
    `MIME-Version: 1.0`,
  ];
  const text = paragraphs(r, 300 + Math.floor(r() * 3500));
  let body: string;
  if (kind < 10) {
    h.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
    body = text;
  } else if (kind < 15 || kind === 17) {
    const b = `alt-${i}-boundary`;
    h.push(`Content-Type: multipart/alternative; boundary="${b}"`);
    const html = `<html><body>${text
      .split('\n\n')
      .map((p) => `<p>${p.replace(/\n/g, '<br>\n')}</p>`)
      .join('\n')}</body></html>\n`;
    body =
      `--${b}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${text}\n` +
      `--${b}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${html}\n--${b}--\n`;
  } else {
    const b = `mixed-${i}-boundary`;
    h.push(`Content-Type: multipart/mixed; boundary="${b}"`);
    const size = 5_000 + Math.floor(r() * 55_000);
    const blob = Buffer.alloc(size);
    for (let k = 0; k < size; k++) blob[k] = Math.floor(r() * 256);
    const name = kind === 19 ? encodedWord(`Übersicht ${i}.pdf`) : `report-${i}.pdf`;
    body =
      `--${b}\nContent-Type: text/plain; charset=utf-8\n\n${text}\n` +
      `--${b}\nContent-Type: application/pdf; name="${name}"\nContent-Disposition: attachment; filename="${name}"\nContent-Transfer-Encoding: base64\n\n${base64Lines(blob)}\n--${b}--\n`;
  }
  return h.join('\n') + '\n\n' + body;
}

/**
 * Writes `count` realistic messages into `<maildir>/cur/` (70% seen, some
 * flagged or answered), mtimes set to their arrival. Returns total bytes.
 */
export function writeRealisticMaildir(maildir: string, count: number): number {
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(maildir, sub), { recursive: true });
  const now = Math.floor(Date.now() / 1000);
  let bytes = 0;
  for (let i = 1; i <= count; i++) {
    const secs = now - (count - i + 1) * 3600;
    const r = rng(i);
    const flags = (r() < 0.1 ? 'F' : '') + (r() < 0.15 ? 'R' : '') + (r() < 0.7 ? 'S' : '');
    const file = path.join(maildir, 'cur', `${secs}.M${i}P1.load:2,${flags}`);
    const text = realisticMessage(i, new Date(secs * 1000));
    fs.writeFileSync(file, text);
    fs.utimesSync(file, secs, secs);
    bytes += Buffer.byteLength(text);
  }
  return bytes;
}

// --- the mixed load ---

/*
 * Proportions, after imaptest's default states (imaptest/states): one session
 * per loop, each state tried in order with its probability.
 *   LOGIN 100%; LIST "" * 50%; STATUS INBOX (MESSAGES UNSEEN RECENT) 50%;
 *   SELECT INBOX 100%;
 *   FETCH 100%: a range of up to 100 messages with a random subset of UID,
 *     FLAGS, ENVELOPE, INTERNALDATE, BODY, BODYSTRUCTURE and
 *     BODY.PEEK[HEADER.FIELDS (random of From To Cc Subject Message-ID
 *     In-Reply-To References Delivered-To)], as imaptest's FETCH;
 *   FETCH2 100%,30%: FETCH n (BODY.PEEK[]) of one message, and again with 30%;
 *   STORE 50%: +FLAGS or -FLAGS (\Seen, \Flagged or \Answered) on 1–10 messages;
 *   DELETE 100%: UID STORE +FLAGS.SILENT (\Deleted) on the message this client
 *     appended in its previous session;
 *   EXPUNGE 100%;
 *   APPEND 100%: one realistic message (synchronizing literal), \Seen;
 *   LOGOUT 100%.
 * Not done: COPY (imaptest 33%: it would grow the mailbox) and MULTIAPPEND.
 * FETCH/STORE only touch the 1,000 original messages (sequence numbers
 * 1..1000 never change: only appended messages are ever expunged, and those
 * sort after them), so a NO can only be the server's fault, not a race
 * between clients. The mailbox stays at about 1,000 + clients messages.
 */
export const MIX = { list: 0.5, status: 0.5, store: 0.5, fetch2Again: 0.3 };
const FETCH_FIELDS = ['UID', 'FLAGS', 'ENVELOPE', 'INTERNALDATE', 'BODY', 'BODYSTRUCTURE'];
const FETCH_HEADERS = ['From', 'To', 'Cc', 'Subject', 'Message-ID', 'In-Reply-To', 'References', 'Delivered-To'];
const STORE_FLAGS = ['\\Seen', '\\Flagged', '\\Answered'];

export interface MixedOptions {
  port: number;
  user: string;
  pass: string;
  clients: number;
  durationMs: number;
  /** Messages in the mailbox at the start: FETCH/STORE stay within 1..original. */
  original: number;
  seed?: number;
}

export interface MixedError {
  command: string;
  response: string;
  count: number;
}

export interface MixedResult {
  clients: number;
  durationMs: number;
  sessions: number;
  commands: number;
  commandsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Per command name: count and latency percentiles. */
  byCommand: Record<string, { n: number; p50: number; p99: number; max: number }>;
  errors: number;
  errorList: MixedError[];
  /** CPU the load generator (this process) used, as a share of one core. */
  clientCpuShare: number;
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

export async function runMixedLoad(o: MixedOptions): Promise<MixedResult> {
  const lat = new Map<string, number[]>();
  const errors = new Map<string, MixedError>();
  let sessions = 0;
  const note = (command: string, response: string) => {
    const key = `${command}\0${response}`;
    const e = errors.get(key);
    if (e) e.count++;
    else errors.set(key, { command, response, count: 1 });
  };
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + o.durationMs;
  let lastDone = started;

  async function client(id: number): Promise<void> {
    const r = rng((o.seed ?? 1) * 1000 + id);
    const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
    let ownUid = 0; // appended in the previous session, deleted in this one
    let appendNo = 0;
    while (performance.now() < deadline) {
      let c: RawImap;
      try {
        c = await RawImap.connect({ port: o.port });
      } catch (err) {
        note('connect', (err as Error).message);
        await new Promise((res) => setTimeout(res, 50));
        continue;
      }
      sessions++;
      const run = async (name: string, text: string, literal?: Buffer): Promise<Reply | null> => {
        if (performance.now() >= deadline) return null;
        const rep = await c.command(text, literal);
        lastDone = Math.max(lastDone, performance.now());
        let a = lat.get(name);
        if (!a) lat.set(name, (a = []));
        a.push(rep.ms);
        if (rep.status !== 'OK') note(text.length > 90 ? text.slice(0, 90) + '…' : text, `${rep.status} ${rep.text.replace(/^\S+\s/, '')}`.slice(0, 200));
        for (const b of c.byes.splice(0)) note(text.slice(0, 90), b.slice(0, 200));
        return rep;
      };
      try {
        if (!(await run('LOGIN', `LOGIN ${o.user} ${o.pass}`))) break;
        if (r() < MIX.list) await run('LIST', 'LIST "" "*"');
        if (r() < MIX.status) await run('STATUS', 'STATUS INBOX (MESSAGES UNSEEN RECENT)');
        const sel = await run('SELECT', 'SELECT INBOX');
        if (!sel) break;
        if (sel.status === 'OK') {
          const max = Math.min(o.original, c.exists);
          // FETCH n:m (random fields), range of up to 100 messages
          const n = 1 + Math.floor(r() * max);
          const m = Math.min(max, n + Math.floor(r() * 100));
          const fields = FETCH_FIELDS.filter(() => r() < 0.4);
          if (r() < 0.4) {
            const hs = FETCH_HEADERS.filter(() => r() < 0.5);
            fields.push(`BODY.PEEK[HEADER.FIELDS (${(hs.length ? hs : ['Subject']).join(' ')})]`);
          }
          if (!fields.length) fields.push('FLAGS');
          await run('FETCH', `FETCH ${n}:${m} (${fields.join(' ')})`);
          // FETCH2: one whole message, again with 30%
          do await run('FETCH2', `FETCH ${1 + Math.floor(r() * max)} (BODY.PEEK[])`);
          while (r() < MIX.fetch2Again && performance.now() < deadline);
          if (r() < MIX.store) {
            const s = 1 + Math.floor(r() * max);
            const e = Math.min(max, s + Math.floor(r() * 10));
            await run('STORE', `STORE ${s}:${e} ${r() < 0.6 ? '+' : '-'}FLAGS (${pick(STORE_FLAGS)})`);
          }
          if (ownUid) {
            await run('DELETE', `UID STORE ${ownUid} +FLAGS.SILENT (\\Deleted)`);
            ownUid = 0;
          }
          await run('EXPUNGE', 'EXPUNGE');
          const msg = Buffer.from(realisticMessage(100_000 + id * 10_000 + ++appendNo, new Date()).replace(/\n/g, '\r\n'));
          const app = await run('APPEND', `APPEND INBOX (\\Seen) {${msg.length}}`, msg);
          const au = app && /\[APPENDUID \d+ (\d+)\]/i.exec(app.text);
          if (au) ownUid = Number(au[1]);
        }
        c.expectBye = true;
        await run('LOGOUT', 'LOGOUT');
      } catch (err) {
        note('(protocol)', (err as Error).message.slice(0, 200));
      } finally {
        c.destroy();
      }
    }
  }

  await Promise.all(Array.from({ length: o.clients }, (_, i) => client(i)));
  const elapsed = Math.max(lastDone, deadline) - started;
  const cpu = process.cpuUsage(cpu0);
  const all = [...lat.values()].flat().sort((a, b) => a - b);
  const byCommand: MixedResult['byCommand'] = {};
  for (const [name, a] of lat) {
    a.sort((x, y) => x - y);
    byCommand[name] = { n: a.length, p50: pct(a, 50), p99: pct(a, 99), max: a[a.length - 1] };
  }
  const errorList = [...errors.values()].sort((a, b) => b.count - a.count);
  return {
    clients: o.clients,
    durationMs: elapsed,
    sessions,
    commands: all.length,
    commandsPerSec: all.length / (elapsed / 1000),
    latencyMs: { p50: pct(all, 50), p90: pct(all, 90), p99: pct(all, 99), max: all[all.length - 1] ?? NaN },
    byCommand,
    errors: errorList.reduce((s, e) => s + e.count, 0),
    errorList,
    clientCpuShare: (cpu.user + cpu.system) / 1000 / elapsed,
  };
}
