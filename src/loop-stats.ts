// Health figures an operator (or the benchmark) can ask a running server for:
// `kill -USR2 <pid>` logs one line with the event loop's worst delay since the
// last report, its p99, RSS and heap, the number of open connections and what
// the mail store holds (open folders, cache bytes against their one budget), then
// starts a new measuring window. A blocked event loop delays every push, so
// this is the number that says whether a big sync is hurting IDLE clients.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { workerThreadCount } from './runtime/worker-pool.js';

export interface LoopReport {
  /** Worst event-loop delay in the window, ms. */
  loopMaxMs: number;
  loopP99Ms: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** The heap V8 has taken from the system for the event loop's isolate (used or not). */
  heapTotalBytes: number;
  externalBytes: number;
  /** Buffers and typed arrays (part of external): message indexes, file contents. */
  arrayBuffersBytes: number;
  connections: number;
  /** Worker threads alive (each holds a V8 heap of its own, not counted above). */
  workerThreads: number;
  /** The mail store's figures (open folders, cache bytes, their budget). */
  mail: Record<string, number>;
  windowMs: number;
}

export class LoopStats {
  private readonly histogram: IntervalHistogram;
  private since = Date.now();

  constructor(
    private readonly connections: () => number,
    private readonly mail: () => Record<string, number> = () => ({}),
  ) {
    // 10 ms resolution is the histogram's default; 1 ms is what a push budget needs.
    this.histogram = monitorEventLoopDelay({ resolution: 1 });
    this.histogram.enable();
  }

  report(): LoopReport {
    const mem = process.memoryUsage();
    const r: LoopReport = {
      loopMaxMs: round(this.histogram.max / 1e6),
      loopP99Ms: round(this.histogram.percentile(99) / 1e6),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      externalBytes: mem.external,
      arrayBuffersBytes: mem.arrayBuffers,
      connections: this.connections(),
      workerThreads: workerThreadCount(),
      mail: this.mail(),
      windowMs: Date.now() - this.since,
    };
    this.histogram.reset();
    this.since = Date.now();
    return r;
  }

  /** Logs a report on every SIGUSR2. */
  onSignal(log: Logger): void {
    process.on('SIGUSR2', () => log.info(this.report(), 'loop stats'));
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
