// The worker script of the worker pool tests.
import { serveJobs } from '../../src/runtime/serve-jobs.js';

export type TestJob =
  | { op: 'echo'; value: unknown }
  /** Blocks for `ms`; counts threads in a job at once in counters [now, most]. */
  | { op: 'sleep'; ms: number; counters: SharedArrayBuffer }
  | { op: 'crash'; code: number }
  | { op: 'throw'; message: string }
  /** Answers the byte length of `buf` (moved here) and `n` bytes of its own (moved back). */
  | { op: 'bytes'; buf: ArrayBuffer; n: number }
  /** Keeps `mb` megabytes of small JS objects alive at once (old-generation heap, not buffers). */
  | { op: 'hold'; mb: number };

function sleep(ms: number, counters: SharedArrayBuffer): number {
  const c = new Int32Array(counters);
  const now = Atomics.add(c, 0, 1) + 1;
  for (let most = Atomics.load(c, 1); now > most; most = Atomics.load(c, 1)) if (Atomics.compareExchange(c, 1, most, now) === most) break;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  Atomics.sub(c, 0, 1);
  return now;
}

serveJobs<TestJob, unknown>(
  (job) => {
    switch (job.op) {
      case 'echo':
        return job.value;
      case 'sleep':
        return sleep(job.ms, job.counters);
      case 'crash':
        process.exit(job.code);
      case 'throw':
        throw new Error(job.message);
      case 'bytes':
        return { got: job.buf.byteLength, data: new Uint8Array(job.n).fill(7) };
      case 'hold': {
        const kept: Array<{ a: number; b: string }> = [];
        // ~40 bytes per object: mb MB of them.
        for (let i = 0; i < job.mb * 25_000; i++) kept.push({ a: i, b: `s${i}` });
        return kept.length;
      }
    }
  },
  (res) => (res && typeof res === 'object' && 'data' in res ? [(res.data as Uint8Array).buffer as ArrayBuffer] : []),
);
