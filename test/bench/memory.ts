// Memory benchmark (issue 14's memory row), maildir-imapd beside Dovecot in
// the same run: two users with the same generated Maildir (the sync bench's
// corpus, 50,000 messages by default) do a full first sync one after the
// other — the sync bench's session: LOGIN, SELECT, Thunderbird's header
// sync, FLAGS, ENVELOPE+BODYSTRUCTURE, 2,000 bodies, SEARCH TEXT, SORT,
// THREAD, then a QRESYNC reconnect.
//
//   node dist/test/bench/memory.js [--size=50000] [--seed=1] [--idle-s=120]
//        [--no-dovecot] [--no-ours] [--no-drop] [--timeout-s=600] [--out=bench-results/memory.json]
//        [--malloc=jemalloc|glibc]
//
// Ours runs as the systemd unit runs it (shipped-env.ts): its NODE_OPTIONS,
// and jemalloc preloaded (LD_PRELOAD=libjemalloc.so.2, MALLOC_CONF as the
// unit sets it) when Debian's libjemalloc2 is installed, otherwise (or with
// --malloc=glibc) on glibc's malloc; the report says which.
//
// Ours: one process; VmRSS / RssAnon after each user's sync and after both
// (at once, and again 5 s later: the server collects its garbage once its
// event loop has been quiet for 2 s),
// VmHWM (its peak over the whole run), and VmRSS again after --idle-s seconds
// with no session: a folder is dropped about 80 s after its last session
// (60 s of watching, 10 s unused, the 10 s sweep), and V8 collects the
// garbage some 15 s after the process goes quiet.
// Dovecot: one imap process per connection; the imap process's VmRSS before
// LOGOUT (from the sync session), and the sum over all of Dovecot's
// processes after both syncs (master, auth, imap-login, …; the imap
// processes have exited by then).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { startServer, type RunningServer } from '../support/server.js';
import { startDovecot, dovecotAvailable, type DovecotPeer } from '../support/dovecot.js';
import { cachedCorpus, type Corpus } from './corpus.js';
import { dropCaches, logSession, prepareTree, runSession, type SessionCtx, type SessionResult } from './sync.js';
import { fmtMs, table } from './stats.js';
import { jemallocInstalled, shippedEnv } from './shipped-env.js';

const run = promisify(execFile);
const USERS = ['bob', 'alice'];

interface Options {
  size: number;
  seed: number;
  idleS: number;
  dovecot: boolean;
  ours: boolean;
  drop: boolean;
  timeoutMs: number;
  out: string;
  malloc: 'jemalloc' | 'glibc';
}

function parseArgs(argv: string[]): Options {
  const get = (n: string) => argv.find((a) => a.startsWith(`--${n}=`))?.slice(n.length + 3);
  const has = (n: string) => argv.includes(`--${n}`);
  const quick = has('quick');
  return {
    size: Number(get('size') ?? (quick ? 10_000 : 50_000)),
    seed: Number(get('seed') ?? 1),
    idleS: Number(get('idle-s') ?? 120),
    dovecot: !has('no-dovecot'),
    ours: !has('no-ours'),
    drop: !has('no-drop'),
    timeoutMs: Number(get('timeout-s') ?? 600) * 1000,
    out: get('out') ?? path.join('bench-results', 'memory.json'),
    malloc: get('malloc') === 'glibc' || !jemallocInstalled() ? 'glibc' : 'jemalloc',
  };
}


