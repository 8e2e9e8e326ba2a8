// Worker threads for the whole process: every pool (password hashing, the
// message loader, THREAD, the text index) is a WorkerPool, and all of them
// draw from one ThreadBudget, so however many pools are busy at once, no more
// threads run jobs than the machine has cores for. The worker scripts answer
// with serveJobs() (serve-jobs.ts).
import os from 'node:os';
import { Worker, type ResourceLimits, type TransferListItem } from 'node:worker_threads';
import type { JobMessage, JobReply } from './serve-jobs.js';

/** A pool waiting for a slot: offered one when it frees; true if it took it. */
interface SlotTaker {
  takeSlot(): boolean;
}

/**
 * How many worker threads may run a job at once, over every pool. A freed
 * slot goes to the pools waiting for one in turn (not to the pool with the
 * most jobs queued), so a login's hash waits for at most one job of a text
 * index build, not for the whole build.
 */
export class ThreadBudget {
  private used = 0;
  private readonly waiting: SlotTaker[] = [];

  constructor(readonly size: number) {}

  /** Slots taken now. */
  get inUse(): number {
    return this.used;
  }

  /** A slot now (true), or none: then `pool.takeSlot()` is called when one frees. */
  acquire(pool: SlotTaker): boolean {
    if (this.used < this.size) {
      this.used++;
      return true;
    }
    if (!this.waiting.includes(pool)) this.waiting.push(pool);
    return false;
  }

  /** Gives a slot back: straight to the next waiting pool that still wants it. */
  release(): void {
    while (this.waiting.length) if (this.waiting.shift()!.takeSlot()) return;
    this.used--;
  }

  forget(pool: SlotTaker): void {
    const i = this.waiting.indexOf(pool);
    if (i >= 0) this.waiting.splice(i, 1);
  }
}

/**
 * One thread per core, and never fewer than two (the text index is built in
 * two). A thread that waits for the disk counts as running: the budget is
 * what the pools may have in flight, and the event loop shares the cores too.
 */
export const threadBudget = new ThreadBudget(Math.max(2, os.availableParallelism()));

export interface WorkerPoolOptions {
  /** For error messages. */
  name: string;
  /** The worker script: a module that calls serveJobs(). */
  script: URL;
  /** Threads this pool may have (running or idle); running ones also need a slot of the budget. */
  maxThreads: number;
  /** A thread idle this long ends: each holds a heap of its own (tens of MB after a big sync). */
  idleMs?: number;
  budget?: ThreadBudget;
  /** Heap limits per thread (a worker that streams holds a few chunks: V8's default young generation is tens of MB). */
  resourceLimits?: ResourceLimits;
}

interface Job<Req, Res> {
  req: Req;
  transfer: readonly TransferListItem[];
  resolve(res: Res): void;
  reject(err: Error): void;
}

interface Thread<Req, Res> {
  worker: Worker;
  job: Job<Req, Res> | null;
  idleTimer: NodeJS.Timeout | null;
}

const pools = new Set<WorkerPool<unknown, unknown>>();

/** Worker threads alive over every pool, running or idle. */
export function workerThreadCount(): number {
  let n = 0;
  for (const p of pools) n += p.threads;
  return n;
}

/** Ends every pool's threads (server shutdown); jobs still pending fail. */
export async function closeWorkerPools(): Promise<void> {
  await Promise.all([...pools].map((p) => p.close()));
}

/**
 * Runs jobs in worker threads, one job per thread at a time, in the order
 * they were asked for. Threads start on demand and end when idle; an idle
 * thread never keeps the process alive. A thread that dies (crash, out of
 * memory) fails its job and is replaced by the next job that needs one.
 */
export class WorkerPool<Req, Res> implements SlotTaker {
  private readonly all = new Set<Thread<Req, Res>>();
  private readonly idle: Thread<Req, Res>[] = [];
  private readonly queue: Job<Req, Res>[] = [];
  private readonly budget: ThreadBudget;
  private readonly idleMs: number;
  private nextId = 1;

  constructor(private readonly options: WorkerPoolOptions) {
    this.budget = options.budget ?? threadBudget;
    this.idleMs = options.idleMs ?? 30_000;
    pools.add(this as WorkerPool<unknown, unknown>);
  }

