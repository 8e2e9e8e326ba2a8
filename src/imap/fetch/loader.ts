// The message loader: reads and summarises message files in a small pool of
// worker threads (loader-worker.ts), so a first sync of a big folder uses the
// machine's other cores and never blocks the event loop that serves pushes.
// A handful of messages is cheaper done here than sent to a worker.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LoadJob, LoadReply, LoadRequest, LoadResult } from './loader-worker.js';

export type { LoadJob, LoadResult };

/** Jobs per message to a worker: large enough to amortise the message, small enough to spread over the pool. */
const JOBS_PER_REQUEST = 16;
/** Workers idle this long are ended: each holds its own heap (tens of MB after a big sync). */
const IDLE_MS = 30_000;

class LoaderPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (r: LoadResult[]) => void; reject: (e: Error) => void; worker: Worker }>();
  private nextId = 1;
  private turn = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly size: number) {}

  private worker(): Worker {
    if (this.workers.length < this.size) {
      const w = new Worker(new URL('./loader-worker.js', import.meta.url));
      w.unref(); // an idle pool never keeps the process alive
      w.on('message', (reply: LoadReply) => {
        const p = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        p?.resolve(reply.results);
        if (this.waiting.size === 0) this.armIdle();
      });
      w.on('error', (err) => this.fail(w, err));
      w.on('exit', (code) => this.fail(w, new Error(`message loader worker exited with ${code}`)));
      this.workers.push(w);
      return w;
    }
    return this.workers[this.turn++ % this.workers.length];
  }

  /** A worker died: its requests fail (the caller falls back to reading in-process) and it is replaced on next use. */
  private fail(w: Worker, err: Error): void {
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    for (const [id, p] of this.waiting) {
      if (p.worker !== w) continue;
      this.waiting.delete(id);
      p.reject(err);
    }
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.waiting.size) return;
      const idle = this.workers.splice(0);
      for (const w of idle) {
        w.removeAllListeners('exit');
        void w.terminate();
      }
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  private request(jobs: LoadJob[]): Promise<LoadResult[]> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, worker });
      worker.postMessage({ id, jobs } satisfies LoadRequest);
    });
  }

  async load(jobs: LoadJob[]): Promise<LoadResult[]> {
    const parts: Array<Promise<LoadResult[]>> = [];
    for (let i = 0; i < jobs.length; i += JOBS_PER_REQUEST) parts.push(this.request(jobs.slice(i, i + JOBS_PER_REQUEST)));
    return (await Promise.all(parts)).flat();
  }
}

/**
 * Two workers per core, at most 4: a first sync of a folder that is not in the
 * page cache waits on the disk, and a worker reading synchronously has one read
 * in flight; a few more in flight than cores keeps the disk busy.
 */
export const loaderPool = new LoaderPool(Math.max(2, Math.min(4, os.availableParallelism() * 2)));
