// Worker thread of body-match-pool.ts: one request, one matchBodyFile.
import { parentPort } from 'node:worker_threads';
import { matchBodyFile } from './body-match.js';

export interface BodyMatchRequest {
  id: number;
  file: string;
  needles: string[];
}

export type BodyMatchReply = { id: number; ok: true; found: boolean[] } | { id: number; ok: false; code: string; message: string };

parentPort!.on('message', (req: BodyMatchRequest) => {
  let reply: BodyMatchReply;
  try {
    reply = { id: req.id, ok: true, found: matchBodyFile(req.file, req.needles) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    reply = { id: req.id, ok: false, code: e.code ?? 'ERROR', message: String(e.message) };
  }
  parentPort!.postMessage(reply);
});
