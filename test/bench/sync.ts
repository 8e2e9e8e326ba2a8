// Mailbox-sync benchmark, maildir-imapd beside Dovecot on copies of one
// generated Maildir (issue 5, rows 1–6; method of
// ../shared/fixtures/dovecot-sync-bench.md).
//
//   node .dist-sync/test/bench/sync.js [--sizes=10000,50000] [--trials=3] [--quick]
//        [--seed=1] [--warm=3] [--restart=3] [--no-dovecot] [--no-ours] [--no-drop]
//        [--timeout-s=300] [--out=bench-results/sync.json]
//
// Each session is a new TCP connection: LOGIN, SELECT INBOX, then
//   2  UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (…Thunderbird's list…)])
//   3a UID FETCH 1:* (FLAGS)
//   4  FETCH 1:* (ENVELOPE BODYSTRUCTURE INTERNALDATE RFC822.SIZE)
//   5  UID FETCH 1:2000 (BODY.PEEK[])
//   6a UID SEARCH TEXT "kumquat"   6b UID SORT (DATE) UTF-8 ALL   6c UID THREAD REFERENCES UTF-8 ALL
// and, in a connection of its own right after, 3b: ENABLE QRESYNC + SELECT INBOX (QRESYNC (v m))
// with the UIDVALIDITY/HIGHESTMODSEQ the session saw (nothing changed in between).
//
// States: cold = fresh copy, no index files, page cache dropped (root), the first
// session ever; warm = the next sessions; for maildir-imapd also restart-first /
// restart = the first / the following sessions after SIGTERM and a new start on
// the same Maildir (its persisted state kept). Dovecot has no restart state: each
// Dovecot session is a fresh imap process reading its on-disk index, so our
// restart rows are compared with Dovecot's warm ones.
//
// Raw figures: bench-results/sync.json (relative to the working directory).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startServer, type MailTree, type RunningServer } from '../support/server.js';
import { startDovecot, dovecotAvailable, type DovecotPeer } from '../support/dovecot.js';
import { cachedCorpus, MARKER, type Corpus } from './corpus.js';
import { SyncClient, parseResponses, parseFetch, type CommandResult, type Literal, type Value } from './sync-client.js';
import { fmtMs, table, rssKb } from './stats.js';
import { shippedEnv } from './shipped-env.js';

const run = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const RUN_ROOT = path.resolve(HERE, '../../../.tmp/bench-sync-run');
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

export const TB_FIELDS = 'From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To';
export const ROWS: Array<{ id: string; label: string; command?: string }> = [
  { id: '1', label: 'LOGIN + SELECT INBOX' },
  { id: '1s', label: '  SELECT INBOX alone', command: 'SELECT INBOX' },
  { id: '2', label: 'TB header sync', command: `UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (${TB_FIELDS})])` },
  { id: '3a', label: 'UID FETCH 1:* (FLAGS)', command: 'UID FETCH 1:* (FLAGS)' },
  { id: '3b', label: 'QRESYNC SELECT, no change' },
  { id: '4', label: 'ENVELOPE+BODYSTRUCTURE', command: 'FETCH 1:* (ENVELOPE BODYSTRUCTURE INTERNALDATE RFC822.SIZE)' },
  { id: '5', label: 'BODY[] of UIDs 1:2000', command: 'UID FETCH 1:2000 (BODY.PEEK[])' },
  { id: '6a', label: `SEARCH TEXT "${MARKER}"`, command: `UID SEARCH TEXT "${MARKER}"` },
  { id: '6b', label: 'UID SORT (DATE)', command: 'UID SORT (DATE) UTF-8 ALL' },
  { id: '6c', label: 'UID THREAD REFERENCES', command: 'UID THREAD REFERENCES UTF-8 ALL' },
];
const SESSION_ROWS = ['2', '3a', '4', '5', '6a', '6b', '6c'];

export type ServerName = 'maildir-imapd' | 'dovecot';
export type State = 'cold' | 'warm' | 'restart-first' | 'restart';

export interface RowSample {
  ms: number;
  /** Bytes the server sent for the command. */
  bytes: number;
  /** Untagged FETCH responses (rows 2–5). */
  fetches?: number;
  status: string;
  /** maildir-imapd: worst event-loop delay while the row ran (SIGUSR2 window), ms. */
  loopMaxMs?: number;
  loopP99Ms?: number;
  rssBytes?: number;
}

export interface SessionResult {
  size: number;
  server: ServerName;
  trial: number;
  state: State;
  /** 0-based session number within the trial (cold = 0). */
  session: number;
  connectMs?: number;
  rows: Record<string, RowSample>;
  /** Dovecot: VmRSS of the imap process serving the session, before LOGOUT. */
  imapRssKb?: number | null;
  /** 1-minute load average when the session started (the host is shared). */
  load1?: number;
  errors: string[];
}

export interface SummaryRow {
  size: number;
  row: string;
  state: State;
  ours: Stat | null;
  dovecot: Stat | null;
  /** Which Dovecot state it is compared with. */
  dovecotState: State;
  ratio: number | null;
  oursLoopMaxMs: number | null;
  oursRate?: string;
  dovecotRate?: string;
}

interface Stat {
  n: number;
  median: number;
  min: number;
  max: number;
}

export interface SyncResults {
  benchmark: string;
  date: string;
  node: string;
  host: { platform: string; release: string; cpus: number; cpuModel?: string };
  options: Options;
  corpora: Array<Omit<Corpus, 'maildir'> & { maildir: string }>;
  sessions: SessionResult[];
  summary: SummaryRow[];
  validation: { sessions: number; failed: number; errors: string[] };
  serverProblems: string[];
  notes: string[];
  runtimeS: number;
  /** HEAD and the src/ files that differed from it when the run started (the server is built from the working tree). */
  git?: { head: string; dirtySrc: string[] };
}

