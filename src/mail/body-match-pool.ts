// matchBodyStream(file, needles): the streaming body matcher (body-match.ts)
// in worker threads, so a 200 MB message is decoded off the event loop. A
// plain request/response function, to move onto a shared worker pool as is.
import { Worker } from 'node:worker_threads';
import type { BodyMatchReply, BodyMatchRequest } from './body-match-worker.js';

export const bodyStreamOptions = {
  /**
   * Messages whose file is bigger than this are never read whole for BODY/TEXT
   * (nor indexed): they are matched as a stream. Their body text would not be
   * cached anyway (facts.MAX_CACHED_BODY is the same size).
   */
  threshold: 4 * 1024 * 1024,
};

/** Two at once: more would only share the disk and cores with everything else. */
const WORKERS = 2;
/** Workers idle this long are ended (each holds its own heap). */
const IDLE_MS = 30_000;

interface Waiting {
  resolve: (found: boolean[]) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: Map<number, Waiting>;
  idle: NodeJS.Timeout | null;
}

const slots: Slot[] = [];
let nextId = 1;

/**
 * A worker's heap is kept small: it holds a few chunks at a time, and a young
 * generation left to grow to V8's default would cost tens of MB per worker.
 */
const LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 96 };

function slot(): Slot {
  const idle = slots.find((s) => s.busy.size === 0);
  if (idle) return idle;
  if (slots.length < WORKERS) {
    const s: Slot = { worker: new Worker(new URL('./body-match-worker.js', import.meta.url), { resourceLimits: LIMITS }), busy: new Map(), idle: null };
    s.worker.unref(); // an idle pool never keeps the process alive
    s.worker.on('message', (r: BodyMatchReply) => {
      const w = s.busy.get(r.id);
      s.busy.delete(r.id);
      if (r.ok) w?.resolve(r.found);
      else w?.reject(Object.assign(new Error(r.message), { code: r.code }));
      if (s.busy.size === 0) armIdle(s);
    });
    const fail = (err: Error): void => {
      const i = slots.indexOf(s);
      if (i >= 0) slots.splice(i, 1);
      for (const w of s.busy.values()) w.reject(err);
      s.busy.clear();
    };
    s.worker.on('error', fail);
    s.worker.on('exit', (code) => fail(new Error(`body match worker exited with ${code}`)));
    slots.push(s);
    return s;
  }
  return slots.reduce((a, b) => (b.busy.size < a.busy.size ? b : a));
}

function armIdle(s: Slot): void {
  s.idle = setTimeout(() => {
    if (s.busy.size) return;
    const i = slots.indexOf(s);
    if (i >= 0) slots.splice(i, 1);
    s.worker.removeAllListeners('exit');
    void s.worker.terminate();
  }, IDLE_MS);
  s.idle.unref();
}

/** Which of `needles` (folded) the body text of the message file contains; rejects with the file's errno code. */
export function matchBodyStream(file: string, needles: string[]): Promise<boolean[]> {
  const s = slot();
  if (s.idle) clearTimeout(s.idle);
  s.idle = null;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    s.busy.set(id, { resolve, reject });
    s.worker.postMessage({ id, file, needles } satisfies BodyMatchRequest);
  });
}
