// Worker thread for generateCorpus (corpus.ts): writes every `step`-th message.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { writeSlice } from './corpus.js';

// Loaded as a plain module (e.g. by `node --test dist/test/`): nothing to do.
if (!isMainThread && workerData && parentPort) {
  const { maildir, seed, count, from, step } = workerData as { maildir: string; seed: number; count: number; from: number; step: number };
  parentPort.postMessage(writeSlice(maildir, seed, count, from, step));
}
