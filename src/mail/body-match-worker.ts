// Worker thread of body-match-pool.ts: one request, one matchBodyFile.
import { serveJobs } from '../runtime/serve-jobs.js';
import { matchBodyFile } from './body-match.js';

export interface BodyMatchRequest {
  file: string;
  needles: string[];
}

serveJobs<BodyMatchRequest, boolean[]>((req) => matchBodyFile(req.file, req.needles));