  /** Threads alive (running a job or idle). */
  get threads(): number {
    return this.all.size;
  }

  /** Threads running a job. */
  get running(): number {
    return this.all.size - this.idle.length;
  }

  /** The worker's answer to `req`; `transfer` lists buffers of `req` to move instead of copy. */
  run(req: Req, transfer: readonly TransferListItem[] = []): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ req, transfer, resolve, reject });
      this.pump();
    });
  }

  /** Ends every thread; queued and running jobs fail. The pool starts afresh if used again. */
  async close(): Promise<void> {
    this.budget.forget(this);
    const closed = new Error(`${this.options.name} worker pool closed`);
    for (const job of this.queue.splice(0)) job.reject(closed);
    const ending = [...this.all].map((t) => {
      this.remove(t, closed);
      return t.worker.terminate();
    });
    await Promise.all(ending);
  }

  takeSlot(): boolean {
    if (!this.queue.length || !this.canStart()) return false;
    this.start(this.queue.shift()!);
    this.pump();
    return true;
  }

  private canStart(): boolean {
    return this.idle.length > 0 || this.all.size < this.options.maxThreads;
  }

  /** Starts queued jobs while this pool has a thread for one and the budget a slot. */
  private pump(): void {
    while (this.queue.length && this.canStart() && this.budget.acquire(this)) this.start(this.queue.shift()!);
  }

  /** Runs `job` on an idle or new thread; the caller holds a slot for it. */
  private start(job: Job<Req, Res>): void {
    let t: Thread<Req, Res>;
    try {
      t = this.idle.pop() ?? this.spawn();
    } catch (err) {
      this.budget.release();
      job.reject(err as Error);
      return;
    }
    if (t.idleTimer) clearTimeout(t.idleTimer);
    t.idleTimer = null;
    t.job = job;
    t.worker.ref(); // a job in flight keeps the process alive
    try {
      t.worker.postMessage({ id: this.nextId++, req: job.req } satisfies JobMessage<Req>, job.transfer);
    } catch (err) {
      // a request that cannot be cloned: the thread is fine
      t.job = null;
      this.rest(t);
      this.budget.release();
      job.reject(err as Error);
    }
  }

  private spawn(): Thread<Req, Res> {
    const t: Thread<Req, Res> = { worker: new Worker(this.options.script, { resourceLimits: this.options.resourceLimits }), job: null, idleTimer: null };
    this.all.add(t);
    t.worker.on('message', (reply: JobReply<Res>) => this.answered(t, reply));
    t.worker.on('error', (err) => this.died(t, err));
    t.worker.on('exit', (code) => this.died(t, new Error(`${this.options.name} worker exited with code ${code}`)));
    return t;
  }

  private answered(t: Thread<Req, Res>, reply: JobReply<Res>): void {
    const job = t.job;
    if (!job) return;
    t.job = null;
    this.rest(t);
    this.budget.release();
    if (reply.ok) job.resolve(reply.res);
    else job.reject(Object.assign(new Error(reply.error), reply.code ? { code: reply.code } : {}));
    this.pump();
  }

  /** An idle thread: it no longer keeps the process alive, and ends if nothing comes for idleMs. */
  private rest(t: Thread<Req, Res>): void {
    this.idle.push(t);
    t.worker.unref();
    t.idleTimer = setTimeout(() => {
      this.remove(t, null);
      void t.worker.terminate();
    }, this.idleMs);
    t.idleTimer.unref();
  }

  private died(t: Thread<Req, Res>, err: Error): void {
    if (!this.all.has(t)) return; // ended by us, or 'exit' after 'error'
    this.remove(t, err);
    this.pump(); // queued jobs get a new thread
  }

  /** Forgets a thread; its job (if any) fails with `err` and its slot is given back. */
  private remove(t: Thread<Req, Res>, err: Error | null): void {
    this.all.delete(t);
    const i = this.idle.indexOf(t);
    if (i >= 0) this.idle.splice(i, 1);
    if (t.idleTimer) clearTimeout(t.idleTimer);
    t.idleTimer = null;
    const job = t.job;
    t.job = null;
    if (job) {
      this.budget.release();
      job.reject(err ?? new Error(`${this.options.name} worker ended`));
    }
  }
}
