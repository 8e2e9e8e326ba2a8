// The process's worker pools: jobs run, never more at once than the shared
// budget allows, a crashed thread fails only its job, idle threads end and
// never keep the process alive, close() ends everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ThreadBudget, WorkerPool, type WorkerPoolOptions } from '../../src/runtime/worker-pool.js';
import type { TestJob } from './test-worker.js';

const script = new URL('./test-worker.js', import.meta.url);

function pool(options: Partial<WorkerPoolOptions> = {}): WorkerPool<TestJob, unknown> {
  return new WorkerPool<TestJob, unknown>({ name: 'test', script, maxThreads: 2, budget: new ThreadBudget(2), ...options });
}

test('jobs run and answer; a job that throws fails alone; transfer lists move buffers both ways', async (t) => {
  const p = pool();
  t.after(() => p.close());
  assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map((value) => p.run({ op: 'echo', value }))), [1, 2, 3, 4, 5]);
  await assert.rejects(p.run({ op: 'throw', message: 'bad input' }), (err: Error) => err instanceof Error && /bad input/.test(err.message));
  assert.equal(await p.run({ op: 'echo', value: 'still here' }), 'still here');
  const buf = new ArrayBuffer(1000);
  const res = (await p.run({ op: 'bytes', buf, n: 4096 }, [buf])) as { got: number; data: Uint8Array };
  assert.equal(buf.byteLength, 0, 'the request buffer was moved, not copied');
  assert.equal(res.got, 1000);
  assert.equal(res.data.length, 4096);
  assert.equal(res.data[4095], 7);
});

test('pools sharing a budget never run more jobs at once than it allows, and use all of it', async (t) => {
  const budget = new ThreadBudget(2);
  const a = pool({ budget, maxThreads: 3 });
  const b = pool({ budget, maxThreads: 3 });
  t.after(() => Promise.all([a.close(), b.close()]));
  const counters = new SharedArrayBuffer(8);
  let sampledMost = 0;
  const sampler = setInterval(() => (sampledMost = Math.max(sampledMost, budget.inUse, a.running + b.running)), 1);
  const jobs = [];
  for (let i = 0; i < 8; i++) for (const p of [a, b]) jobs.push(p.run({ op: 'sleep', ms: 30, counters }));
  await Promise.all(jobs);
  clearInterval(sampler);
  const most = new Int32Array(counters)[1];
  assert.equal(most, 2, 'at most (and at some point exactly) two threads were in a job at once');
  assert.ok(sampledMost <= 2);
  assert.equal(budget.inUse, 0);
  assert.ok(a.threads <= 3 && b.threads <= 3);
});

test('a freed slot goes to the next waiting pool, not to the pool with the most jobs queued', async (t) => {
  const budget = new ThreadBudget(1);
  const busy = pool({ budget });
  const other = pool({ budget });
  t.after(() => Promise.all([busy.close(), other.close()]));
  const counters = new SharedArrayBuffer(8);
  let done = 0;
  const long = Array.from({ length: 6 }, () => busy.run({ op: 'sleep', ms: 80, counters }).then(() => done++));
  await sleep(20);
  await other.run({ op: 'echo', value: 1 });
  assert.ok(done <= 2, `the other pool waited for ${done} jobs of the busy one`);
  await Promise.all(long);
});

test('a crashed thread fails its job with an Error; the pool replaces it and goes on', async (t) => {
  const budget = new ThreadBudget(2);
  const p = pool({ budget, maxThreads: 1 });
  t.after(() => p.close());
  const crash = p.run({ op: 'crash', code: 3 });
  const after = p.run({ op: 'echo', value: 'after' });
  await assert.rejects(crash, (err: Error) => err instanceof Error && /exited with code 3/.test(err.message));
  assert.equal(await after, 'after');
  assert.equal(p.threads, 1);
  assert.equal(budget.inUse, 0, 'the dead thread gave its slot back');
});

test('idle threads end after idleMs', async (t) => {
  const p = pool({ idleMs: 100 });
  t.after(() => p.close());
  await Promise.all([p.run({ op: 'echo', value: 1 }), p.run({ op: 'echo', value: 2 })]);
  assert.ok(p.threads >= 1);
  await sleep(400);
  assert.equal(p.threads, 0);
  assert.equal(await p.run({ op: 'echo', value: 3 }), 3, 'a new thread starts on demand');
});

test('an idle thread does not keep the process alive', async (t) => {
  const code = `
    import { WorkerPool } from ${JSON.stringify(new URL('../../src/runtime/worker-pool.js', import.meta.url).href)};
    const p = new WorkerPool({ name: 't', script: new URL(${JSON.stringify(script.href)}), maxThreads: 1 });
    console.log(await p.run({ op: 'echo', value: 'done' }));`;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'worker-pool-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.writeFile(path.join(dir, 'main.mjs'), code);
  const started = Date.now();
  const out = execFileSync(process.execPath, [path.join(dir, 'main.mjs')], { timeout: 15_000, encoding: 'utf8' });
  assert.equal(out.trim(), 'done');
  assert.ok(Date.now() - started < 10_000, 'exited without waiting out the 30 s idle time');
});

test('close() fails running and queued jobs, ends the threads and frees the budget; the pool can start again', async () => {
  const budget = new ThreadBudget(1);
  const p = pool({ budget, maxThreads: 1 });
  const counters = new SharedArrayBuffer(8);
  const running = p.run({ op: 'sleep', ms: 2000, counters });
  const queued = p.run({ op: 'echo', value: 1 });
  const failed = Promise.all([assert.rejects(running, /closed/), assert.rejects(queued, /closed/)]);
  await sleep(50);
  await p.close();
  await failed;
  assert.equal(p.threads, 0);
  assert.equal(budget.inUse, 0);
  assert.equal(await p.run({ op: 'echo', value: 2 }), 2);
  await p.close();
});

test('a thread that meets its heap cap dies with its job alone; the next job gets a new thread', async (t) => {
  const p = pool({ maxThreads: 1, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 16 } });
  t.after(() => p.close());
  assert.equal(await p.run({ op: 'hold', mb: 2 }), 50_000, 'a job within the cap runs');
  await assert.rejects(p.run({ op: 'hold', mb: 200 }), /out of memory|exited|ERR_WORKER/i);
  assert.equal(await p.run({ op: 'echo', value: 'still here' }), 'still here');
  assert.equal(p.threads, 1);
});
