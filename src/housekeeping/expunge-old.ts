// Expunging what has been in a folder too long: the step autoexpunge runs on
// a timer and `maildir-imapd admin expunge` runs on demand. Through the store
// API only (MailboxHandle.expungeArrivedBefore), so sessions with the folder
// selected hear EXPUNGE / VANISHED exactly as for a client's EXPUNGE.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { isMessageGone, type MailboxHandle, type MessageRef } from '../mail/api.js';

/** At most this many candidates are listed by a dry run (the count goes on). */
export const MAX_LISTED = 1000;

export interface ExpungeOldResult {
  /** Messages looked at. */
  examined: number;
  /** Messages expunged (or, in a dry run, that would be). */
  expunged: number;
  /** Dry run: the candidates (at most MAX_LISTED), with the time each came into the folder. */
  listed: Array<{ uid: number; arrivedMs: number }>;
}

/**
 * Expunges every message of `box` that came into it before `cutoffMs`, in
 * batches of `batch`: what is held at once is one batch, whatever the
 * folder's size, and the event loop gets a turn between batches. `dryRun`
 * only lists them.
 */
export async function expungeArrivedBefore(box: MailboxHandle, cutoffMs: number, opts: { batch: number; dryRun?: boolean; stopped?: () => boolean }): Promise<ExpungeOldResult> {
  await box.refresh();
  const result: ExpungeOldResult = { examined: 0, expunged: 0, listed: [] };
  let after = 0; // the last UID judged: the folder may shrink and grow between batches
  for (;;) {
    if (opts.stopped?.()) break; // shutdown: what is done stays done
    const batch = nextBatch(box.all, after, opts.batch);
    if (!batch.length) break;
    after = batch[batch.length - 1].uid;
    result.examined += batch.length;
    if (opts.dryRun) {
      for (const m of batch) {
        const arrivedMs = await box.arrivedAt(m).catch((err) => {
          if (isMessageGone(err)) return Infinity;
          throw err;
        });
        if (!(arrivedMs < cutoffMs)) continue;
        result.expunged++;
        if (result.listed.length < MAX_LISTED) result.listed.push({ uid: m.uid, arrivedMs });
      }
    } else {
      result.expunged += (await box.expungeArrivedBefore(batch, cutoffMs)).length;
    }
    await yieldToLoop();
  }
  return result;
}

/** Up to `n` messages with UIDs above `after` (`all` is in ascending UID order). */
function nextBatch(all: readonly MessageRef[], after: number, n: number): MessageRef[] {
  let lo = 0;
  let hi = all.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (all[mid].uid <= after) lo = mid + 1;
    else hi = mid;
  }
  return all.slice(lo, lo + n);
}
