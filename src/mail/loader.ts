// The message loader: reads and summarises message files in a small pool of
// worker threads (loader-worker.ts), so a first sync of a big folder uses the
// machine's other cores and never blocks the event loop that serves pushes.
// A handful of messages is cheaper done here than sent to a worker.
import os from 'node:os';
import { WorkerPool } from '../runtime/worker-pool.js';
import { SparePool } from '../runtime/spare-pool.js';
import type { LoadJob, LoadRequest, LoadResult } from './loader-worker.js';

export type { LoadJob, LoadResult };

/** Jobs per request to a worker: large enough to amortise the message, small enough to spread over the pool. */
const JOBS_PER_REQUEST = 16;

/**
 * Two threads per core, at most 4: a first sync of a folder that is not in the
 * page cache waits on the disk, and a worker reading synchronously has one read
 * in flight; a few more in flight than cores keeps the disk busy. How many of
 * them run at once is the process's thread budget (runtime/worker-pool.ts).
 */
const pool = new WorkerPool<LoadRequest, LoadResult[]>({
  name: 'message loader',
  script: new URL('./loader-worker.js', import.meta.url),
  maxThreads: Math.max(2, Math.min(4, os.availableParallelism() * 2)),
  // Parsing makes short-lived garbage: a young generation left at V8's default grows to tens of MB per
  // thread, four threads at once (issue 14). 8 MB keeps a thread's scavenges cheap and its heap small.
  // A job is 16 messages under 256 KiB (bigger ones go to bigPool), so its live heap is a few MB:
  // 48 MB bounds what V8 lets a thread's old generation grow to. (The memory bench's peak did not
  // move with this cap alone; it bounds a thread, it was not the bench's big cost.) A thread that
  // meets it dies: its messages are then read in-process (message-data.ts).
  resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 48 },
  // A sync's FETCH batches follow each other within milliseconds; a thread idle for a second ends, and its
  // heap (tens of MB after a big sync) goes back: restarting one costs ~30 ms when the next FETCH comes.
  idleMs: 1_000,
});

/** Shared memory for whole messages (see LoadRequest): one slab per request, reused. */
const SLAB_BYTES = 1024 * 1024;
/** A FETCH batch of whole messages and its read-ahead use up to eight. */
const spareSlabs = new SparePool<SharedArrayBuffer>(8);

export const loaderPool = {
  /**
   * The results of `jobs`, in order; rejects if a worker died (the caller
   * then reads in-process). Whole messages may be views of shared slabs:
   * `hold` is given the function that hands them back once the caller is
   * done with every `data` (nothing may be kept past it); without `hold`,
   * every `data` is a buffer of its own.
   */
  async load(jobs: LoadJob[], hold?: (release: () => void) => void): Promise<LoadResult[]> {
    const parts: Array<Promise<LoadResult[]>> = [];
    const slabs: SharedArrayBuffer[] = [];
    for (let i = 0; i < jobs.length; i += JOBS_PER_REQUEST) {
      const part = jobs.slice(i, i + JOBS_PER_REQUEST);
      const slab = hold && part.some((j) => j.data) ? (spareSlabs.take() ?? new SharedArrayBuffer(SLAB_BYTES)) : null;
      if (slab) slabs.push(slab);
      parts.push(
        pool.run({ jobs: part, slab }).then((results) => {
          // A slab result's data is a view of the slab, valid until released.
          if (slab) for (const r of results) if (r.ok && r.slabAt !== undefined) r.data = new Uint8Array(slab, r.slabAt, r.vsize);
          return results;
        }),
      );
    }
    if (slabs.length) hold!(() => slabs.splice(0).forEach((slab) => spareSlabs.give(slab)));
    // Every request settles before this answers: a slab given back while another thread still writes
    // it would be handed to the next batch, whose bodies go to the socket as views of it.
    const settled = await Promise.allSettled(parts);
    const failed = settled.find((p) => p.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.flatMap((p) => (p.status === 'fulfilled' ? p.value : []));
  },
};

/**
 * One thread, with a small heap, for messages too big to summarise on the
 * event loop but read there (fewer than a batch's worth): a message from
 * outside with 100,000 header lines or 50,000 MIME parts costs 30–60 MB of
 * heap while it is parsed, and four at once in the pool above grew RSS by
 * 300 MiB (issue 13 F). One at a time, a small young generation, and the
 * thread ends soon after, so its heap goes back too.
 */
const bigPool = new WorkerPool<LoadRequest, LoadResult[]>({
  name: 'big message loader',
  script: new URL('./loader-worker.js', import.meta.url),
  maxThreads: 1,
  idleMs: 2_000,
  resourceLimits: { maxYoungGenerationSizeMb: 4 },
});

export const bigLoader = {
  /** The result of `job`; rejects if the worker died (the caller then works in-process). */
  async load(job: LoadJob): Promise<LoadResult> {
    const [r] = await bigPool.run({ jobs: [job], slab: null });
    return r;
  },
};
