// A small pool of worker threads that check $5$/$6$ crypt(3) hashes, so a
// login never blocks the event loop (see crypt-worker.ts).
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import type { CryptJob } from './crypt-worker.js';

interface Pending {
  resolve(ok: boolean): void;
  reject(err: Error): void;
}

class PooledWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();

  constructor(onExit: (w: PooledWorker) => void) {
    this.worker = new Worker(new URL('./crypt-worker.js', import.meta.url));
    this.worker.unref(); // an idle pool must not keep the process alive
    this.worker.on('message', (m: { id: number; ok: boolean }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      p.resolve(m.ok);
    });
    const fail = (err: Error) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      onExit(this);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`crypt worker exited with code ${code}`)));
  }

  run(job: CryptJob): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject });
      this.worker.ref(); // keep the process up while a check is in flight
      this.worker.postMessage(job);
    });
  }
}

export class CryptPool {
  private readonly workers: PooledWorker[] = [];
  private nextId = 1;

  constructor(private readonly size = Math.max(1, Math.min(2, os.availableParallelism() - 1))) {}

  /** True if the password matches a $5$ or $6$ hash. */
  verify(password: string, hash: string): Promise<boolean> {
    return this.pick().run({ id: this.nextId++, password, hash });
  }

  /** Least busy worker, started on first use. */
  private pick(): PooledWorker {
    if (this.workers.length < this.size) {
      const w = new PooledWorker((dead) => this.workers.splice(this.workers.indexOf(dead) >>> 0, 1));
      this.workers.push(w);
      return w;
    }
    return this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.worker.terminate()));
  }
}

export const cryptPool = new CryptPool();
