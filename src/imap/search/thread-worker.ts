// Worker thread for THREAD on big folders: threading 50,000 messages is a few
// hundred milliseconds of uninterrupted work, which on the event loop would
// hold up every push and every other client for as long.
import { serveJobs } from '../../runtime/serve-jobs.js';
import { orderedSubject, references, formatThreads, type ThreadMsg } from './thread.js';

export interface ThreadRequest {
  algorithm: 'REFERENCES' | 'ORDEREDSUBJECT';
  msgs: ThreadMsg[];
}

/** The data of `* THREAD` (empty for no threads). */
serveJobs<ThreadRequest, string>((req) => formatThreads(req.algorithm === 'REFERENCES' ? references(req.msgs) : orderedSubject(req.msgs)));
