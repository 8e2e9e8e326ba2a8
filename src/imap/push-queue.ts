// Pushes to idling clients, across all connections: one delivery to a folder
// that 10,000 sessions are idling in means 10,000 socket writes. They start at
// once (a microtask, so a single push costs no extra turn), but run in slices
// of at most SLICE_MS, with the event loop given back in between, so other
// clients' commands and the next delivery are not held up behind the fan-out.
import { performance } from 'node:perf_hooks';

const SLICE_MS = 8;
let queue: Array<() => void> = [];
let next = 0;
let scheduled = false;

export function schedulePush(push: () => void): void {
  queue.push(push);
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(drain);
}

function drain(): void {
  const start = performance.now();
  while (next < queue.length) {
    const push = queue[next++];
    push();
    if ((next & 31) === 0 && performance.now() - start > SLICE_MS) {
      setImmediate(drain);
      return;
    }
  }
  queue = [];
  next = 0;
  scheduled = false;
}
