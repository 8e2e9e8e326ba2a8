// The worker side of a WorkerPool (worker-pool.ts): the message loop every
// worker script runs. One job at a time arrives as { id, req }; the answer
// (or the error the handler threw) goes back under the same id.
import { parentPort, type TransferListItem } from 'node:worker_threads';

export interface JobMessage<Req> {
  id: number;
  req: Req;
}

/** A failed job carries the error's text and its errno code (ENOENT …), which callers act on. */
export type JobReply<Res> = { id: number; ok: true; res: Res } | { id: number; ok: false; error: string; code?: string };

/**
 * Answers the pool's jobs with `handle`. `transferOf` names buffers of the
 * answer to move rather than copy (they are unusable here afterwards).
 */
export function serveJobs<Req, Res>(handle: (req: Req) => Res | Promise<Res>, transferOf?: (res: Res) => readonly TransferListItem[]): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs() runs in a worker thread only');
  port.on('message', (msg: JobMessage<Req>) => {
    let answer: Promise<Res>;
    try {
      answer = Promise.resolve(handle(msg.req));
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (res) => port.postMessage({ id: msg.id, ok: true, res } satisfies JobReply<Res>, transferOf?.(res) ?? []),
      (err: unknown) => {
        const code = (err as NodeJS.ErrnoException | null)?.code;
        port.postMessage({ id: msg.id, ok: false, error: String((err as Error)?.message ?? err), code: typeof code === 'string' ? code : undefined } satisfies JobReply<Res>);
      },
    );
  });
}
