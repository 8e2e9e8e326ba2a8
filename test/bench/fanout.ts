// Row 8 of the load benchmark (issue 5): push to one IDLE client, and
// fan-out of one delivery to many IDLE sessions on one mailbox, timed until
// the last session has read "* N EXISTS".
//
// The sessions live in a separate "fleet" process (this file, forked with
// LOAD_FLEET_WORKER=1), which also does the delivery, so the delivery's t0 and
// every EXISTS stamp come from one clock and the benchmark's own bookkeeping
// does not sit in the measured path. Row 9 uses the same fleets over TLS.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { RawImap } from './mixed-load.js';
import { IdleClient } from './idle-client.js';
import { deliverTimed, type Owner } from './maildir-gen.js';

// --- messages between the benchmark and a fleet ---

export interface OpenRequest {
  type: 'open';
  port: number;
  tls: boolean;
  localAddress?: string;
  /** Round-robin over these users. */
  users: Array<[string, string]>;
  count: number;
  /** Sessions being set up at once. */
  concurrency: number;
  greetingTimeoutMs?: number;
}

export interface OpenResult {
  type: 'opened';
  opened: number;
  failed: number;
  ms: number;
  /** Failure reasons with counts. */
  failures: Record<string, number>;
}

type ToFleet =
  | OpenRequest
  | { type: 'arm' }
  | { type: 'deliver'; maildir: string; owner: Owner | null }
  | { type: 'collect'; timeoutMs: number }
  | { type: 'close' };

type FromFleet =
  | { type: 'progress'; opened: number; failed: number }
  | OpenResult
  | { type: 'armed' }
  | { type: 'delivered'; t0: number }
  | { type: 'collected'; times: Array<number | null>; closed: number }
  | { type: 'closed' };

const now = () => performance.timeOrigin + performance.now();

// --- the fleet process ---

interface Session {
  c: RawImap;
  base: number;
  seen: number | null;
}

async function fleetMain(): Promise<void> {
  const sessions: Session[] = [];
  let armed = false;
  const send = (m: FromFleet) => process.send!(m);

  async function open(req: OpenRequest): Promise<void> {
    const t0 = performance.now();
    let next = 0;
    let opened = 0;
    let failed = 0;
    const failures: Record<string, number> = {};
    const progress = setInterval(() => send({ type: 'progress', opened, failed }), 250);
    const one = async (i: number) => {
      const [user, pass] = req.users[i % req.users.length];
      let c: RawImap | null = null;
      try {
        c = await RawImap.connect({ port: req.port, tls: req.tls, localAddress: req.localAddress, timeoutMs: req.greetingTimeoutMs });
        const login = await c.command(`LOGIN ${user} ${pass}`);
        if (login.status !== 'OK') throw new Error(`LOGIN: ${login.status} ${login.text}`);
        const sel = await c.command('SELECT INBOX');
        if (sel.status !== 'OK') throw new Error(`SELECT: ${sel.status} ${sel.text}`);
        await c.idle();
        const s: Session = { c, base: c.exists, seen: null };
        c.onUntagged = (line, t) => {
          if (!armed || s.seen !== null) return;
          const m = /^\* (\d+) EXISTS/i.exec(line);
          if (m && Number(m[1]) > s.base) s.seen = performance.timeOrigin + t;
        };
        sessions.push(s);
        opened++;
      } catch (err) {
        c?.destroy();
        failed++;
        const why = (err as Error).message.replace(/t\d+/g, 'tN').replace(/\d{3,}/g, 'N').slice(0, 160);
        failures[why] = (failures[why] ?? 0) + 1;
      }
    };
    const lane = async () => {
      while (next < req.count) await one(next++);
    };
    await Promise.all(Array.from({ length: Math.min(req.concurrency, req.count) }, lane));
    clearInterval(progress);
    send({ type: 'opened', opened, failed, ms: performance.now() - t0, failures });
  }

  process.on('message', (msg: ToFleet) => {
    switch (msg.type) {
      case 'open':
        void open(msg);
        break;
      case 'arm':
        for (const s of sessions) {
          s.base = s.c.exists;
          s.seen = null;
        }
        armed = true;
        send({ type: 'armed' });
        break;
      case 'deliver': {
        const { t0 } = deliverTimed(msg.maildir, msg.owner);
        send({ type: 'delivered', t0: performance.timeOrigin + t0 });
        break;
      }
      case 'collect': {
        const until = performance.now() + msg.timeoutMs;
        const check = () => {
          const live = sessions.filter((s) => !s.c.closed);
          if (live.every((s) => s.seen !== null) || performance.now() > until) {
            armed = false;
            send({ type: 'collected', times: sessions.map((s) => s.seen), closed: sessions.length - live.length });
          } else setTimeout(check, 5);
        };
        check();
        break;
      }
      case 'close':
        for (const s of sessions) s.c.destroy();
        send({ type: 'closed' });
        setTimeout(() => process.exit(0), 50);
        break;
    }
  });
}

// --- the benchmark's side ---

