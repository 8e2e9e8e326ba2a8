// Gives memory back after a burst of work. A whole-folder FETCH, a first
// SEARCH or a THREAD at 50,000 messages leaves 100-200 MB of garbage (records
// read, batches rendered); V8 collects it only under allocation pressure or
// some 15-30 s later, so the process sat at twice its live size after every
// big sync (issue 14). When the event loop has been nearly idle for a couple
// of seconds and the heap plus buffers grew well past what the last full
// collection left, one full collection runs: a pause of tens of ms when no
// one is waiting, instead of hundreds of MB held.
import v8 from 'node:v8';
import vm from 'node:vm';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** How often the loop's use is checked, and how long it must have been quiet. */
const CHECK_MS = 1000;
const QUIET_CHECKS = 2;
/** Quiet: the loop busy less than this share of the time. */
const QUIET_ELU = 0.05;
/** Collect when the heap and buffers grew this much since the last collection. */
const GROWTH_BYTES = 48 * 1024 * 1024;

export interface IdleGcOptions {
  checkMs?: number;
  growthBytes?: number;
}

/**
 * V8 lets the old generation grow to up to four times what the last full
 * collection left before it collects again; during a 50,000-message sync
 * that was 100-150 MB of garbage held at the peaks. A fixed factor of 1.25
 * collects sooner and took the one-user sync's peak from 393 to 320 MiB
 * with the unit's smaller young generation (NODE_OPTIONS in
 * systemd/maildir-imapd.service). The price is time: buffers count against
 * the limit too, so a FETCH that allocates per message collects often (the
 * fast path reuses its buffers for that reason); warm whole-folder
 * operations at 50,000 messages take 0-20% longer (README, "Memory or speed").
 * MAILDIR_IMAPD_HEAP_GROWTH sets the percent (0: V8's own heuristics, for a
 * machine where memory is plenty and sync time counts more). Set at run
 * time: the flag is read whenever a new limit is computed.
 */
export function limitHeapGrowth(percent = DEFAULT_HEAP_GROWTH): void {
  try {
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  } catch {
    // a runtime that refuses the flag: V8's own heuristics
  }
}

export const DEFAULT_HEAP_GROWTH = 25;

/** The percent MAILDIR_IMAPD_HEAP_GROWTH asks for: the default when unset, null when it is not a whole number from 0 to 300. */
export function heapGrowthPercent(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return DEFAULT_HEAP_GROWTH;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && n <= 300 ? n : null;
}

/** Starts the watcher; returns its stop function. Without a way to collect (a runtime that refuses the flag), does nothing. */
export function startIdleGc(options: IdleGcOptions = {}): () => void {
  const gc = collector();
  if (!gc) return () => undefined;
  const growth = options.growthBytes ?? GROWTH_BYTES;
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let quiet = 0;
  let floor = used();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const elu = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    quiet = elu < QUIET_ELU ? quiet + 1 : 0;
    const bytes = used();
    if (bytes < floor) floor = bytes; // V8 collected on its own
    if (quiet < QUIET_CHECKS || bytes - floor < growth) return;
    collectAndCompact(gc);
    floor = used();
    quiet = 0;
  }, options.checkMs ?? CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * A full collection that also compacts pages: a plain one left a heap of
 * half-empty pages after a 50,000-message sync (75 MB used in 125 MB held,
 * 109 MB with compaction) until V8's memory reducer ran, tens of seconds later.
 */
function collectAndCompact(gc: () => void): void {
  try {
    v8.setFlagsFromString('--compact-on-every-full-gc');
    gc();
  } finally {
    v8.setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** V8's full collection, made callable without starting node with --expose-gc. */
function collector(): (() => void) | null {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}
