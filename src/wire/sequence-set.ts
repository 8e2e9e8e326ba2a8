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
 * The sequence numbers (1-based) a set names in a view of `count` messages,
 * ascending and unique. "*" is the last message. Numbers beyond count are dropped.
 */
export function resolveSeqs(ranges: Range[], count: number): number[] {
  const out = new Set<number>();
  for (let [a, b] of ranges) {
    if (a === Infinity) a = count;
    if (b === Infinity) b = count;
    if (a > b) [a, b] = [b, a];
    for (let s = Math.max(1, a); s <= Math.min(b, count); s++) out.add(s);
  }
  return [...out].sort((x, y) => x - y);
}

/**
 * The UIDs of `uids` (ascending) that a UID set names. "*" is the highest UID;
 * a range like 9:* with 9 above every UID still names the highest (RFC 3501 §6.4.8).
 */
export function resolveUids(ranges: Range[], uids: readonly number[]): number[] {
  if (!uids.length) return [];
  const max = uids[uids.length - 1];
  const out = new Set<number>();
  for (let [a, b] of ranges) {
    if (a === Infinity) a = max;
    if (b === Infinity) b = max;
    if (a > b) [a, b] = [b, a];
    let i = lowerBound(uids, a);
    for (; i < uids.length && uids[i] <= b; i++) out.add(uids[i]);
  }
  return [...out].sort((x, y) => x - y);
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
