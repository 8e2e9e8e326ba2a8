// THREAD's algorithms, run here for small folders and in a worker thread
// (thread-worker.ts) for big ones, so the event loop is never held for long.
import { Worker } from 'node:worker_threads';
import { orderedSubject, references, formatThreads, type ThreadMsg } from './thread.js';
import type { ThreadReply, ThreadRequest } from './thread-worker.js';

/** Below this many messages threading takes a few ms: not worth a worker's round trip. */
const IN_PROCESS_MAX = 2000;
const IDLE_MS = 30_000;

let worker: Worker | null = null;
let idle: NodeJS.Timeout | null = null;
let nextId = 1;
const waiting = new Map<number, { resolve: (s: string) => void; reject: (e: Error) => void }>();

function getWorker(): Worker {
  if (idle) clearTimeout(idle);
  idle = null;
  if (worker) return worker;
  const w = new Worker(new URL('./thread-worker.js', import.meta.url));
  w.unref();
  w.on('message', (r: ThreadReply) => {
    const p = waiting.get(r.id);
    waiting.delete(r.id);
    if (r.error) p?.reject(new Error(r.error));
    else p?.resolve(r.result);
    if (!waiting.size) {
      idle = setTimeout(() => {
        if (waiting.size || worker !== w) return;
        worker = null;
        w.removeAllListeners('exit');
        void w.terminate();
      }, IDLE_MS);
      idle.unref();
    }
  });
  const fail = (err: Error) => {
    if (worker === w) worker = null;
    for (const [id, p] of waiting) {
      waiting.delete(id);
      p.reject(err);
    }
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`thread worker exited with ${code}`)));
  worker = w;
  return w;
}

/** The data of `* THREAD` for `msgs` (an empty string when there are none). */
export async function threadData(algorithm: 'REFERENCES' | 'ORDEREDSUBJECT', msgs: ThreadMsg[]): Promise<string> {
  const inProcess = () => formatThreads(algorithm === 'REFERENCES' ? references(msgs) : orderedSubject(msgs));
  if (msgs.length <= IN_PROCESS_MAX) return inProcess();
  try {
    const w = getWorker();
    const id = nextId++;
    return await new Promise<string>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      w.postMessage({ id, algorithm, msgs } satisfies ThreadRequest);
    });
  } catch {
    return inProcess(); // a worker that could not start or died: the answer still comes
  }
}
