// Load rows of the side-by-side benchmark (issue 5, rows 7–9), each against
// maildir-imapd and a private Dovecot in the same run on the same machine:
//
//   7. mixed load: 20 raw-socket clients for 20 s looping LOGIN … LOGOUT in
//      imaptest-like proportions (see mixed-load.ts) on a 1,000-message INBOX;
//   8. push: link() into new/ → "* N EXISTS" at one IDLE client, and fan-out
//      of one delivery to 1,000 IDLE sessions of one user on one mailbox;
//   9. 10,000 concurrent IDLE sessions over implicit TLS (Dovecot: as many as
//      its default config accepts), RSS per session, event-loop delay.
//
//   node <outdir>/test/bench/load.js [--rows=7,8,9] [--quick] [--no-dovecot]
//        [--seconds=20] [--clients=20] [--messages=1000] [--fanout=1000]
//        [--reps=10] [--dovecot-reps=5] [--tls-sessions=10000]
//
// Prints ours, Dovecot's and the ratio per row; raw figures go to
// bench-results/load.json (relative to the working directory). Run as root
// (the servers serve mail as vmail; Dovecot's limits and inotify need it).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { makeMailTree, type MailTree } from '../support/server.js';
import { jemallocInstalled } from './shipped-env.js';
import { cpuMs, dovecotCpuMs, dovecotInstalled, isRoot, makeCert, startOurs, startTunedDovecot, type LoopLine } from './load-servers.js';
import { RawImap, runMixedLoad, writeRealisticMaildir, MIX, type MixedResult } from './mixed-load.js';
import { measureFanout, measurePush, type FanoutResult, type PushResult } from './fanout.js';
import { tlsDovecot, tlsOurs, type TlsDovecotResult, type TlsOursResult } from './idle-tls.js';
import { table, fmtMs } from './stats.js';
import type { Owner } from './maildir-gen.js';

