// Row 9 of the load benchmark (issue 5): many concurrent IDLE sessions over
// implicit TLS. maildir-imapd: 10,000 sessions from two client processes,
// with the server's event loop sampled (SIGUSR2) while they connect, RSS
// before and after, and one delivery that must still reach them all.
// Dovecot: as many TLS IDLE sessions as its default config accepts (100:
// imap-login's process_limit), RSS/PSS of its imap + imap-login processes,
// and what happens to the 101st and later.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, type MailTree } from '../support/server.js';
import { Fleet, type OpenResult } from './fanout.js';
import { dovecotMemory, startOurs, startTunedDovecot, type LoopLine } from './load-servers.js';
import { RawImap } from './mixed-load.js';
import type { Owner } from './maildir-gen.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

export interface TlsOursResult {
  sessions: number;
  opened: number;
  failed: number;
  failures: Record<string, number>;
  clientProcesses: number;
  concurrency: number;
  connectAllMs: number;
  before: LoopLine;
  /** Once RSS settled (two readings 1 s apart within 2 MiB, 3-23 s after the last session opened). */
  after: LoopLine;
  settleMs: number;
  /** The highest RSS read while it settled (bytes). */
  settlingMaxRss: number;
  /** RSS after minus before, divided by the sessions opened. */
  perSessionKb: number;
  heapPerSessionKb: number;
  externalPerSessionKb: number;
  /** Worst event-loop delay in any window while the sessions connected. */
  rampLoopMaxMs: number;
  rampSamples: Array<{ t: number; loopMaxMs: number; loopP99Ms: number; rssMb: number; connections: number }>;
  pushes: TlsPush[];
}

export interface TlsPush {
  reached: number;
  total: number;
  lastMs: number;
  p50Ms: number;
  p95Ms: number;
  sampleReached: number;
  sampleLastMs: number;
  loopMaxMsDuringPush: number;
  /** Server RSS right after this delivery (MiB). */
  rssAfterMiB: number;
}

