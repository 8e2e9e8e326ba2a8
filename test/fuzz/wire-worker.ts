// A worker thread running a range of in-process fuzz inputs. It publishes the
// index it is on in shared memory, so the main thread can tell a hang (no
// progress) from slow work, and name the input that hung.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { runWireInput, SLOW_MS } from './wire-target.js';

export interface WireWorkerData {
  seed: number;
  start: number;
  end: number;
  /** Int32Array over a SharedArrayBuffer: [0] = index being run. */
  heartbeat: SharedArrayBuffer;
}

export type WireWorkerMessage =
  | { type: 'progress'; done: number; slowestMs: number; slowestIndex: number; slow: number }
  | { type: 'failure'; index: number; kind: string; message: string }
  | { type: 'finished'; done: number };


const data = workerData as WireWorkerData;
const beat = new Int32Array(data.heartbeat);
let slowestMs = 0;
let slowestIndex = -1;
let slow = 0;
let done = 0;
const post = (m: WireWorkerMessage) => parentPort!.postMessage(m);
for (let i = data.start; i < data.end; i++) {
  Atomics.store(beat, 0, i);
  const t0 = performance.now();
  const verdict = runWireInput(data.seed, i);
  const ms = performance.now() - t0;
  if (ms > slowestMs) {
    slowestMs = ms;
    slowestIndex = i;
  }
  if (ms > SLOW_MS) slow++;
  if (verdict) post({ type: 'failure', index: i, kind: verdict.kind, message: verdict.message });
  done++;
  if (done % 2000 === 0) post({ type: 'progress', done, slowestMs, slowestIndex, slow });
}
post({ type: 'progress', done, slowestMs, slowestIndex, slow });
post({ type: 'finished', done });