interface Options {
  sizes: number[];
  trials: Record<number, number>;
  seed: number;
  warm: number;
  restart: number;
  dovecot: boolean;
  ours: boolean;
  drop: boolean;
  timeoutMs: number;
  out: string;
  /** Soft limit on the whole run, minutes (0: none). Over it, maildir-imapd trials run 1 warm and 1 restart session. */
  budgetMin: number;
}

function parseArgs(argv: string[]): Options {
  const get = (n: string) => argv.find((a) => a.startsWith(`--${n}=`))?.slice(n.length + 3);
  const has = (n: string) => argv.includes(`--${n}`);
  const quick = has('quick');
  const sizes = (get('sizes') ?? (quick ? '10000' : '10000,50000')).split(',').map(Number);
  const trialsArg = get('trials');
  const trials: Record<number, number> = {};
  for (const s of sizes) trials[s] = trialsArg ? Number(trialsArg) : quick ? 1 : 3;
  return {
    sizes,
    trials,
    seed: Number(get('seed') ?? 1),
    warm: Number(get('warm') ?? 3),
    restart: Number(get('restart') ?? 3),
    dovecot: !has('no-dovecot'),
    ours: !has('no-ours'),
    drop: !has('no-drop'),
    timeoutMs: Number(get('timeout-s') ?? 300) * 1000,
    out: get('out') ?? path.join('bench-results', 'sync.json'),
    budgetMin: Number(get('budget-min') ?? (quick ? 0 : 25)),
  };
}

// --- helpers ---