export async function tlsOurs(o: {
  tree: MailTree;
  cert: { cert: string; key: string };
  sessions: number;
  workers: number;
  concurrency: number;
  deliveries: number;
  owner: Owner | null;
  log: (s: string) => void;
}): Promise<TlsOursResult> {
  const tlsPort = await freePort();
  const ours = await startOurs(o.tree, [
    '--tls-listen',
    `127.0.0.1:${tlsPort}`,
    '--tls-cert',
    o.cert.cert,
    '--tls-key',
    o.cert.key,
    '--max-connections',
    String(o.sessions + 1000),
    '--max-connections-per-user-ip',
    String(o.sessions + 1000),
  ]);
  const fleets: Fleet[] = [];
  try {
    // Warm up: the first SELECT opens the folder (and the JIT warms); a live server has INBOX open.
    const warm = await RawImap.connect({ port: tlsPort, tls: true });
    await warm.command('LOGIN bob bob-pass');
    await warm.command('SELECT INBOX');
    await warm.command('LOGOUT');
    warm.destroy();
    await sleep(1000);
    const before = await ours.loopStats();
    o.log(`  before: RSS ${(before.rssBytes / 2 ** 20).toFixed(1)} MiB, heap ${(before.heapUsedBytes / 2 ** 20).toFixed(1)} MiB, ${before.connections} connections`);
    for (let w = 0; w < o.workers; w++) fleets.push(Fleet.spawn());
    const per = Math.ceil(o.sessions / o.workers);
    const t0 = performance.now();
    const opening: Array<Promise<OpenResult>> = fleets.map((f, w) =>
      f.open({ port: tlsPort, tls: true, users: [['bob', 'bob-pass']], count: Math.min(per, o.sessions - w * per), concurrency: Math.ceil(o.concurrency / o.workers), localAddress: `127.0.0.${10 + w}` }),
    );
    let done = false;
    const all = Promise.all(opening).finally(() => (done = true));
    const rampSamples: TlsOursResult['rampSamples'] = [];
    let lastLog = 0;
    while (!done) {
      await Promise.race([all, sleep(1000)]);
      const s = await ours.loopStats();
      const t = performance.now() - t0;
      rampSamples.push({ t: Math.round(t), loopMaxMs: s.loopMaxMs, loopP99Ms: s.loopP99Ms, rssMb: Math.round(s.rssBytes / 2 ** 20), connections: s.connections });
      if (t - lastLog > 5000) {
        lastLog = t;
        o.log(`  ${(t / 1000).toFixed(0)} s: ${s.connections} connections, RSS ${(s.rssBytes / 2 ** 20).toFixed(0)} MiB, loop max ${s.loopMaxMs} ms`);
      }
    }
    const results = await all;
    const connectAllMs = performance.now() - t0;
    const opened = results.reduce((s, r) => s + r.opened, 0);
    const failed = results.reduce((s, r) => s + r.failed, 0);
    const failures: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
    o.log(`  ${opened} sessions in ${(connectAllMs / 1000).toFixed(1)} s${failed ? `, ${failed} failed: ${JSON.stringify(failures)}` : ''}`);
    // RSS once it settles: right after the ramp it still holds the handshakes' garbage, which the
    // idle collection (runtime/idle-gc.ts, 2 s of quiet) and jemalloc's purge give back within seconds.
    // Read every second until two readings are within 2 MiB (at most 20 s); the highest is kept too.
    await sleep(3000);
    let after = await ours.loopStats();
    let settlingMaxRss = after.rssBytes;
    const settleT0 = performance.now();
    for (let prev = Infinity; Math.abs(after.rssBytes - prev) > 2 * 2 ** 20 && performance.now() - settleT0 < 20_000; ) {
      prev = after.rssBytes;
      await sleep(1000);
      after = await ours.loopStats();
      settlingMaxRss = Math.max(settlingMaxRss, after.rssBytes);
    }
    const settleMs = 3000 + performance.now() - settleT0;
    o.log(`  after: RSS ${(after.rssBytes / 2 ** 20).toFixed(1)} MiB settled ${(settleMs / 1000).toFixed(0)} s after the last session (highest meanwhile ${(settlingMaxRss / 2 ** 20).toFixed(1)} MiB), heap ${(after.heapUsedBytes / 2 ** 20).toFixed(1)} MiB, external ${(after.externalBytes / 2 ** 20).toFixed(1)} MiB, ${after.connections} connections`);

    // Push still works: deliveries one after the other, every session must read EXISTS.
    const pushes: TlsPush[] = [];
    for (let k = 0; k < o.deliveries; k++) {
      await ours.loopStats();
      for (const f of fleets) await f.arm();
      const d0 = await fleets[0].deliver(o.tree.maildir('bob'), o.owner);
      const collected = await Promise.all(fleets.map((f) => f.collect(30_000)));
      const lat = collected.flatMap((c) => c.times.filter((t): t is number => t !== null).map((t) => t - d0)).sort((a, b) => a - b);
      const total = collected.reduce((s, c) => s + c.times.length, 0);
      const sampleLat = collected[0].times.slice(0, 100).filter((t): t is number => t !== null).map((t) => t - d0);
      const during = await ours.loopStats();
      const p: TlsPush = {
        reached: lat.length,
        total,
        lastMs: lat[lat.length - 1] ?? NaN,
        p50Ms: pct(lat, 50),
        p95Ms: pct(lat, 95),
        sampleReached: sampleLat.length,
        sampleLastMs: Math.max(...sampleLat),
        loopMaxMsDuringPush: during.loopMaxMs,
        rssAfterMiB: during.rssBytes / 2 ** 20,
      };
      pushes.push(p);
      o.log(`  delivery ${k + 1}: ${p.reached}/${p.total} sessions read EXISTS, last after ${p.lastMs.toFixed(1)} ms (p50 ${p.p50Ms.toFixed(1)}), sample of 100: ${p.sampleReached}/100 (last ${p.sampleLastMs.toFixed(1)} ms); loop max ${p.loopMaxMsDuringPush} ms; RSS then ${p.rssAfterMiB.toFixed(1)} MiB`);
      await sleep(2000);
    }
    return {
      sessions: o.sessions,
      opened,
      failed,
      failures,
      clientProcesses: o.workers,
      concurrency: o.concurrency,
      connectAllMs,
      before,
      after,
      settleMs,
      settlingMaxRss,
      perSessionKb: (after.rssBytes - before.rssBytes) / 1024 / Math.max(1, opened),
      heapPerSessionKb: (after.heapUsedBytes - before.heapUsedBytes) / 1024 / Math.max(1, opened),
      externalPerSessionKb: (after.externalBytes - before.externalBytes) / 1024 / Math.max(1, opened),
      rampLoopMaxMs: Math.max(...rampSamples.map((s) => s.loopMaxMs)),
      rampSamples,
      pushes,
    };
  } finally {
    await Promise.all(fleets.map((f) => f.close()));
    await ours.stop();
  }
}