export class Fleet {
  private waiters: Array<{ type: FromFleet['type']; resolve: (m: FromFleet) => void }> = [];
  opened = 0;
  failed = 0;
  exited = false;

  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: FromFleet) => {
      if (m.type === 'progress') {
        this.opened = m.opened;
        this.failed = m.failed;
        return;
      }
      if (m.type === 'opened') {
        this.opened = m.opened;
        this.failed = m.failed;
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
    proc.on('exit', () => {
      this.exited = true;
    });
  }

  static spawn(): Fleet {
    const file = fileURLToPath(new URL('./fanout.js', import.meta.url));
    const proc = fork(file, [], { env: { ...process.env, LOAD_FLEET_WORKER: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    return new Fleet(proc);
  }

  private ask<T extends FromFleet>(msg: ToFleet, reply: T['type'], timeoutMs = 600_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fleet: no ${reply} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type: reply,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      });
      this.proc.send(msg);
    });
  }

  open(req: Omit<OpenRequest, 'type'>): Promise<OpenResult> {
    return this.ask<OpenResult>({ type: 'open', ...req }, 'opened');
  }
  async arm(): Promise<void> {
    await this.ask({ type: 'arm' }, 'armed');
  }
  async deliver(maildir: string, owner: Owner | null): Promise<number> {
    return (await this.ask<{ type: 'delivered'; t0: number }>({ type: 'deliver', maildir, owner }, 'delivered')).t0;
  }
  collect(timeoutMs: number): Promise<{ times: Array<number | null>; closed: number }> {
    return this.ask<{ type: 'collected'; times: Array<number | null>; closed: number }>({ type: 'collect', timeoutMs }, 'collected', timeoutMs + 60_000);
  }
  async close(): Promise<void> {
    if (this.exited) return;
    await Promise.race([this.ask({ type: 'close' }, 'closed'), new Promise((r) => setTimeout(r, 5000))]).catch(() => undefined);
    setTimeout(() => {
      if (!this.exited) this.proc.kill('SIGKILL');
    }, 2000).unref();
  }
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

// --- row 8 (a): one IDLE client ---

export interface PushResult {
  deliveries: number;
  samples: number[];
  misses: number;
  p50: number;
  p95: number;
  max: number;
}

export async function measurePush(port: number, user: string, pass: string, maildir: string, owner: Owner | null, count: number, timeoutMs: number): Promise<PushResult> {
  const client = await IdleClient.connect(port);
  const samples: number[] = [];
  let misses = 0;
  try {
    await client.command('a', `LOGIN ${user} ${pass}`);
    await client.command('b', 'SELECT INBOX', 120_000);
    await client.idle('c');
    for (let i = 0; i < count; i++) {
      client.takeExists();
      const { t0 } = deliverTimed(maildir, owner);
      const ev = await client.nextExists(timeoutMs);
      if (ev) samples.push(ev.t - t0);
      else misses++;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
    }
    await client.done('c');
    await client.logout();
  } finally {
    client.close();
  }
  const s = [...samples].sort((a, b) => a - b);
  return { deliveries: count, samples, misses, p50: pct(s, 50), p95: pct(s, 95), max: s[s.length - 1] ?? NaN };
}

// --- row 8 (b): fan-out ---

export interface FanoutRep {
  /** Delivery to the last session's EXISTS, ms. */
  lastMs: number;
  medianMs: number;
  reached: number;
  missed: number;
}

export interface FanoutResult {
  sessions: number;
  openMs: number;
  openFailures: Record<string, number>;
  reps: FanoutRep[];
  /** Over the repetitions' lastMs. */
  lastMedianMs: number;
  lastP95Ms: number;
}

export async function measureFanout(o: {
  port: number;
  users: Array<[string, string]>;
  sessions: number;
  reps: number;
  maildir: string;
  owner: Owner | null;
  timeoutMs: number;
  gapMs: number;
  log: (s: string) => void;
}): Promise<FanoutResult> {
  const fleet = Fleet.spawn();
  try {
    const opened = await fleet.open({ port: o.port, tls: false, users: o.users, count: o.sessions, concurrency: 50, localAddress: '127.0.0.3' });
    o.log(`  ${opened.opened} IDLE sessions in ${(opened.ms / 1000).toFixed(1)} s${opened.failed ? `, ${opened.failed} failed: ${JSON.stringify(opened.failures)}` : ''}`);
    if (opened.failed) throw new Error(`only ${opened.opened} of ${o.sessions} sessions opened: ${JSON.stringify(opened.failures)}`);
    const reps: FanoutRep[] = [];
    await new Promise((r) => setTimeout(r, o.gapMs));
    for (let i = 0; i < o.reps; i++) {
      await fleet.arm();
      const t0 = await fleet.deliver(o.maildir, o.owner);
      const { times } = await fleet.collect(o.timeoutMs);
      const lat = times.filter((t): t is number => t !== null).map((t) => t - t0).sort((a, b) => a - b);
      const rep = { lastMs: lat[lat.length - 1] ?? NaN, medianMs: pct(lat, 50), reached: lat.length, missed: times.length - lat.length };
      reps.push(rep);
      o.log(`  rep ${i + 1}: last ${rep.lastMs.toFixed(1)} ms, median ${rep.medianMs.toFixed(1)} ms, ${rep.reached}/${times.length} reached`);
      await new Promise((r) => setTimeout(r, o.gapMs));
    }
    const lasts = reps.map((r) => (r.missed ? Infinity : r.lastMs)).sort((a, b) => a - b);
    return { sessions: opened.opened, openMs: opened.ms, openFailures: opened.failures, reps, lastMedianMs: pct(lasts, 50), lastP95Ms: pct(lasts, 95) };
  } finally {
    await fleet.close();
  }
}

if (process.env.LOAD_FLEET_WORKER === '1' && process.send) {
  await fleetMain();
}
