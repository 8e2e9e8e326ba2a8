// THREAD's algorithms, run here for small folders and in a worker thread
// (thread-worker.ts) for big ones, so the event loop is never held for long.
import { WorkerPool } from '../../runtime/worker-pool.js';
import { ALGORITHMS, formatThreads, type ThreadAlgorithm, type ThreadMsg } from './thread.js';
import type { ThreadRequest } from './thread-worker.js';
import { packThreadMsgs } from './thread-pack.js';

/** Below this many messages threading takes a few ms: not worth a worker's round trip. */
const IN_PROCESS_MAX = 2000;

// Its heap holds one folder's threading (a few hundred MB at 50,000 messages): the thread ends soon after.
const pool = new WorkerPool<ThreadRequest, string>({
  name: 'thread',
  script: new URL('./thread-worker.js', import.meta.url),
  maxThreads: 1,
  idleMs: 2_000,
  resourceLimits: { maxYoungGenerationSizeMb: 8 },
});

/** The data of `* THREAD` for `msgs` (an empty string when there are none). */
export async function threadData(algorithm: ThreadAlgorithm, msgs: ThreadMsg[]): Promise<string> {
  const inProcess = () => formatThreads(ALGORITHMS[algorithm](msgs));
  if (msgs.length <= IN_PROCESS_MAX) return inProcess();
  try {
    const packed = packThreadMsgs(msgs);
    return await pool.run({ algorithm, msgs: packed }, [packed.nums.buffer as ArrayBuffer, packed.lens.buffer as ArrayBuffer]);
  } catch {
    return inProcess(); // a worker that could not start or died: the answer still comes
  }
}
