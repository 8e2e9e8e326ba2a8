// matchBodyStream(file, needles): the streaming body matcher (body-match.ts)
// in worker threads of the process's pool, so a 200 MB message is decoded off
// the event loop.
import { WorkerPool } from '../runtime/worker-pool.js';
import type { BodyMatchRequest } from './body-match-worker.js';

export const bodyStreamOptions = {
  /**
   * Messages whose file is bigger than this are never read whole for BODY/TEXT
   * (nor indexed): they are matched as a stream. Their body text would not be
   * cached anyway (facts.MAX_CACHED_BODY is the same size).
   */
  threshold: 4 * 1024 * 1024,
};

/**
 * Two at once: more would only share the disk and cores with everything else.
 * A thread's heap is kept small: it holds a few chunks at a time, and a young
 * generation left to grow to V8's default would cost tens of MB per thread.
 */
const pool = new WorkerPool<BodyMatchRequest, boolean[]>({
  name: 'body match',
  script: new URL('./body-match-worker.js', import.meta.url),
  maxThreads: 2,
  resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 96 },
});

/** Which of `needles` (folded) the body text of the message file contains; rejects with the file's errno code. */
export function matchBodyStream(file: string, needles: string[]): Promise<boolean[]> {
  return pool.run({ file, needles });
}
