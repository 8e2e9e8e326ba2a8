// SHA-256/SHA-512-crypt and bcrypt checks in worker threads (crypt-worker.ts),
// so a login never blocks the event loop.
import os from 'node:os';
import { WorkerPool } from '../runtime/worker-pool.js';
import type { CryptJob } from './crypt-worker.js';

const pool = new WorkerPool<CryptJob, boolean>({
  name: 'crypt',
  script: new URL('./crypt-worker.js', import.meta.url),
  // one thread on two cores: a burst of logins must not take every core from the event loop
  maxThreads: Math.max(1, Math.min(2, os.availableParallelism() - 1)),
});

export const cryptPool = {
  /** True if the password matches a $5$, $6$ or $2x$ hash. */
  verify(password: string, hash: string): Promise<boolean> {
    return pool.run({ password, hash });
  },
  close(): Promise<void> {
    return pool.close();
  },
};