const started = performance.now();
function log(msg: string): void {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function stat(v: number[]): Stat | null {
  const f = v.filter(Number.isFinite);
  if (!f.length) return null;
  return { n: f.length, median: median(f), min: Math.min(...f), max: Math.max(...f) };
}

export async function dropCaches(opts: { drop: boolean }, notes: Set<string>): Promise<void> {
  if (!opts.drop) {
    notes.add('cold: page cache NOT dropped (--no-drop)');
    return;
  }
  if (!isRoot()) {
    notes.add('cold: page cache not dropped (not root: /proc/sys/vm/drop_caches needs root)');
    return;
  }
  await run('sync');
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

/** A tree like makeMailTree's (users bob and alice), bob's Maildir a hard-linked copy of the corpus. */
export async function prepareTree(corpus: Corpus, label: string): Promise<MailTree> {
  fs.mkdirSync(RUN_ROOT, { recursive: true });
  const dir = fs.mkdtempSync(path.join(RUN_ROOT, `${label}-`));
  fs.chmodSync(dir, 0o711);
  const usersFile = path.join(dir, 'users');
  fs.writeFileSync(usersFile, 'bob:{PLAIN}bob-pass\nalice:{PLAIN}alice-pass\n');
  const maildir = (user: string) => path.join(dir, 'mail', user, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(maildir('alice'), sub), { recursive: true });
  fs.mkdirSync(path.join(dir, 'mail', 'bob'), { recursive: true });
  // Hard links: the files are never written by either server (no STORE/EXPUNGE here), only their directory entries.
  await run('cp', ['-al', corpus.maildir, maildir('bob')]);
  if (isRoot()) await run('chown', ['-R', 'vmail:vmail', path.join(dir, 'mail')]).catch(() => undefined);
  return { dir, usersFile, maildir, template: path.join(dir, 'mail', '%n', 'Maildir') };
}

async function warmupLogin(port: number): Promise<void> {
  const c = await SyncClient.connect(port);
  await c.command('LOGIN alice alice-pass', 30_000);
  await c.command('SELECT INBOX', 30_000);
  await c.logout();
}

/** SIGUSR2 → the server logs {"msg":"loop stats",…}; returns that line's figures. */
class LoopProbe {
  private seen = 0;
  constructor(private readonly srv: RunningServer) {
    this.seen = this.count();
  }
  private lines(): string[] {
    return this.srv
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"loop stats"'));
  }
  private count(): number {
    return this.lines().length;
  }
  async sample(): Promise<{ loopMaxMs: number; loopP99Ms: number; rssBytes: number } | null> {
    const pid = this.srv.proc.pid;
    if (!pid) return null;
    const before = this.count();
    try {
      process.kill(pid, 'SIGUSR2');
    } catch {
      return null;
    }
    const deadline = performance.now() + 3000;
    for (;;) {
      const ls = this.lines();
      if (ls.length > before) {
        this.seen = ls.length;
        try {
          const j = JSON.parse(ls[ls.length - 1]) as { loopMaxMs: number; loopP99Ms: number; rssBytes: number };
          return { loopMaxMs: j.loopMaxMs, loopP99Ms: j.loopP99Ms, rssBytes: j.rssBytes };
        } catch {
          return null;
        }
      }
      if (performance.now() > deadline) return null;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/** The pid holding the server end of a loopback connection (via /proc/net/tcp and /proc/*\/fd). */
function serverPidOf(clientPort: number, serverPort: number): number | null {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  let inode: string | null = null;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      if (cols[1].endsWith(`:${hex(serverPort)}`) && cols[2].endsWith(`:${hex(clientPort)}`)) {
        inode = cols[9];
        break;
      }
    }
    if (inode) break;
  }
  if (!inode || inode === '0') return null;
  const target = `socket:[${inode}]`;
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${e}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${e}/fd/${fd}`) === target) return Number(e);
      } catch {
        // gone
      }
    }
  }
  return null;
}

// --- one session ---

export interface Expect {
  count: number;
  planted: number;
}

export interface SessionCtx {
  server: ServerName;
  /** Whose Maildir the session syncs (password `<user>-pass`); bob unless set. */
  user?: string;
  port: number;
  probe: LoopProbe | null;
  timeoutMs: number;
}

async function timedRow(ctx: SessionCtx, res: SessionResult, id: string, fn: () => Promise<{ ms: number; results: CommandResult[] }>): Promise<CommandResult[]> {
  if (ctx.probe) await ctx.probe.sample();
  const { ms, results } = await fn();
  const sample: RowSample = {
    ms,
    bytes: results.reduce((a, r) => a + r.raw.length, 0),
    status: results.map((r) => r.status).join('+'),
  };
  if (ctx.probe) {
    const s = await ctx.probe.sample();
    if (s) {
      sample.loopMaxMs = s.loopMaxMs;
      sample.loopP99Ms = s.loopP99Ms;
      sample.rssBytes = s.rssBytes;
    }
  }
  res.rows[id] = sample;
  for (const r of results) if (r.status !== 'OK') res.errors.push(`row ${id}: ${r.command.slice(0, 60)} → ${r.status} ${r.statusLine.slice(0, 200)}`);
  return results;
}

export async function runSession(ctx: SessionCtx, expect: Expect, meta: { size: number; trial: number; state: State; session: number }): Promise<SessionResult> {
  const res: SessionResult = { ...meta, server: ctx.server, rows: {}, errors: [], load1: os.loadavg()[0] };
  const raws = new Map<string, CommandResult>();
  let c: SyncClient | null = null;
  try {
    c = await SyncClient.connect(ctx.port);
    res.connectMs = c.connectMs;
    const cl = c;
    let login: CommandResult | undefined;
    let select: CommandResult | undefined;
    await timedRow(ctx, res, '1', async () => {
      login = await cl.command(`LOGIN ${ctx.user ?? 'bob'} ${ctx.user ?? 'bob'}-pass`, ctx.timeoutMs);
      select = await cl.command('SELECT INBOX', ctx.timeoutMs);
      return { ms: login.ms + select.ms, results: [login, select] };
    });
    res.rows['1s'] = { ms: select!.ms, bytes: select!.raw.length, status: select!.status };
    raws.set('1s', select!);
    if (login!.status !== 'OK' || select!.status !== 'OK') throw new Error('LOGIN/SELECT failed');
    for (const id of SESSION_ROWS) {
      const cmd = ROWS.find((r) => r.id === id)!.command!;
      const [r] = await timedRow(ctx, res, id, async () => {
        const r = await cl.command(cmd, ctx.timeoutMs);
        return { ms: r.ms, results: [r] };
      });
      raws.set(id, r);
      if (r.status === 'ERROR') throw new Error(`row ${id}: ${r.statusLine}`);
    }
    const st = await cl.command('STATUS INBOX (UIDVALIDITY HIGHESTMODSEQ)', 30_000);
    raws.set('status', st);
    if (ctx.server === 'dovecot') res.imapRssKb = rssKb(serverPidOf(cl.socket.localPort!, ctx.port));
    await cl.logout();
    c = null;

    // 3b: a reconnect that resyncs with QRESYNC, nothing changed.
    const m = /UIDVALIDITY (\d+) HIGHESTMODSEQ (\d+)/i.exec(st.raw.toString('latin1'));
    if (!m) res.errors.push(`STATUS gave no UIDVALIDITY/HIGHESTMODSEQ: ${st.raw.toString('latin1').slice(0, 200)}`);
    else {
      c = await SyncClient.connect(ctx.port);
      const q = c;
      const lg = await q.command(`LOGIN ${ctx.user ?? 'bob'} ${ctx.user ?? 'bob'}-pass`, ctx.timeoutMs);
      if (lg.status !== 'OK') throw new Error(`3b LOGIN: ${lg.statusLine}`);
      const [en, sel] = await timedRow(ctx, res, '3b', async () => {
        const en = await q.command('ENABLE QRESYNC', ctx.timeoutMs);
        const sel = await q.command(`SELECT INBOX (QRESYNC (${m[1]} ${m[2]}))`, ctx.timeoutMs);
        return { ms: en.ms + sel.ms, results: [en, sel] };
      });
      raws.set('3b', sel);
      if (!/\* ENABLED .*QRESYNC/i.test(en.raw.toString('latin1'))) res.errors.push(`3b: ENABLE QRESYNC did not answer * ENABLED QRESYNC: ${en.raw.toString('latin1').slice(0, 200)}`);
      (res as SessionResult & { _qresync?: [string, string] })._qresync = [m[1], m[2]];
      await q.logout();
      c = null;
    }
  } catch (err) {
    res.errors.push(`session aborted: ${(err as Error).message}`);
  } finally {
    c?.close();
  }
  try {
    validate(res, raws, expect);
  } catch (err) {
    res.errors.push(`validation crashed: ${(err as Error).stack?.split('\n').slice(0, 3).join(' ')}`);
  }
  delete (res as SessionResult & { _qresync?: unknown })._qresync;
  return res;
}

// --- validation (after the timed window) ---

const MONTH: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };
/** RFC 5322 Date → ms since the epoch (UTC), or NaN. */
export function parseDateHeader(v: string): number {
  const m = /(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4})?/.exec(v);
  if (!m) return NaN;
  const mon = MONTH[m[2].toLowerCase()];
  if (mon === undefined) return NaN;
  let t = Date.UTC(Number(m[3]), mon, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  if (m[7]) {
    const sign = m[7][0] === '-' ? -1 : 1;
    t -= sign * (Number(m[7].slice(1, 3)) * 60 + Number(m[7].slice(3, 5))) * 60_000;
  }
  return t;
}

/** True when every LF is preceded by CR and every CR followed by LF. */
export function crlfOnly(b: Buffer): boolean {
  let i = 0;
  while ((i = b.indexOf(10, i)) >= 0) {
    if (i === 0 || b[i - 1] !== 13) return false;
    i++;
  }
  i = 0;
  while ((i = b.indexOf(13, i)) >= 0) {
    if (b[i + 1] !== 10) return false;
    i++;
  }
  return true;
}

const isLit = (v: Value | undefined): v is Literal => typeof v === 'object' && v !== null && !Array.isArray(v) && 'literal' in v;

function validate(res: SessionResult, raws: Map<string, CommandResult>, expect: Expect): void {
  const err = (row: string, msg: string) => {
    if (res.errors.filter((e) => e.startsWith(`row ${row}:`)).length < 5) res.errors.push(`row ${row}: ${msg}`);
  };
  // SELECT
  const sel = raws.get('1s');
  if (sel) {
    const t = sel.raw.toString('latin1');
    const ex = /\* (\d+) EXISTS/.exec(t);
    if (!ex || Number(ex[1]) !== expect.count) err('1', `SELECT EXISTS ${ex?.[1]} != ${expect.count}`);
    if (!/UIDVALIDITY \d+/.test(t)) err('1', 'SELECT without UIDVALIDITY');
  }
  // Row 2
  const sizeByUid = new Map<number, number>();
  const flagsByUid = new Map<number, string>();
  const dateByUid = new Map<number, number>();
  const uids: number[] = [];
  const r2 = raws.get('2');
  if (r2?.status === 'OK') {
    let fetches = 0;
    let prev = 0;
    for (const resp of parseResponses(r2.raw)) {
      if (!resp.text.startsWith('* ') || !/^\* \d+ FETCH/.test(resp.text)) continue;
      fetches++;
      const f = parseFetch(resp)!;
      const uid = Number(f.items.get('UID'));
      const size = Number(f.items.get('RFC822.SIZE'));
      const flags = f.items.get('FLAGS');
      let hdr: Value | undefined;
      for (const [k, v] of f.items) if (k.startsWith('BODY[HEADER.FIELDS')) hdr = v;
      if (!Number.isInteger(uid) || uid <= prev) err('2', `UID ${uid} not ascending after ${prev} (seq ${f.seq})`);
      prev = uid;
      if (!Number.isInteger(size)) err('2', `no RFC822.SIZE for UID ${uid}`);
      if (!Array.isArray(flags)) err('2', `no FLAGS for UID ${uid}`);
      if (!isLit(hdr) && typeof hdr !== 'string') err('2', `no header fields for UID ${uid}`);
      const h = isLit(hdr) ? hdr.literal : Buffer.from(String(hdr ?? ''), 'latin1');
      if (!h.toString('latin1').endsWith('\r\n')) err('2', `header literal of UID ${uid} does not end with a blank line`);
      else if (h.length > 2 && !h.toString('latin1').endsWith('\r\n\r\n')) err('2', `header literal of UID ${uid} does not end with a blank line`);
      if (!crlfOnly(h)) err('2', `header literal of UID ${uid} has bare LF/CR`);
      uids.push(uid);
      sizeByUid.set(uid, size);
      flagsByUid.set(uid, Array.isArray(flags) ? flags.map(String).sort().join(' ') : '?');
      const dm = /(?:^|\r\n)Date:[ \t]*([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)/i.exec(h.toString('latin1'));
      dateByUid.set(uid, dm ? parseDateHeader(dm[1]) : NaN);
    }
    res.rows['2'].fetches = fetches;
    if (fetches !== expect.count) err('2', `${fetches} FETCH responses, expected ${expect.count}`);
  }
  // Row 3a
  const r3 = raws.get('3a');
  if (r3?.status === 'OK') {
    let fetches = 0;
    let mismatches = 0;
    let first = '';
    for (const resp of parseResponses(r3.raw)) {
      if (!/^\* \d+ FETCH/.test(resp.text)) continue;
      fetches++;
      const f = parseFetch(resp)!;
      const uid = Number(f.items.get('UID'));
      const flags = f.items.get('FLAGS');
      const got = Array.isArray(flags) ? flags.map(String).sort().join(' ') : '?';
      if (flagsByUid.size && flagsByUid.get(uid) !== got) {
        mismatches++;
        first ||= `UID ${uid}: row 2 (${flagsByUid.get(uid)}) vs row 3a (${got})`;
      }
    }
    res.rows['3a'].fetches = fetches;
    if (fetches !== expect.count) err('3a', `${fetches} FETCH responses, expected ${expect.count}`);
    if (mismatches) err('3a', `FLAGS differ from row 2 for ${mismatches} messages, first ${first}`);
  }
  // Row 4
  const r4 = raws.get('4');
  if (r4?.status === 'OK') {
    const every = expect.count > 20_000 ? 25 : 1;
    const seen = new Set<number>();
    let fetches = 0;
    for (const resp of parseResponses(r4.raw)) {
      const m = /^\* (\d+) FETCH/.exec(resp.text);
      if (!m) continue;
      fetches++;
      const seq = Number(m[1]);
      if (seen.has(seq)) err('4', `two FETCH responses for seq ${seq}`);
      seen.add(seq);
      const uid = uids[seq - 1];
      const sz = /RFC822\.SIZE (\d+)/.exec(resp.text);
      if (!sz) err('4', `no RFC822.SIZE for seq ${seq}`);
      else if (uid !== undefined && sizeByUid.has(uid) && Number(sz[1]) !== sizeByUid.get(uid)) err('4', `RFC822.SIZE of seq ${seq} is ${sz[1]}, row 2 said ${sizeByUid.get(uid)}`);
      if (seq % every !== 0) continue;
      const f = parseFetch(resp)!;
      const env = f.items.get('ENVELOPE');
      if (!Array.isArray(env) || env.length !== 10) err('4', `ENVELOPE of seq ${seq} is not a 10-field list`);
      if (!Array.isArray(f.items.get('BODYSTRUCTURE'))) err('4', `no BODYSTRUCTURE list for seq ${seq}`);
      if (typeof f.items.get('INTERNALDATE') !== 'string') err('4', `no INTERNALDATE for seq ${seq}`);
    }
    res.rows['4'].fetches = fetches;
    if (fetches !== expect.count) err('4', `${fetches} FETCH responses, expected ${expect.count}`);
  }
  // Row 5
  const r5 = raws.get('5');
  if (r5?.status === 'OK') {
    let fetches = 0;
    let bodyBytes = 0;
    const expected = uids.filter((u) => u <= 2000).length || Math.min(2000, expect.count);
    for (const resp of parseResponses(r5.raw)) {
      if (!/^\* \d+ FETCH/.test(resp.text)) continue;
      fetches++;
      const f = parseFetch(resp)!;
      const uid = Number(f.items.get('UID'));
      const body = f.items.get('BODY[]');
      if (!isLit(body)) {
        err('5', `no BODY[] literal for UID ${uid}`);
        continue;
      }
      bodyBytes += body.literal.length;
      if (sizeByUid.has(uid) && body.literal.length !== sizeByUid.get(uid)) err('5', `BODY[] of UID ${uid} is ${body.literal.length} bytes, RFC822.SIZE ${sizeByUid.get(uid)}`);
      if (!crlfOnly(body.literal)) err('5', `BODY[] of UID ${uid} has a bare LF or CR`);
    }
    res.rows['5'].fetches = fetches;
    (res.rows['5'] as RowSample & { bodyBytes?: number }).bodyBytes = bodyBytes;
    if (fetches !== expected) err('5', `${fetches} FETCH responses, expected ${expected}`);
  }
  const numbersOf = (raw: Buffer, word: string): number[] | null => {
    const t = raw.toString('latin1');
    const m = new RegExp(`^\\* ${word}(.*)$`, 'im').exec(t);
    if (!m) return null;
    return (m[1].match(/\d+/g) ?? []).map(Number);
  };
  // 6a
  const r6a = raws.get('6a');
  if (r6a?.status === 'OK') {
    const hits = numbersOf(r6a.raw, 'SEARCH');
    if (!hits) err('6a', 'no * SEARCH response');
    else if (hits.length !== expect.planted) err('6a', `${hits.length} hits, ${expect.planted} planted`);
  }
  // 6b
  const r6b = raws.get('6b');
  if (r6b?.status === 'OK') {
    const order = numbersOf(r6b.raw, 'SORT');
    if (!order) err('6b', 'no * SORT response');
    else {
      if (order.length !== expect.count || new Set(order).size !== order.length) err('6b', `${order.length} UIDs (${new Set(order).size} distinct), expected ${expect.count}`);
      let prev = -Infinity;
      let bad = 0;
      let first = '';
      for (const u of order) {
        const d = dateByUid.get(u);
        if (d === undefined || !Number.isFinite(d)) continue;
        if (d < prev) {
          bad++;
          first ||= `UID ${u} (${new Date(d).toISOString()}) after ${new Date(prev).toISOString()}`;
        }
        prev = d;
      }
      if (bad) err('6b', `${bad} UIDs out of Date order, first ${first}`);
    }
  }
  // 6c
  const r6c = raws.get('6c');
  if (r6c?.status === 'OK') {
    const ids = numbersOf(r6c.raw, 'THREAD');
    if (!ids) err('6c', 'no * THREAD response');
    else if (ids.length !== expect.count || new Set(ids).size !== ids.length) err('6c', `${ids.length} UIDs in threads (${new Set(ids).size} distinct), expected ${expect.count}`);
  }
  // 3b
  const q = raws.get('3b');
  const qv = (res as SessionResult & { _qresync?: [string, string] })._qresync;
  if (q?.status === 'OK') {
    const t = q.raw.toString('latin1');
    if (/^\* VANISHED/im.test(t)) err('3b', `VANISHED with nothing changed: ${/^\* VANISHED.*$/im.exec(t)![0].slice(0, 100)}`);
    const fl = t.match(/^\* \d+ FETCH/gim);
    if (fl) err('3b', `${fl.length} FETCH responses with nothing changed`);
    const hm = /HIGHESTMODSEQ (\d+)/i.exec(t);
    if (qv && hm && hm[1] !== qv[1]) err('3b', `HIGHESTMODSEQ ${hm[1]} after SELECT, STATUS said ${qv[1]}`);
    const ex = /\* (\d+) EXISTS/.exec(t);
    if (!ex || Number(ex[1]) !== expect.count) err('3b', `EXISTS ${ex?.[1]} != ${expect.count}`);
  }
}

// --- one trial per server ---

async function oursTrial(corpus: Corpus, size: number, trial: number, opts: Options, notes: Set<string>, problems: string[], warm = opts.warm, restart = opts.restart, onSession: () => void = () => undefined): Promise<SessionResult[]> {
  const out: SessionResult[] = [];
  const tree = await prepareTree(corpus, `ours-${size}`);
  const expect = { count: corpus.count, planted: corpus.planted };
  let srv: RunningServer | null = null;
  const serverLog: string[] = [];
  try {
    srv = await startServer(tree, [], shippedEnv());
    await dropCaches(opts, notes);
    await warmupLogin(srv.port);
    let ctx: SessionCtx = { server: 'maildir-imapd', port: srv.port, probe: new LoopProbe(srv), timeoutMs: opts.timeoutMs };
    for (let s = 0; s <= warm; s++) {
      const state: State = s === 0 ? 'cold' : 'warm';
      const r = await runSession(ctx, expect, { size, trial, state, session: s });
      out.push(r);
      onSession();
      logSession(r);
      if (r.errors.some((e) => e.startsWith('session aborted')) && srv.proc.exitCode !== null) throw new Error(`server exited (code ${srv.proc.exitCode})`);
    }
    const t0 = performance.now();
    const code = await srv.stop();
    serverLog.push(srv.stdout());
    if (code !== 0) problems.push(`${size} trial ${trial}: maildir-imapd exited ${code} on SIGTERM`);
    srv = await startServer(tree, [], shippedEnv());
    log(`  restart: stop + start ${fmtMs(performance.now() - t0)} ms`);
    ctx = { ...ctx, port: srv.port, probe: new LoopProbe(srv) };
    for (let s = 0; s < restart; s++) {
      const r = await runSession(ctx, expect, { size, trial, state: s === 0 ? 'restart-first' : 'restart', session: warm + 1 + s });
      out.push(r);
      onSession();
      logSession(r);
    }
  } catch (e) {
    problems.push(`${size} trial ${trial}: maildir-imapd: ${(e as Error).message}`);
    log(`maildir-imapd trial failed: ${(e as Error).message}`);
  } finally {
    if (srv) {
      const code = await srv.stop();
      serverLog.push(srv.stdout());
      if (code !== 0 && code !== null) problems.push(`${size} trial ${trial}: maildir-imapd exited ${code} on SIGTERM`);
      if (srv.proc.exitCode !== 0 && srv.proc.signalCode) problems.push(`${size} trial ${trial}: maildir-imapd died by ${srv.proc.signalCode}`);
    }
    for (const l of serverLog.join('\n').split('\n')) {
      try {
        const j = JSON.parse(l) as { level?: number; msg?: string };
        if ((j.level ?? 0) >= 40 && problems.length < 200) problems.push(`${size} trial ${trial}: server log: ${l.slice(0, 400)}`);
      } catch {
        // not JSON
      }
    }
    await fs.promises.rm(tree.dir, { recursive: true, force: true });
  }
  return out;
}

async function dovecotTrial(corpus: Corpus, size: number, trial: number, opts: Options, notes: Set<string>, problems: string[], onSession: () => void = () => undefined): Promise<SessionResult[]> {
  const out: SessionResult[] = [];
  const tree = await prepareTree(corpus, `dovecot-bench-${size}`);
  const stateDir = fs.mkdtempSync(path.join(RUN_ROOT, 'dovecot-bench-state-'));
  const expect = { count: corpus.count, planted: corpus.planted };
  let dc: DovecotPeer | null = null;
  try {
    dc = await startDovecot({ mailRoot: path.join(tree.dir, 'mail'), stateDir });
    await dropCaches(opts, notes);
    await warmupLogin(dc.port);
    const ctx: SessionCtx = { server: 'dovecot', port: dc.port, probe: null, timeoutMs: opts.timeoutMs };
    for (let s = 0; s <= opts.warm; s++) {
      const r = await runSession(ctx, expect, { size, trial, state: s === 0 ? 'cold' : 'warm', session: s });
      out.push(r);
      onSession();
      logSession(r);
    }
  } catch (e) {
    problems.push(`${size} trial ${trial}: dovecot: ${(e as Error).message}`);
    log(`dovecot trial failed: ${(e as Error).message}`);
  } finally {
    if (dc) {
      const l = await dc.log().catch(() => '');
      for (const line of l.split('\n')) if (/Error|Panic|Fatal/.test(line)) problems.push(`${size} trial ${trial}: dovecot log: ${line.slice(0, 300)}`);
      await dc.stop().catch((e: Error) => problems.push(`dovecot stop: ${e.message}`));
    }
    await fs.promises.rm(tree.dir, { recursive: true, force: true });
    await fs.promises.rm(stateDir, { recursive: true, force: true });
  }
  return out;
}

export function logSession(r: SessionResult): void {
  const bits = ['1', '2', '3a', '3b', '4', '5', '6a', '6b', '6c'].map((id) => `${id}=${r.rows[id] ? fmtMs(r.rows[id].ms) : '-'}`);
  log(`  ${r.server} ${r.size} t${r.trial} ${r.state.padEnd(13)} ${bits.join(' ')}${r.errors.length ? `  ERRORS: ${r.errors.slice(0, 2).join(' | ').slice(0, 300)}` : ''}`);
}

// --- summary and table ---

const DOVECOT_STATE: Record<State, State> = { cold: 'cold', warm: 'warm', 'restart-first': 'warm', restart: 'warm' };

function rateOf(row: string, ms: number, size: number, bytes?: number): string | undefined {
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  if (row === '2' || row === '4') {
    const r = size / (ms / 1000);
    return r >= 1000 ? `${(r / 1000).toFixed(r >= 100_000 ? 0 : 1)}k msg/s` : `${r.toFixed(0)} msg/s`;
  }
  if (row === '5' && bytes) return `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
  return undefined;
}

function summarize(sessions: SessionResult[], sizes: number[]): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const size of sizes) {
    for (const row of ROWS.map((r) => r.id)) {
      for (const state of ['cold', 'warm', 'restart-first', 'restart'] as State[]) {
        const ours = sessions.filter((s) => s.size === size && s.server === 'maildir-imapd' && s.state === state && s.rows[row]);
        const dState = DOVECOT_STATE[state];
        const theirs = sessions.filter((s) => s.size === size && s.server === 'dovecot' && s.state === dState && s.rows[row]);
        if (!ours.length && (state !== 'cold' && state !== 'warm' || !theirs.length)) continue;
        const os = stat(ours.map((s) => (s.rows[row].status.includes('ERROR') ? NaN : s.rows[row].ms)));
        const ds = stat(theirs.map((s) => (s.rows[row].status.includes('ERROR') ? NaN : s.rows[row].ms)));
        const loops = ours.map((s) => s.rows[row].loopMaxMs).filter((x): x is number => typeof x === 'number');
        const bodyBytes = (xs: SessionResult[]) => median(xs.map((s) => (s.rows[row] as RowSample & { bodyBytes?: number }).bodyBytes ?? s.rows[row].bytes));
        out.push({
          size,
          row,
          state,
          ours: os,
          dovecot: ds,
          dovecotState: dState,
          ratio: os && ds ? os.median / ds.median : null,
          oursLoopMaxMs: loops.length ? Math.max(...loops) : null,
          oursRate: os ? rateOf(row, os.median, size, bodyBytes(ours)) : undefined,
          dovecotRate: ds ? rateOf(row, ds.median, size, bodyBytes(theirs)) : undefined,
        });
      }
    }
  }
  return out;
}

function printTables(summary: SummaryRow[], sizes: number[], sessions: SessionResult[]): void {
  for (const size of sizes) {
    const rows = summary.filter((r) => r.size === size);
    if (!rows.length) continue;
    const nOurs = (st: State) => sessions.filter((s) => s.size === size && s.server === 'maildir-imapd' && s.state === st).length;
    const nDc = (st: State) => sessions.filter((s) => s.size === size && s.server === 'dovecot' && s.state === st).length;
    console.log(
      `\nMailbox sync, ${size.toLocaleString('en')} messages — ms, median (min); ratio = ours / Dovecot median (<= 1.0 is good)\n` +
        `sessions: ours cold ${nOurs('cold')}, warm ${nOurs('warm')}, restart-first ${nOurs('restart-first')}, restart ${nOurs('restart')}; Dovecot cold ${nDc('cold')}, warm ${nDc('warm')}\n` +
        `(restart-first/restart are compared with Dovecot warm: a Dovecot session is a fresh process on its on-disk index)\n`,
    );
    const t: string[][] = [['row', 'state', 'maildir-imapd', 'Dovecot', 'ratio', 'loop max ms']];
    const cell = (s: Stat | null, rate?: string) => (s ? `${fmtMs(s.median)} (${fmtMs(s.min)})${rate ? ` ${rate}` : ''}` : '-');
    for (const r of rows) {
      const label = ROWS.find((x) => x.id === r.row)!.label;
      t.push([
        `${r.row.padEnd(3)} ${label}`,
        r.state,
        cell(r.ours, r.oursRate),
        r.state === 'cold' || r.state === 'warm' ? cell(r.dovecot, r.dovecotRate) : r.dovecot ? `(warm) ${fmtMs(r.dovecot.median)}` : '-',
        r.ratio === null ? '-' : r.ratio.toFixed(2) + (r.ratio > 1 ? ' !' : ''),
        r.oursLoopMaxMs === null ? '-' : fmtMs(r.oursLoopMaxMs),
      ]);
    }
    console.log(table(t));
    const loads = sessions.filter((s) => s.size === size && s.load1 !== undefined).map((s) => s.load1!);
    if (loads.length) console.log(`\nhost 1-min load average at session start: min ${Math.min(...loads).toFixed(2)}, median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)} (2 CPUs; the benchmark itself accounts for up to ~2)`);
    const rss = (st: State) => median(sessions.filter((s) => s.size === size && s.server === 'maildir-imapd' && s.state === st).map((s) => Math.max(...Object.values(s.rows).map((x) => x.rssBytes ?? 0))));
    const drss = (st: State) => median(sessions.filter((s) => s.size === size && s.server === 'dovecot' && s.state === st && s.imapRssKb).map((s) => s.imapRssKb!));
    const mb = (b: number) => (Number.isFinite(b) && b > 0 ? `${(b / 1048576).toFixed(1)} MiB` : '-');
    console.log(
      `\nmemory: maildir-imapd process RSS (max over a session's rows, median of sessions) cold ${mb(rss('cold'))}, warm ${mb(rss('warm'))}, restart ${mb(rss('restart'))}; ` +
        `Dovecot imap process VmRSS before LOGOUT cold ${mb(drss('cold') * 1024)}, warm ${mb(drss('warm') * 1024)} (one process per connection)`,
    );
  }
}

// --- main ---

export async function runSyncBench(argv: string[]): Promise<SyncResults> {
  const opts = parseArgs(argv);
  // The server runs from the compiled tree (dist or --outDir): record what src/ was at the start.
  let git: SyncResults['git'];
  try {
    const head = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: path.resolve(HERE, '../../..') })).stdout.trim();
    const st = (await run('git', ['status', '--porcelain', 'src'], { cwd: path.resolve(HERE, '../../..') })).stdout.split('\n').filter(Boolean);
    git = { head, dirtySrc: st };
  } catch {
    git = undefined;
  }
  const notes = new Set<string>();
  const problems: string[] = [];
  const sessions: SessionResult[] = [];
  const corpora: Corpus[] = [];
  let dovecotOk = opts.dovecot;
  if (dovecotOk && !dovecotAvailable()) {
    notes.add('Dovecot not installed: its columns are empty');
    dovecotOk = false;
  }
  // Time accounting for --budget-min: per (server, size), the cost of a cold
  // session, of any later session, and of the rest of a trial (copy, start, rm).
  const cost = new Map<string, { cold: number[]; other: number[]; setup: number[] }>();
  const key = (who: string, size: number) => `${who}/${size}`;
  const record = (who: string, size: number, t0: number, rs: SessionResult[], ends: number[]) => {
    const c = cost.get(key(who, size)) ?? { cold: [], other: [], setup: [] };
    cost.set(key(who, size), c);
    let prev = t0;
    let sum = 0;
    rs.forEach((r, k) => {
      const d = ends[k] - prev;
      prev = ends[k];
      sum += d;
      (r.state === 'cold' ? c.cold : c.other).push(d);
    });
    c.setup.push(performance.now() - t0 - sum);
  };
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const estimate = (who: string, size: number, later: number): number => {
    let c = cost.get(key(who, size));
    let scale = 1;
    if (!c?.cold.length) {
      const known = opts.sizes.filter((z) => cost.get(key(who, z))?.cold.length).sort((a, b) => b - a);
      if (!known.length) return (size / 10_000) * (who === 'ours' ? 150_000 : 40_000);
      c = cost.get(key(who, known[0]))!;
      scale = size / known[0];
    }
    const other = c.other.length ? mean(c.other) : mean(c.cold) / 3;
    return scale * (mean(c.cold) + later * other + mean(c.setup));
  };
  const full = opts.warm + opts.restart;
  /** Projected time of the rest of this size's trials, this one included, if maildir-imapd trials run `later` sessions after the cold one. */
  const remainingAfter = (sizeIdx: number, trial: number, later: number): number => {
    let t = 0;
    // Greedy: later sizes are not projected, so smaller sizes keep every session and the biggest absorbs the cuts.
    for (let z = sizeIdx; z <= sizeIdx; z++) {
      const size = opts.sizes[z];
      for (let k = trial; k <= opts.trials[size]; k++) {
        if (opts.ours) t += estimate('ours', size, later);
        if (dovecotOk) t += estimate('dovecot', size, opts.warm);
      }
    }
    return t;
  };
  for (const [sizeIdx, size] of opts.sizes.entries()) {
    log(`corpus ${size} seed ${opts.seed}…`);
    const corpus = await cachedCorpus(size, opts.seed);
    corpora.push(corpus);
    log(`  ${corpus.cached ? 'cached' : `generated in ${fmtMs(corpus.generateMs)} ms`}: ${(corpus.bytes / 1e6).toFixed(1)} MB, ${corpus.planted} with "${MARKER}", kinds ${JSON.stringify(corpus.kinds)}`);
    for (let trial = 1; trial <= opts.trials[size]; trial++) {
      // Alternate which server goes first, so drift of the host does not favour one.
      const order: Array<'ours' | 'dovecot'> = trial % 2 ? ['ours', 'dovecot'] : ['dovecot', 'ours'];
      for (const who of order) {
        if (who === 'ours' && opts.ours) {
          let warm = opts.warm;
          let restart = opts.restart;
          if (opts.budgetMin > 0) {
            const elapsed = performance.now() - started;
            const projected = elapsed + remainingAfter(sizeIdx, trial, full);
            if (projected > opts.budgetMin * 60_000 && (warm > 1 || restart > 1)) {
              warm = Math.min(1, warm);
              restart = Math.min(1, restart);
              const reduced = elapsed + remainingAfter(sizeIdx, trial, warm + restart);
              if (trial > 1 && reduced > opts.budgetMin * 60_000 * 1.1) {
                const why = `${size} trial ${trial}: maildir-imapd trial skipped: even with 1 warm + 1 restart session the run was projected to take ${(reduced / 60_000).toFixed(0)} min, over --budget-min=${opts.budgetMin}`;
                notes.add(why);
                log(why);
                continue;
              }
              const why = `${size} trial ${trial}: maildir-imapd ran ${warm} warm + ${restart} restart session(s) instead of ${opts.warm} + ${opts.restart}: the run was projected to take ${(projected / 60_000).toFixed(0)} min, over --budget-min=${opts.budgetMin}`;
              notes.add(why);
              log(why);
            }
          }
          log(`maildir-imapd ${size} trial ${trial}`);
          const t0 = performance.now();
          const ends: number[] = [];
          const rs = await oursTrial(corpus, size, trial, opts, notes, problems, warm, restart, () => ends.push(performance.now()));
          record('ours', size, t0, rs.slice(0, ends.length), ends);
          sessions.push(...rs);
        }
        if (who === 'dovecot' && dovecotOk) {
          log(`dovecot ${size} trial ${trial}`);
          const t0 = performance.now();
          const ends: number[] = [];
          const rs = await dovecotTrial(corpus, size, trial, opts, notes, problems, () => ends.push(performance.now()));
          record('dovecot', size, t0, rs.slice(0, ends.length), ends);
          sessions.push(...rs);
        }
      }
    }
  }
  const summary = summarize(sessions, opts.sizes);
  const failed = sessions.filter((s) => s.errors.length);
  const results: SyncResults = {
    benchmark: 'mailbox sync, maildir-imapd vs Dovecot (issue 5 rows 1-6)',
    date: new Date().toISOString(),
    node: process.version,
    host: { platform: process.platform, release: os.release(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model },
    options: opts,
    corpora: corpora.map((c) => ({ ...c })),
    sessions,
    summary,
    validation: { sessions: sessions.length, failed: failed.length, errors: failed.flatMap((s) => s.errors.map((e) => `${s.server} ${s.size} t${s.trial} ${s.state}#${s.session}: ${e}`)) },
    serverProblems: problems,
    notes: [...notes],
    runtimeS: (performance.now() - started) / 1000,
    git,
  };
  return results;
}

