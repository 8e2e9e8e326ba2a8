// Worker thread for SHA-256/SHA-512-crypt and bcrypt: unixcrypt and
// bcryptjs's sync form are CPU-bound (a 5,000-round SHA-crypt ~20 ms, bcrypt
// cost 12 ~250 ms), so they run here, off the event loop.
import { verify } from 'unixcrypt';
import bcrypt from 'bcryptjs';
import { serveJobs } from '../runtime/serve-jobs.js';

export interface CryptJob {
  password: string;
  hash: string;
}

serveJobs<CryptJob, boolean>((job) => {
  try {
    return job.hash.startsWith('$2') ? bcrypt.compareSync(job.password, job.hash) : verify(job.password, job.hash);
  } catch {
    return false; // a malformed hash (or one of another length) never matches
  }
});