export interface TlsDovecotResult {
  sessions: number;
  opened: number;
  failures: Record<string, number>;
  users: number;
  imapProcesses: number;
  loginProcesses: number;
  rssKb: number;
  pssKb: number;
  rssPerSessionMb: number;
  pssPerSessionMb: number;
  byName: Record<string, { n: number; rssKb: number; pssKb: number }>;
  beyond: { tried: number; opened: number; failures: Record<string, number>; logLines: string[] };
}

export async function tlsDovecot(o: {
  mailRoot: string;
  stateDir: string;
  users: Array<[string, string]>;
  cert: { cert: string; key: string };
  sessions: number;
  extra: number;
  log: (s: string) => void;
}): Promise<TlsDovecotResult> {
  // Default config, TLS on: only the listener and the certificate are added.
  const dc = await startTunedDovecot({ mailRoot: o.mailRoot, stateDir: o.stateDir, users: o.users, tls: o.cert });
  const fleet = Fleet.spawn();
  const extra = Fleet.spawn();
  try {
    const opened = await fleet.open({ port: dc.tlsPort!, tls: true, users: o.users, count: o.sessions, concurrency: 10, localAddress: '127.0.0.20' });
    o.log(`  ${opened.opened} TLS IDLE sessions in ${(opened.ms / 1000).toFixed(1)} s${opened.failed ? `, ${opened.failed} failed: ${JSON.stringify(opened.failures)}` : ''}`);
    await sleep(1500);
    const mem = dovecotMemory(dc.pid, ['imap', 'imap-login']);
    const n = Math.max(1, opened.opened);
    o.log(`  imap + imap-login: ${mem.processes} processes, RSS ${(mem.rssKb / 1024).toFixed(1)} MiB (${(mem.rssKb / 1024 / n).toFixed(2)} MiB/session), PSS ${(mem.pssKb / 1024).toFixed(1)} MiB (${(mem.pssKb / 1024 / n).toFixed(2)} MiB/session)`);
    const beyondRes = await extra.open({ port: dc.tlsPort!, tls: true, users: o.users, count: o.extra, concurrency: o.extra, localAddress: '127.0.0.21', greetingTimeoutMs: 10_000 });
    const logText = await dc.log();
    const logLines = [...new Set(logText.split('\n').filter((l) => /process_limit|client_limit|reached|Maximum number|refus/i.test(l)).map((l) => l.replace(/^\S+ \d+ [\d:]+ /, '')))].slice(0, 8);
    o.log(`  ${o.extra} more: ${beyondRes.opened} opened, ${beyondRes.failed} failed ${JSON.stringify(beyondRes.failures)}`);
    for (const l of logLines) o.log(`    dovecot.log: ${l}`);
    return {
      sessions: o.sessions,
      opened: opened.opened,
      failures: opened.failures,
      users: o.users.length,
      imapProcesses: mem.byName['imap']?.n ?? 0,
      loginProcesses: mem.byName['imap-login']?.n ?? 0,
      rssKb: mem.rssKb,
      pssKb: mem.pssKb,
      rssPerSessionMb: mem.rssKb / 1024 / n,
      pssPerSessionMb: mem.pssKb / 1024 / n,
      byName: mem.byName,
      beyond: { tried: o.extra, opened: beyondRes.opened, failures: beyondRes.failures, logLines },
    };
  } finally {
    await Promise.all([fleet.close(), extra.close()]);
    await dc.stop();
  }
}

export const dovecotMailRootFor = (dir: string) => path.join(dir, 'mail');
