// Worker thread for THREAD on big folders: threading 50,000 messages is a few
// hundred milliseconds of uninterrupted work, which on the event loop would
// hold up every push and every other client for as long.
import { parentPort } from 'node:worker_threads';
import { orderedSubject, references, formatThreads, type ThreadMsg } from './thread.js';

export interface ThreadRequest {
  id: number;
  algorithm: 'REFERENCES' | 'ORDEREDSUBJECT';
  msgs: ThreadMsg[];
}

export interface ThreadReply {
  id: number;
  /** The data of `* THREAD` (empty for no threads), or an error message. */
  result: string;
  error?: string;
}

parentPort?.on('message', (req: ThreadRequest) => {
  try {
    const threads = req.algorithm === 'REFERENCES' ? references(req.msgs) : orderedSubject(req.msgs);
    parentPort!.postMessage({ id: req.id, result: formatThreads(threads) } satisfies ThreadReply);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, result: '', error: String((err as Error)?.stack ?? err) } satisfies ThreadReply);
  }
});
