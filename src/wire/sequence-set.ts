// "1:3,7,9:*" in sequence-number or UID space (RFC 3501 §9 sequence-set).
import { BadError } from './errors.js';

export type Range = [number, number]; // inclusive, lo ≤ hi; Infinity stands for "*" before resolving

const MAX_RANGES = 10_000;

export function parseSequenceSet(text: string): Range[] {
  const ranges: Range[] = [];
  const parts = text.split(',');
  if (parts.length > MAX_RANGES) throw new BadError('Sequence set has too many ranges');
  for (const part of parts) {
    const m = /^(\d+|\*)(?::(\d+|\*))?$/.exec(part);
    if (!m) throw new BadError('Invalid sequence set');
    const a = m[1] === '*' ? Infinity : Number(m[1]);
    const b = m[2] === undefined ? a : m[2] === '*' ? Infinity : Number(m[2]);
    if (a === 0 || b === 0) throw new BadError('Invalid sequence set: 0 is not a valid number');
    if ((a !== Infinity && a > 0xffffffff) || (b !== Infinity && b > 0xffffffff)) throw new BadError('Invalid sequence set: number too large');
    ranges.push(a <= b ? [a, b] : [b, a]);
  }
  return ranges;
}

/**
 * The ranges with "*" made `star`, each low to high, sorted and merged where
 * they overlap or touch. A set may hold 10,000 ranges: resolving or matching
 * them one by one against every message cost ranges × messages (10,000 × `1:*`
 * took 0.4 s over 5,000 messages, the event loop frozen for everyone).
 */
export function mergeRanges(ranges: Range[], star: number): Range[] {
  const norm: Range[] = ranges.map(([a, b]) => {
    if (a === Infinity) a = star;
    if (b === Infinity) b = star;
    return a <= b ? [a, b] : [b, a];
  });
  norm.sort((x, y) => x[0] - y[0]);
  const out: Range[] = [];
  for (const r of norm) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** Whether `n` is in ranges made by mergeRanges (a binary search). */
export function inMergedRanges(n: number, merged: readonly Range[]): boolean {
  let lo = 0;
  let hi = merged.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (merged[mid][1] < n) lo = mid + 1;
    else hi = mid;
  }
  return lo < merged.length && merged[lo][0] <= n;
}

/**
 * The sequence numbers (1-based) a set names in a view of `count` messages,
 * ascending and unique. "*" is the last message. Numbers beyond count are dropped.
 */
export function resolveSeqs(ranges: Range[], count: number): number[] {
  const out: number[] = [];
  for (const [a, b] of mergeRanges(ranges, count)) for (let s = Math.max(1, a); s <= Math.min(b, count); s++) out.push(s);
  return out;
}

/**
 * The UIDs of `uids` (ascending) that a UID set names. "*" is the highest UID;
 * a range like 9:* with 9 above every UID still names the highest (RFC 3501 §6.4.8).
 */
export function resolveUids(ranges: Range[], uids: readonly number[]): number[] {
  if (!uids.length) return [];
  const out: number[] = [];
  for (const [a, b] of mergeRanges(ranges, uids[uids.length - 1])) {
    for (let i = lowerBound(uids, a); i < uids.length && uids[i] <= b; i++) out.push(uids[i]);
  }
  return out;
}

function lowerBound(arr: readonly number[], v: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** "1:3,7,9:10": runs of consecutive numbers joined, in the order given (COPYUID pairs two such sets). */
export function formatSet(nums: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < nums.length; ) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j] + 1) j++;
    parts.push(i === j ? String(nums[i]) : `${nums[i]}:${nums[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The same for numbers in any order: sorted and deduplicated first. */
export function compressUids(nums: number[]): string {
  return formatSet([...new Set(nums)].sort((a, b) => a - b));
}