function report(r: SyncResults): void {
  printTables(r.summary, r.options.sizes, r.sessions);
  console.log(`\nvalidation: ${r.validation.sessions - r.validation.failed}/${r.validation.sessions} sessions passed every check`);
  for (const e of r.validation.errors.slice(0, 40)) console.log(`  FAIL ${e}`);
  if (r.validation.errors.length > 40) console.log(`  … ${r.validation.errors.length - 40} more in the JSON`);
  if (r.serverProblems.length) {
    console.log(`\nserver problems (${r.serverProblems.length}):`);
    for (const p of r.serverProblems.slice(0, 20)) console.log(`  ${p}`);
  }
  for (const n of r.notes) console.log(`note: ${n}`);
  console.log(`\ncorpora: ${r.corpora.map((c) => `${c.count}: ${(c.bytes / 1e6).toFixed(1)} MB (LF), ${c.planted} planted, ${JSON.stringify(c.kinds)}, seen ${c.seen} flagged ${c.flagged} answered ${c.answered}`).join('; ')}`);
  if (r.git) console.log(`server code: HEAD ${r.git.head}${r.git.dirtySrc.length ? ` + ${r.git.dirtySrc.length} uncommitted src/ changes` : ''} (when the run started; the server runs from the compiled tree)`);
  console.log(`total run time ${r.runtimeS.toFixed(1)} s`);
}

if (!process.env.NODE_TEST_CONTEXT && process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const r = await runSyncBench(process.argv.slice(2));
  report(r);
  const out = path.resolve(r.options.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(r, null, 1) + '\n');
  console.log(`raw figures: ${path.relative(process.cwd(), out)}`);
  if (r.validation.failed || r.serverProblems.length) process.exitCode = 1;
}
