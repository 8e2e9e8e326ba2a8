// Worker thread for THREAD on big folders: threading 50,000 messages is a few
// hundred milliseconds of uninterrupted work, which on the event loop would
// hold up every push and every other client for as long.
import { serveJobs } from '../../runtime/serve-jobs.js';
import { ALGORITHMS, formatThreads, type ThreadAlgorithm } from './thread.js';
import { unpackThreadMsgs, type PackedThreadMsgs } from './thread-pack.js';

export interface ThreadRequest {
  algorithm: ThreadAlgorithm;
  msgs: PackedThreadMsgs;
}

/** The data of `* THREAD` (empty for no threads). */
serveJobs<ThreadRequest, string>((req) => formatThreads(ALGORITHMS[req.algorithm](unpackThreadMsgs(req.msgs))));
