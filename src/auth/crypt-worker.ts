// Worker thread for SHA-256/SHA-512-crypt: unixcrypt is synchronous and a
// 5,000-round hash takes ~20 ms, so it runs here, off the event loop.
import { verify } from 'unixcrypt';
import { serveJobs } from '../runtime/serve-jobs.js';

export interface CryptJob {
  password: string;
  hash: string;
}

serveJobs<CryptJob, boolean>((job) => {
  try {
    return verify(job.password, job.hash);
  } catch {
    return false; // a malformed hash (or one of another length) never matches
  }
});