/** The kB figures of /proc/PID/status that matter here (VmRSS, VmHWM, RssAnon, RssFile). */
export function procMemory(pid: number | undefined | null): Record<string, number> | null {
  if (!pid) return null;
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const out: Record<string, number> = {};
    for (const k of ['VmRSS', 'VmHWM', 'RssAnon', 'RssFile']) {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text);
      if (m) out[k] = Number(m[1]);
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * Where the RSS lives, from /proc/PID/smaps, MiB: the brk heap (glibc's main
 * arena), 64 MiB-aligned anonymous regions (glibc's per-thread arenas), the
 * rest of anonymous memory (V8's pages, large mmap()ed buffers), files; and
 * the threads alive. It tells live data from memory the allocators keep.
 */
export function rssBreakdown(pid: number | undefined | null): Record<string, number> | null {
  if (!pid) return null;
  try {
    const out: Record<string, number> = { brkHeap: 0, threadArenas: 0, otherAnon: 0, files: 0 };
    let kind: keyof typeof out = 'otherAnon';
    for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (m) {
        const start = BigInt('0x' + m[1]);
        const name = m[3].trim();
        if (name === '[heap]') kind = 'brkHeap';
        else if (name.startsWith('/')) kind = 'files';
        else if (!name && start % (64n << 20n) === 0n) kind = 'threadArenas';
        else kind = 'otherAnon';
        continue;
      }
      if (line.startsWith('Rss:')) out[kind] += Number(line.split(/\s+/)[1]);
    }
    for (const k of Object.keys(out)) out[k] = Math.round(out[k] / 1024);
    out.threads = fs.readdirSync(`/proc/${pid}/task`).length;
    return out;
  } catch {
    return null;
  }
}

const started = performance.now();
function log(msg: string): void {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** prepareTree's tree, with alice given her own hard-linked copy of the corpus too. */
async function twoUserTree(corpus: Corpus, label: string) {
  const tree = await prepareTree(corpus, label);
  const alice = tree.maildir('alice');
  await fs.promises.rm(alice, { recursive: true, force: true });
  await run('cp', ['-al', corpus.maildir, alice]);
  if (typeof process.getuid === 'function' && process.getuid() === 0) await run('chown', ['-R', 'vmail:vmail', path.dirname(alice)]).catch(() => undefined);
  return tree;
}

interface ServerRun {
  server: 'maildir-imapd' | 'dovecot';
  sessions: SessionResult[];
  /** kB: after each user's sync, after both, the peak; ours also after the idle wait. */
  afterUser: Array<Record<string, number> | null>;
  after: Record<string, number> | null;
  /** Ours: 5 s after the last session ended. */
  settled?: Record<string, number> | null;
  idle?: Record<string, number> | null;
  /** Ours: the server's own SIGUSR2 report after both syncs and after the idle wait (heap, buffers, open folders, caches). */
  reports?: unknown[];
  /** Dovecot: each sync's imap process VmRSS before LOGOUT, kB. */
  imapKb?: Array<number | null>;
  errors: string[];
}

async function oursRun(corpus: Corpus, opts: Options): Promise<ServerRun> {
  const res: ServerRun = { server: 'maildir-imapd', sessions: [], afterUser: [], after: null, errors: [] };
  const tree = await twoUserTree(corpus, `memory-ours-${corpus.count}`);
  let srv: RunningServer | null = null;
  try {
    srv = await startServer(tree, [], shippedEnv(opts.malloc));
    await dropCaches(opts, new Set());
    const pid = srv.proc.pid;
    log(`maildir-imapd pid ${pid} started (malloc: ${opts.malloc}): ${JSON.stringify(procMemory(pid))}`);
    for (const [i, user] of USERS.entries()) {
      const ctx: SessionCtx = { server: 'maildir-imapd', user, port: srv.port, probe: null, timeoutMs: opts.timeoutMs };
      const r = await runSession(ctx, { count: corpus.count, planted: corpus.planted }, { size: corpus.count, trial: 1, state: 'cold', session: i });
      res.sessions.push(r);
      logSession(r);
      res.afterUser.push(procMemory(pid));
      log(`  after ${user}: ${JSON.stringify(res.afterUser[i])}; MiB ${JSON.stringify(rssBreakdown(pid))}`);
    }
    res.after = procMemory(pid);
    res.reports = [await selfReport(srv)];
    log(`  its own report: ${JSON.stringify(res.reports[0])}`);
    await sleep(5000);
    res.settled = procMemory(pid);
    log(`  5 s later: ${JSON.stringify(res.settled)}; MiB ${JSON.stringify(rssBreakdown(pid))}`);
    if (opts.idleS > 0) {
      log(`  waiting ${opts.idleS} s with no session…`);
      await sleep(opts.idleS * 1000);
      res.idle = procMemory(pid);
      log(`  after the idle wait: ${JSON.stringify(res.idle)}; MiB ${JSON.stringify(rssBreakdown(pid))}`);
      res.reports.push(await selfReport(srv));
      log(`  its own report: ${JSON.stringify(res.reports[1])}`);
    }
  } catch (e) {
    res.errors.push(`maildir-imapd: ${(e as Error).message}`);
  } finally {
    if (srv) {
      const code = await srv.stop();
      if (code !== 0 && code !== null) res.errors.push(`maildir-imapd exited ${code} on SIGTERM`);
    }
    await fs.promises.rm(tree.dir, { recursive: true, force: true });
  }
  for (const s of res.sessions) res.errors.push(...s.errors.map((e) => `${s.server} session ${s.session}: ${e}`));
  return res;
}

/** The server's SIGUSR2 "loop stats" line (memoryUsage, open folders, cache bytes), or null. */
async function selfReport(srv: RunningServer): Promise<unknown> {
  const lines = () => srv.stdout().split('\n').filter((l) => l.includes('"loop stats"'));
  const before = lines().length;
  srv.proc.kill('SIGUSR2');
  for (let i = 0; i < 100 && lines().length === before; i++) await sleep(20);
  const last = lines()[before];
  if (!last) return null;
  const { rssBytes, heapUsedBytes, heapTotalBytes, externalBytes, arrayBuffersBytes, workerThreads, mail } = JSON.parse(last) as Record<string, unknown>;
  return { rssBytes, heapUsedBytes, heapTotalBytes, externalBytes, arrayBuffersBytes, workerThreads, mail };
}

function sumRss(pids: number[]): Record<string, number> {
  const sum: Record<string, number> = { processes: 0 };
  for (const pid of pids) {
    const m = procMemory(pid);
    if (!m) continue;
    sum.processes++;
    for (const [k, v] of Object.entries(m)) sum[k] = (sum[k] ?? 0) + v;
  }
  return sum;
}

async function dovecotRun(corpus: Corpus, opts: Options): Promise<ServerRun> {
  const res: ServerRun = { server: 'dovecot', sessions: [], afterUser: [], after: null, imapKb: [], errors: [] };
  const tree = await twoUserTree(corpus, `memory-dovecot-${corpus.count}`);
  const stateDir = fs.mkdtempSync(path.join(path.dirname(tree.dir), 'memory-dovecot-state-'));
  let dc: DovecotPeer | null = null;
  try {
    dc = await startDovecot({ mailRoot: path.join(tree.dir, 'mail'), stateDir });
    await dropCaches(opts, new Set());
    for (const [i, user] of USERS.entries()) {
      const ctx: SessionCtx = { server: 'dovecot', user, port: dc.port, probe: null, timeoutMs: opts.timeoutMs };
      const r = await runSession(ctx, { count: corpus.count, planted: corpus.planted }, { size: corpus.count, trial: 1, state: 'cold', session: i });
      res.sessions.push(r);
      logSession(r);
      res.imapKb!.push(r.imapRssKb ?? null);
      await sleep(500); // the session's imap processes exit after LOGOUT
      res.afterUser.push(sumRss(dc.pids()));
      log(`  after ${user}: imap process ${r.imapRssKb} kB before LOGOUT; all processes ${JSON.stringify(res.afterUser[i])}`);
    }
    res.after = sumRss(dc.pids());
  } catch (e) {
    res.errors.push(`dovecot: ${(e as Error).message}`);
  } finally {
    if (dc) await dc.stop().catch((e: Error) => res.errors.push(`dovecot stop: ${e.message}`));
    await fs.promises.rm(tree.dir, { recursive: true, force: true });
    await fs.promises.rm(stateDir, { recursive: true, force: true });
  }
  for (const s of res.sessions) res.errors.push(...s.errors.map((e) => `${s.server} session ${s.session}: ${e}`));
  return res;
}

const mib = (kb: number | null | undefined) => (typeof kb === 'number' && kb > 0 ? `${(kb / 1024).toFixed(0)} MiB` : '-');

function report(runs: ServerRun[], size: number, malloc: Options['malloc']): void {
  const ours = runs.find((r) => r.server === 'maildir-imapd');
  const dc = runs.find((r) => r.server === 'dovecot');
  console.log(`\nMemory, two users × ${size.toLocaleString('en')} messages, full first sync one after the other (VmRSS; anonymous in brackets)\n`);
  const t: string[][] = [['', `maildir-imapd (one process, ${malloc})`, 'Dovecot']];
  const both = (m: Record<string, number> | null | undefined) => (m ? `${mib(m.VmRSS)} (${mib(m.RssAnon)})` : '-');
  t.push(['after the 1st user', both(ours?.afterUser[0]), dc ? `all processes ${both(dc.afterUser[0])}` : '-']);
  t.push(['after both syncs', both(ours?.after), dc ? `all processes ${both(dc.after)}` : '-']);
  if (ours?.settled !== undefined) t.push(['… 5 s later', both(ours.settled), '-']);
  // VmHWM of the last sample: background work after the syncs (index compaction) can still raise it.
  t.push(['peak', ours?.after ? mib((ours.idle ?? ours.after).VmHWM) : '-', dc?.imapKb?.length ? `imap process ${dc.imapKb.map(mib).join(', ')} + ${both(dc.after)} others` : '-']);
  if (ours?.idle !== undefined) t.push(['after the idle wait', both(ours.idle), '-']);
  console.log(table(t));
  for (const r of runs) {
    const rows = ['1', '2', '3a', '4', '5', '6a', '6b', '6c'];
    for (const s of r.sessions) console.log(`  ${r.server} ${USERS[s.session]}: ${rows.map((id) => `${id}=${s.rows[id] ? fmtMs(s.rows[id].ms) : '-'}`).join(' ')} ms`);
  }
  const errors = runs.flatMap((r) => r.errors);
  console.log(`\nvalidation: ${errors.length ? `${errors.length} problems` : 'every session passed every check'}`);
  for (const e of errors.slice(0, 20)) console.log(`  FAIL ${e}`);
}

export async function runMemoryBench(argv: string[]): Promise<{ options: Options; runs: ServerRun[] }> {
  const opts = parseArgs(argv);
  log(`corpus ${opts.size} seed ${opts.seed}…`);
  const corpus = await cachedCorpus(opts.size, opts.seed);
  const runs: ServerRun[] = [];
  if (opts.ours) runs.push(await oursRun(corpus, opts));
  if (opts.dovecot && dovecotAvailable()) runs.push(await dovecotRun(corpus, opts));
  return { options: opts, runs };
}

if (!process.env.NODE_TEST_CONTEXT && process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const r = await runMemoryBench(process.argv.slice(2));
  report(r.runs, r.options.size, r.options.malloc);
  const out = path.resolve(r.options.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ benchmark: 'memory, two users full first sync (issue 14)', date: new Date().toISOString(), node: process.version, host: { cpus: os.cpus().length, totalmem: os.totalmem() }, ...r }, null, 1) + '\n');
  console.log(`raw figures: ${path.relative(process.cwd(), out)}`);
  if (r.runs.some((x) => x.errors.length)) process.exitCode = 1;
}
