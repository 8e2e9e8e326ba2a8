// Worker thread for fillCurParallel: writes every `step`-th generated message.
import fs from 'node:fs';
import path from 'node:path';
import { isMainThread, workerData } from 'node:worker_threads';
import { genName, message } from './maildir-gen.js';

// Loaded as a plain module (e.g. by `node --test dist/test/`): nothing to do.
if (!isMainThread && workerData) {
  const { cur, from, step, count, nowSecs, pid } = workerData as { cur: string; from: number; step: number; count: number; nowSecs: number; pid: number };
  for (let i = from; i < count; i += step) {
    const { name, secs } = genName(i, count, nowSecs, pid);
    fs.writeFileSync(path.join(cur, name), message(i, new Date(secs * 1000)));
  }
}
