// Worker thread for SHA-256/SHA-512-crypt: unixcrypt is synchronous and a
// 5,000-round hash takes ~20 ms, so it runs here, off the event loop.
import { parentPort } from 'node:worker_threads';
import { verify } from 'unixcrypt';

export interface CryptJob {
  id: number;
  password: string;
  hash: string;
}

parentPort!.on('message', (job: CryptJob) => {
  let ok = false;
  try {
    ok = verify(job.password, job.hash);
  } catch {
    ok = false; // a malformed hash (or one of another length) never matches
  }
  parentPort!.postMessage({ id: job.id, ok });
});