export interface LoadResults {
  benchmark: string;
  date: string;
  node: string;
  host: { cpus: number; cpuModel?: string; memMb: number; release: string };
  options: Record<string, unknown>;
  source?: { head: string; uncommittedSrc: number };
  notes: string[];
  row7?: {
    ours?: MixedResult & { serverCpuShare: number; loopMaxMs: number; loopWindowsMs: number[]; serverWarnings: string[] };
    dovecot?: MixedResult & { serverCpuShare: number; config: string };
    error?: string;
  };
  row8?: {
    ours?: { push: PushResult; fanout: FanoutResult; loopMaxMsDuringFanout: number; serverWarnings: string[] };
    dovecot?: { push: PushResult; fanout: FanoutResult; config: string };
    error?: string;
  };
  row9?: { ours?: TlsOursResult & { serverWarnings?: string[] }; dovecot?: TlsDovecotResult; error?: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function vmailOwner(): Owner | null {
  if (!isRoot()) return null;
  try {
    return {
      uid: Number(execFileSync('id', ['-u', 'vmail'], { encoding: 'utf8' }).trim()),
      gid: Number(execFileSync('id', ['-g', 'vmail'], { encoding: 'utf8' }).trim()),
    };
  } catch {
    return null;
  }
}

function ratio(ours: number, theirs: number): string {
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return '-';
  const r = ours / theirs;
  if (r > 0 && r < 0.1) return `1/${(1 / r).toFixed(0)}`;
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

const mb = (kb: number) => (kb / 1024).toFixed(1);

export async function runLoadBench(argv: string[]): Promise<LoadResults> {
  const opt = (name: string, def: number) => {
    const a = argv.find((x) => x.startsWith(`--${name}=`));
    return a ? Number(a.split('=')[1]) : def;
  };
  const flag = (name: string) => argv.includes(`--${name}`);
  const quick = flag('quick');
  const rowsArg = argv.find((x) => x.startsWith('--rows='));
  const rows = new Set((rowsArg ? rowsArg.split('=')[1] : '7,8,9').split(',').map(Number));
  const o = {
    rows: [...rows],
    quick,
    messages: opt('messages', 1000),
    clients: opt('clients', 20),
    seconds: opt('seconds', quick ? 5 : 20),
    push: opt('push', quick ? 20 : 50),
    dovecotPush: opt('dovecot-push', quick ? 5 : 20),
    fanout: opt('fanout', quick ? 200 : 1000),
    reps: opt('reps', quick ? 3 : 10),
    dovecotReps: opt('dovecot-reps', quick ? 2 : 5),
    tlsSessions: opt('tls-sessions', quick ? 1000 : 10_000),
    tlsWorkers: opt('tls-workers', 2),
    tlsConcurrency: opt('tls-concurrency', 100),
    tlsDeliveries: opt('tls-deliveries', 3),
    dovecotTlsSessions: opt('dovecot-tls-sessions', 100),
    dovecotTlsExtra: opt('dovecot-tls-extra', 20),
    dovecot: !flag('no-dovecot'),
  };
  const started = performance.now();
  const log = (msg: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
  const res: LoadResults = {
    benchmark: 'load rows 7-9 (issue 5): mixed load, push + fan-out, 10k TLS IDLE',
    date: new Date().toISOString(),
    node: process.version,
    host: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memMb: Math.round(os.totalmem() / 2 ** 20), release: os.release() },
    options: o,
    notes: [],
  };
  // Which server was measured: the commit, and any uncommitted changes under src/ compiled in with it.
  try {
    const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    const git = (...a: string[]) => execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--short', '--', 'src').split('\n').filter(Boolean);
    res.source = { head: git('rev-parse', '--short', 'HEAD'), uncommittedSrc: dirty.length };
    if (dirty.length) res.notes.push(`server built from ${res.source.head} plus ${dirty.length} uncommitted change(s) under src/ (work in progress of other sessions)`);
  } catch {
    // not a git checkout
  }
  const owner = vmailOwner();
  // The machine may be shared: say how busy it was when each row started.
  const loadNote = (row: number) => {
    const l = os.loadavg().map((x) => x.toFixed(1)).join(' ');
    res.notes.push(`row ${row} started at load average ${l} (${os.cpus().length} cores)`);
    log(`  load average ${l}`);
  };
  const useDovecot = o.dovecot && dovecotInstalled();
  res.notes.push(`ours run with the systemd unit's environment (NODE_OPTIONS; jemalloc: ${jemallocInstalled() ? 'yes' : 'no, not installed'})`);
  if (o.dovecot && !useDovecot) res.notes.push('dovecot is not installed: Dovecot columns skipped');

  const temps: string[] = [];
  const tmp = (prefix: string) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    temps.push(d);
    return d;
  };
  // One generated corpus, copied into each server's tree.
  const corpusDir = tmp('mimapd-load-corpus-');
  fs.chmodSync(corpusDir, 0o711);
  const corpus = path.join(corpusDir, 'Maildir');
  const t0 = performance.now();
  const bytes = writeRealisticMaildir(corpus, o.messages);
  log(`corpus: ${o.messages} realistic messages, ${(bytes / 2 ** 20).toFixed(1)} MiB, in ${fmtMs(performance.now() - t0)} ms`);
  const copyCorpus = (dest: string, link = false) => {
    fs.mkdirSync(path.join(dest, 'new'), { recursive: true });
    fs.mkdirSync(path.join(dest, 'tmp'), { recursive: true });
    execFileSync('cp', [link ? '-al' : '-a', path.join(corpus, 'cur'), path.join(dest)]);
  };
  const ourTree = async (): Promise<MailTree> => {
    const tree = await makeMailTree('mimapd-load-');
    temps.push(tree.dir);
    fs.rmSync(path.join(tree.maildir('bob'), 'cur'), { recursive: true });
    copyCorpus(tree.maildir('bob'));
    return tree;
  };
  const dovecotRoot = (users: string[], link = false) => {
    const dir = tmp('mimapd-load-dc-');
    fs.chmodSync(dir, 0o711);
    const mailRoot = path.join(dir, 'mail');
    for (const u of users) copyCorpus(path.join(mailRoot, u, 'Maildir'), link);
    return { mailRoot, stateDir: path.join(dir, 'state') };
  };
  const warm = async (port: number, user = 'bob', pass = 'bob-pass') => {
    const c = await RawImap.connect({ port });
    await c.command(`LOGIN ${user} ${pass}`);
    await c.command('SELECT INBOX');
    await c.command('FETCH 1:* (FLAGS)');
    await c.command('LOGOUT');
    c.destroy();
  };

  // Dovecot wants one inotify instance per IDLE process; the kernel default (128 per user) would
  // silently turn most of 1,000 IDLE sessions into 30 s polling. Raised for the run, then restored.
  const inotifyFile = '/proc/sys/fs/inotify/max_user_instances';
  let inotifyWas: string | null = null;
  const needInotify = (n: number) => {
    try {
      const cur = Number(fs.readFileSync(inotifyFile, 'utf8').trim());
      if (cur >= n) return;
      inotifyWas ??= String(cur);
      fs.writeFileSync(inotifyFile, String(n));
      res.notes.push(`fs.inotify.max_user_instances raised from ${inotifyWas} to ${n} for the run (Dovecot opens one inotify instance per IDLE process), restored after`);
    } catch (err) {
      res.notes.push(`could not raise fs.inotify.max_user_instances (${(err as Error).message}): Dovecot sessions beyond it fall back to polling`);
    }
  };

  try {
    // ---------------- row 7 ----------------
    if (rows.has(7)) {
      res.row7 = {};
      loadNote(7);
      log(`row 7: mixed load, ${o.clients} clients × ${o.seconds} s, ${o.messages} messages`);
      try {
        const tree = await ourTree();
        const ours = await startOurs(tree, ['--max-connections-per-user-ip', '100']);
        try {
          await warm(ours.server.port);
          await ours.loopStats();
          const c0 = cpuMs(ours.pid);
          // The event loop sampled once a second while the load runs.
          let running = true;
          const windows: number[] = [];
          const sampler = (async () => {
            while (running) {
              await sleep(1000);
              windows.push((await ours.loopStats()).loopMaxMs);
            }
          })();
          const r = await runMixedLoad({ port: ours.server.port, user: 'bob', pass: 'bob-pass', clients: o.clients, durationMs: o.seconds * 1000, original: o.messages });
          running = false;
          await sampler;
          const cpu = cpuMs(ours.pid) - c0;
          res.row7.ours = { ...r, serverCpuShare: cpu / r.durationMs, loopMaxMs: Math.max(...windows), loopWindowsMs: windows, serverWarnings: ours.warnings().slice(0, 20) };
          const ls = { loopMaxMs: Math.max(...windows) };
          log(`  maildir-imapd: ${r.commandsPerSec.toFixed(0)} commands/s, p50 ${fmtMs(r.latencyMs.p50)} ms, p99 ${fmtMs(r.latencyMs.p99)} ms, ${r.errors} errors, loop max ${ls.loopMaxMs} ms`);
        } finally {
          await ours.stop();
        }
        if (useDovecot) {
          const { mailRoot, stateDir } = dovecotRoot(['bob']);
          const config = 'mail_max_userip_connections = 100';
          const dc = await startTunedDovecot({ mailRoot, stateDir, users: [['bob', 'bob-pass']], extraConf: config });
          try {
            await warm(dc.port);
            const c0 = dovecotCpuMs(dc.pid);
            const r = await runMixedLoad({ port: dc.port, user: 'bob', pass: 'bob-pass', clients: o.clients, durationMs: o.seconds * 1000, original: o.messages });
            await sleep(300);
            const cpu = dovecotCpuMs(dc.pid) - c0;
            res.row7.dovecot = { ...r, serverCpuShare: cpu / r.durationMs, config };
            log(`  dovecot: ${r.commandsPerSec.toFixed(0)} commands/s, p50 ${fmtMs(r.latencyMs.p50)} ms, p99 ${fmtMs(r.latencyMs.p99)} ms, ${r.errors} errors`);
          } finally {
            await dc.stop();
          }
        }
      } catch (err) {
        res.row7.error = (err as Error).stack ?? String(err);
        log(`row 7 FAILED: ${res.row7.error}`);
      }
    }

    // ---------------- row 8 ----------------
    if (rows.has(8)) {
      res.row8 = {};
      loadNote(8);
      log(`row 8: push (one IDLE client) and fan-out to ${o.fanout} IDLE sessions of bob`);
      try {
        const tree = await ourTree();
        const ours = await startOurs(tree, ['--max-connections-per-user-ip', String(o.fanout + 100), '--max-connections', String(o.fanout + 1000)]);
        try {
          await warm(ours.server.port);
          log(`  maildir-imapd: push, ${o.push} deliveries`);
          const push = await measurePush(ours.server.port, 'bob', 'bob-pass', tree.maildir('bob'), owner, o.push, 3000);
          log(`    p50 ${fmtMs(push.p50)} ms, p95 ${fmtMs(push.p95)} ms, ${push.misses} missed`);
          log(`  maildir-imapd: fan-out to ${o.fanout} sessions, ${o.reps} repetitions`);
          await ours.loopStats();
          const fanout = await measureFanout({ port: ours.server.port, users: [['bob', 'bob-pass']], sessions: o.fanout, reps: o.reps, maildir: tree.maildir('bob'), owner, timeoutMs: 10_000, gapMs: 500, log });
          const ls = await ours.loopStats();
          res.row8.ours = { push, fanout, loopMaxMsDuringFanout: ls.loopMaxMs, serverWarnings: ours.warnings().slice(0, 20) };
        } finally {
          await ours.stop();
        }
        if (useDovecot) {
          needInotify(o.fanout * 3 + 512);
          const { mailRoot, stateDir } = dovecotRoot(['bob']);
          const config = [
            `mail_max_userip_connections = ${o.fanout + 100}`,
            `default_client_limit = ${o.fanout * 4 + 1000}`,
            `service imap {\n  process_limit = ${o.fanout + 100}\n}`,
          ].join('\n');
          const dc = await startTunedDovecot({ mailRoot, stateDir, users: [['bob', 'bob-pass']], extraConf: config });
          try {
            await warm(dc.port);
            log(`  dovecot: push, ${o.dovecotPush} deliveries`);
            const push = await measurePush(dc.port, 'bob', 'bob-pass', path.join(mailRoot, 'bob', 'Maildir'), owner, o.dovecotPush, 5000);
            log(`    p50 ${fmtMs(push.p50)} ms, p95 ${fmtMs(push.p95)} ms, ${push.misses} missed`);
            log(`  dovecot: fan-out to ${o.fanout} sessions, ${o.dovecotReps} repetitions`);
            const fanout = await measureFanout({ port: dc.port, users: [['bob', 'bob-pass']], sessions: o.fanout, reps: o.dovecotReps, maildir: path.join(mailRoot, 'bob', 'Maildir'), owner, timeoutMs: 40_000, gapMs: 2000, log });
            res.row8.dovecot = { push, fanout, config };
            const warnings = (await dc.log()).split('\n').filter((l) => /Warning|Error|Fatal/.test(l));
            if (warnings.length) res.notes.push(`dovecot row 8 log: ${warnings.slice(0, 5).join(' | ')}`);
          } finally {
            await dc.stop();
          }
        }
      } catch (err) {
        res.row8.error = (err as Error).stack ?? String(err);
        log(`row 8 FAILED: ${res.row8.error}`);
      }
    }

    // ---------------- row 9 ----------------
    if (rows.has(9)) {
      res.row9 = {};
      loadNote(9);
      log(`row 9: ${o.tlsSessions} IDLE sessions over implicit TLS (${o.tlsWorkers} client processes, ${o.tlsConcurrency} handshakes in flight)`);
      try {
        const cert = await makeCert(path.join(tmp('mimapd-load-cert-'), 'tls'));
        fs.chmodSync(path.dirname(path.dirname(cert.cert)), 0o711);
        const tree = await ourTree();
        res.row9.ours = await tlsOurs({ tree, cert, sessions: o.tlsSessions, workers: o.tlsWorkers, concurrency: o.tlsConcurrency, deliveries: o.tlsDeliveries, owner, log });
        if (useDovecot) {
          log(`  dovecot: ${o.dovecotTlsSessions} TLS IDLE sessions with its default limits, then ${o.dovecotTlsExtra} more`);
          needInotify((o.dovecotTlsSessions + o.dovecotTlsExtra) * 3 + 512);
          // mail_max_userip_connections = 10 by default: spread the sessions over users (≤ 10 each).
          const nUsers = Math.ceil((o.dovecotTlsSessions + o.dovecotTlsExtra) / 10) + 1;
          const users = Array.from({ length: nUsers }, (_, i): [string, string] => [`d${String(i).padStart(2, '0')}`, `pass${i}`]);
          const { mailRoot, stateDir } = dovecotRoot(users.map((u) => u[0]), true);
          res.row9.dovecot = await tlsDovecot({ mailRoot, stateDir, users, cert, sessions: o.dovecotTlsSessions, extra: o.dovecotTlsExtra, log });
        }
      } catch (err) {
        res.row9.error = (err as Error).stack ?? String(err);
        log(`row 9 FAILED: ${res.row9.error}`);
      }
    }
  } finally {
    if (inotifyWas !== null) {
      try {
        fs.writeFileSync(inotifyFile, inotifyWas);
      } catch {
        // reported in notes already
      }
    }
    for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
  }
  report(res, o);
  const outDir = path.resolve('bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'load.json'), JSON.stringify(res, null, 2) + '\n');
  console.log(`\nraw figures: ${path.relative(process.cwd(), path.join(outDir, 'load.json'))}; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return res;
}

// ---------------- report ----------------

function report(res: LoadResults, o: Record<string, unknown>): void {
  const out: string[] = [];
  const P = (s = '') => out.push(s);
  const TARGET = { fanoutMs: 50, rssMiB: 400, perSessionKb: 40, loopMs: 50 };

  if (res.row7) {
    const a = res.row7.ours;
    const b = res.row7.dovecot;
    P(`\nRow 7 — mixed load: ${o.clients} clients × ${o.seconds} s, imaptest-like loop (LIST ${MIX.list * 100}%, STATUS ${MIX.status * 100}%, STORE ${MIX.store * 100}%, FETCH2 again ${MIX.fetch2Again * 100}%), INBOX of ${o.messages} messages\n`);
    if (a || b) {
      const row = (name: string, f: (r: MixedResult) => number, fmt: (v: number) => string, note = '') => [name, a ? fmt(f(a)) : '-', b ? fmt(f(b)) : '-', a && b ? ratio(f(a), f(b)) : '-', note];
      P(
        table([
          ['metric', 'maildir-imapd', 'Dovecot', 'ours/Dovecot', ''],
          row('commands/s', (r) => r.commandsPerSec, (v) => v.toFixed(0), 'higher is better'),
          row('sessions (LOGIN…LOGOUT)', (r) => r.sessions, (v) => String(v)),
          row('p50 latency ms', (r) => r.latencyMs.p50, fmtMs),
          row('p90 latency ms', (r) => r.latencyMs.p90, fmtMs),
          row('p99 latency ms', (r) => r.latencyMs.p99, fmtMs),
          row('max latency ms', (r) => r.latencyMs.max, fmtMs),
          row('errors', (r) => r.errors, (v) => String(v)),
          ['server CPU (cores)', a ? a.serverCpuShare.toFixed(2) : '-', b ? b.serverCpuShare.toFixed(2) : '-', '', ''],
          ['client CPU (cores)', a ? a.clientCpuShare.toFixed(2) : '-', b ? b.clientCpuShare.toFixed(2) : '-', '', 'the load generator, same machine'],
          ['event loop max ms', a ? String(a.loopMaxMs) : '-', '', '', `target <= ${TARGET.loopMs}`],
          ['1 s windows over 50 ms', a ? `${a.loopWindowsMs.filter((x) => x > TARGET.loopMs).length}/${a.loopWindowsMs.length}` : '-', '', '', ''],
        ]),
      );
      const names = [...new Set([...Object.keys(a?.byCommand ?? {}), ...Object.keys(b?.byCommand ?? {})])];
      P('\nper command (n, p50 / p99 ms):');
      P(
        table([
          ['command', 'maildir-imapd', 'Dovecot'],
          ...names.map((n) => {
            const f = (r?: MixedResult) => (r?.byCommand[n] ? `${r.byCommand[n].n}  ${fmtMs(r.byCommand[n].p50)} / ${fmtMs(r.byCommand[n].p99)}` : '-');
            return [n, f(a), f(b)];
          }),
        ]),
      );
      for (const [who, r] of [['maildir-imapd', a], ['Dovecot', b]] as const) {
        if (!r?.errorList.length) continue;
        P(`\n${who} errors:`);
        for (const e of r.errorList.slice(0, 15)) P(`  ${e.count}× ${e.command}  →  ${e.response}`);
      }
      if (b) P(`\nDovecot config added: ${b.config}`);
      if (a?.serverWarnings.length) P(`maildir-imapd warnings: ${a.serverWarnings.slice(0, 3).join(' | ').slice(0, 600)}`);
    }
    if (res.row7.error) P(`row 7 error: ${res.row7.error.split('\n')[0]}`);
  }

  if (res.row8) {
    const a = res.row8.ours;
    const b = res.row8.dovecot;
    P(`\nRow 8 — push and fan-out (INBOX of ${o.messages} messages; one user, bob, from one IP)\n`);
    const rows: string[][] = [['metric', 'maildir-imapd', 'Dovecot', 'ours/Dovecot', 'target']];
    if (a || b) {
      rows.push(['(a) push, deliveries', a ? `${a.push.deliveries - a.push.misses}/${a.push.deliveries}` : '-', b ? `${b.push.deliveries - b.push.misses}/${b.push.deliveries}` : '-', '', '']);
      rows.push(['(a) push p50 ms', a ? fmtMs(a.push.p50) : '-', b ? fmtMs(b.push.p50) : '-', a && b ? ratio(a.push.p50, b.push.p50) : '-', '']);
      rows.push(['(a) push p95 ms', a ? fmtMs(a.push.p95) : '-', b ? fmtMs(b.push.p95) : '-', a && b ? ratio(a.push.p95, b.push.p95) : '-', '<= 10']);
      rows.push(['(b) IDLE sessions', a ? String(a.fanout.sessions) : '-', b ? String(b.fanout.sessions) : '-', '', '']);
      rows.push(['(b) time to open them s', a ? (a.fanout.openMs / 1000).toFixed(1) : '-', b ? (b.fanout.openMs / 1000).toFixed(1) : '-', '', '']);
      rows.push(['(b) repetitions', a ? String(a.fanout.reps.length) : '-', b ? String(b.fanout.reps.length) : '-', '', '']);
      rows.push(['(b) to LAST session, median ms', a ? fmtMs(a.fanout.lastMedianMs) : '-', b ? fmtMs(b.fanout.lastMedianMs) : '-', a && b ? ratio(a.fanout.lastMedianMs, b.fanout.lastMedianMs) : '-', `<= ${TARGET.fanoutMs}`]);
      rows.push(['(b) to LAST session, p95 ms', a ? fmtMs(a.fanout.lastP95Ms) : '-', b ? fmtMs(b.fanout.lastP95Ms) : '-', a && b ? ratio(a.fanout.lastP95Ms, b.fanout.lastP95Ms) : '-', '']);
      const medOfMed = (f?: FanoutResult) => (f ? [...f.reps.map((r) => r.medianMs)].sort((x, y) => x - y)[Math.floor(f.reps.length / 2)] : NaN);
      rows.push(['(b) median session, median ms', a ? fmtMs(medOfMed(a.fanout)) : '-', b ? fmtMs(medOfMed(b.fanout)) : '-', a && b ? ratio(medOfMed(a.fanout), medOfMed(b.fanout)) : '-', '']);
      rows.push(['(b) sessions missed', a ? String(a.fanout.reps.reduce((s, r) => s + r.missed, 0)) : '-', b ? String(b.fanout.reps.reduce((s, r) => s + r.missed, 0)) : '-', '', '0']);
      rows.push(['event loop max ms (fan-out)', a ? String(a.loopMaxMsDuringFanout) : '-', '', '', `<= ${TARGET.loopMs}`]);
      P(table(rows));
      if (a) P(`maildir-imapd per repetition (last ms): ${a.fanout.reps.map((r) => r.lastMs.toFixed(1)).join(', ')}`);
      if (b) P(`Dovecot per repetition (last ms): ${b.fanout.reps.map((r) => r.lastMs.toFixed(1)).join(', ')}`);
      if (b) P(`Dovecot config added: ${b.config.replace(/\n\s*/g, ' ')}`);
      if (a?.serverWarnings.length) P(`maildir-imapd warnings: ${a.serverWarnings.slice(0, 3).join(' | ').slice(0, 600)}`);
    }
    if (res.row8.error) P(`row 8 error: ${res.row8.error.split('\n')[0]}`);
  }

  if (res.row9) {
    const a = res.row9.ours;
    const b = res.row9.dovecot;
    P(`\nRow 9 — concurrent IDLE sessions over implicit TLS (ECDSA P-256 certificate, TLS 1.3)\n`);
    if (a) {
      const rssAfterMiB = a.after.rssBytes / 2 ** 20;
      P(
        table([
          ['maildir-imapd', 'value', 'target'],
          ['sessions opened', `${a.opened}/${a.sessions}`, ''],
          ['time to connect all (s)', (a.connectAllMs / 1000).toFixed(1), ''],
          ['RSS before (MiB)', (a.before.rssBytes / 2 ** 20).toFixed(1), ''],
          [`RSS after, settled ${((a.settleMs ?? 3000) / 1000).toFixed(0)} s after the last session (MiB)`, rssAfterMiB.toFixed(1), `< ${TARGET.rssMiB} ${rssAfterMiB < TARGET.rssMiB ? 'PASS' : 'FAIL'}`],
          ['  highest while settling (MiB)', ((a.settlingMaxRss ?? a.after.rssBytes) / 2 ** 20).toFixed(1), ''],
          ['RSS per session (KB)', a.perSessionKb.toFixed(1), `~${TARGET.perSessionKb} ${a.perSessionKb <= TARGET.perSessionKb ? 'PASS' : 'FAIL'}`],
          ['  of which JS heap (KB)', a.heapPerSessionKb.toFixed(1), ''],
          ['  of which external (KB)', a.externalPerSessionKb.toFixed(1), ''],
          ['worst event-loop delay while connecting (ms)', String(a.rampLoopMaxMs), `<= ${TARGET.loopMs} ${a.rampLoopMaxMs <= TARGET.loopMs ? 'PASS' : 'FAIL'}`],
          ...a.pushes.flatMap((p, i) => [
            [`delivery ${i + 1}: sessions that read EXISTS`, `${p.reached}/${p.total}`, ''],
            ['  time to the last of them (ms)', fmtMs(p.lastMs), ''],
            ['  p50 / p95 over sessions (ms)', `${fmtMs(p.p50Ms)} / ${fmtMs(p.p95Ms)}`, ''],
            ['  sample of 100: reached, last (ms)', `${p.sampleReached}/100, ${fmtMs(p.sampleLastMs)}`, ''],
            ['  event-loop max during it (ms)', String(p.loopMaxMsDuringPush), `<= ${TARGET.loopMs} ${p.loopMaxMsDuringPush <= TARGET.loopMs ? 'PASS' : 'FAIL'}`],
            ['  server RSS after it (MiB)', p.rssAfterMiB.toFixed(1), ''],
          ]),
        ]),
      );
      P(`client: ${a.clientProcesses} processes, ${a.concurrency} sessions being set up at once (TLS handshake + LOGIN + SELECT + IDLE)`);
      if (a.failed) P(`failures: ${JSON.stringify(a.failures)}`);
      P(`ramp samples (t s: loop max ms / connections / RSS MiB): ${a.rampSamples.filter((_, i) => i % 4 === 0).map((s) => `${(s.t / 1000).toFixed(0)}: ${s.loopMaxMs}/${s.connections}/${s.rssMb}`).join(', ')}`);
    }
    if (b) {
      P('');
      P(
        table([
          ['Dovecot (default limits, ssl = yes)', 'value'],
          ['sessions opened', `${b.opened}/${b.sessions} (over ${b.users} users: mail_max_userip_connections = 10)`],
          ['imap / imap-login processes', `${b.imapProcesses} / ${b.loginProcesses}`],
          ['RSS sum (MiB)', mb(b.rssKb)],
          ['RSS per session (MB)', b.rssPerSessionMb.toFixed(2)],
          ['PSS sum (MiB)', mb(b.pssKb)],
          ['PSS per session (MB)', b.pssPerSessionMb.toFixed(2)],
          [`${b.beyond.tried} more sessions`, `${b.beyond.opened} opened; ${Object.entries(b.beyond.failures).map(([k, v]) => `${v}× ${k}`).join('; ') || 'none failed'}`],
        ]),
      );
      for (const l of b.beyond.logLines) P(`  dovecot.log: ${l}`);
    }
    if (a && b) P(`\nper session: maildir-imapd ${a.perSessionKb.toFixed(1)} KB RSS vs Dovecot ${(b.rssPerSessionMb * 1024).toFixed(0)} KB RSS / ${(b.pssPerSessionMb * 1024).toFixed(0)} KB PSS: ours/Dovecot = ${ratio(a.perSessionKb, b.rssPerSessionMb * 1024)} (RSS), ${ratio(a.perSessionKb, b.pssPerSessionMb * 1024)} (PSS)`);
    if (res.row9.error) P(`row 9 error: ${res.row9.error.split('\n')[0]}`);
  }
  if (res.notes.length) P(`\nnotes:\n${res.notes.map((n) => `  - ${n}`).join('\n')}`);
  console.log(out.join('\n'));
}

export type { LoopLine };

// Standalone: node <outdir>/test/bench/load.js [...]. Inert under node --test.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && !process.env.NODE_TEST_CONTEXT) {
  const r = await runLoadBench(process.argv.slice(2));
  if (r.row7?.error || r.row8?.error || r.row9?.error) process.exitCode = 1;
  // Lingering handles (a fleet that did not exit) must not keep the run alive.
  setTimeout(() => process.exit(), 2000).unref();
}
