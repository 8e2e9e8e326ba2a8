// Running per-message work a few at a time: reading files one by one wastes
// the disk's parallelism, reading all at once holds every file in memory.
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { isMessageGone } from '../../mail/api.js';

const PARALLEL = 8;

/**
 * fn(item, index) for every item, at most PARALLEL in flight; results in item
 * order. An item whose message was expunged meanwhile gives null (SEARCH,
 * SORT and THREAD leave such messages out).
 */
export async function mapPresent<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>): Promise<Array<R | null>> {
  const out: Array<R | null> = new Array(items.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      // Awaits on cached data are microtasks, which never let I/O in: yield to the event loop now and then.
      if ((i & 1023) === 1023) await yieldLoop();
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        if (!isMessageGone(err)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, Math.max(1, items.length)) }, worker));
  return out;
}
