// Comparators (RFC 4790 as RFC 5228 §2.7.3 uses them), match types
// (:is :contains :matches, RFC 5231's :count and :value) and the wildcard
// matcher with its captures (RFC 5229 §3.2). Pure functions.
//
// :matches never backtracks: the pattern is cut at each '*' into fixed-length
// segments, the first anchored at the start, the last at the end, and each one
// between placed at its leftmost position. That finds a match whenever one
// exists, costs at most (value length × pattern length) comparisons, and gives
// the earlier '*' the shortest text, as Pigeonhole does ("*l*o*" on
// "Hello world" captures "He", "l", " world").
//
// :regex (RFC draft "regex") is not offered: JavaScript's regular expressions
// backtrack, a hostile pattern could hold the thread for minutes, and the step
// budget cannot interrupt one. Scripts that require "regex" fail to compile
// with an error that says so.

export type Comparator = 'i;octet' | 'i;ascii-casemap' | 'i;ascii-numeric';
export const COMPARATORS: readonly Comparator[] = ['i;octet', 'i;ascii-casemap', 'i;ascii-numeric'];
export type Relation = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';
export const RELATIONS: readonly Relation[] = ['gt', 'ge', 'lt', 'le', 'eq', 'ne'];

export interface MatchSpec {
  type: 'is' | 'contains' | 'matches' | 'count' | 'value';
  /** For :count and :value. */
  relation: Relation | null;
  comparator: Comparator;
}

/** ASCII letters lower-cased, nothing else touched (i;ascii-casemap). */
export function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

function fold(s: string, c: Comparator): string {
  return c === 'i;ascii-casemap' ? asciiLower(s) : s;
}

/** i;ascii-numeric: the leading digits as a number; a string that does not start with a digit is +infinity. */
function numericValue(s: string): bigint | null {
  const m = /^[0-9]+/.exec(s);
  return m ? BigInt(m[0]) : null;
}

/** Ordering of two values under a comparator: negative, zero or positive. */
export function compareValues(a: string, b: string, c: Comparator): number {
  if (c === 'i;ascii-numeric') {
    const x = numericValue(a);
    const y = numericValue(b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = fold(a, c);
  const y = fold(b, c);
  // code unit order equals octet order of UTF-8 except for astral vs. U+E000-U+FFFF; compare code points
  if (x === y) return 0;
  const ax = Array.from(x);
  const by = Array.from(y);
  const n = Math.min(ax.length, by.length);
  for (let i = 0; i < n; i++) {
    if (ax[i] !== by[i]) return ax[i].codePointAt(0)! - by[i].codePointAt(0)!;
  }
  return ax.length - by.length;
}

export function relationHolds(cmp: number, r: Relation): boolean {
  switch (r) {
    case 'gt':
      return cmp > 0;
    case 'ge':
      return cmp >= 0;
    case 'lt':
      return cmp < 0;
    case 'le':
      return cmp <= 0;
    case 'eq':
      return cmp === 0;
    case 'ne':
      return cmp !== 0;
  }
}

type PatternItem = string | 0; // 0: '?', a string: one literal character (code point)

interface Pattern {
  /** Segments between the '*' wildcards; a pattern without '*' is one segment. */
  segments: PatternItem[][];
}

function compilePattern(key: string, c: Comparator): Pattern {
  const segments: PatternItem[][] = [[]];
  const chars = Array.from(key);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') segments.push([]);
    else if (ch === '?') segments[segments.length - 1].push(0);
    else {
      const lit = ch === '\\' && i + 1 < chars.length ? chars[++i] : ch;
      segments[segments.length - 1].push(fold(lit, c));
    }
  }
  return { segments };
}

function segmentAt(seg: PatternItem[], v: string[], at: number): boolean {
  if (at + seg.length > v.length) return false;
  for (let k = 0; k < seg.length; k++) {
    const p = seg[k];
    if (p !== 0 && p !== v[at + k]) return false;
  }
  return true;
}

/**
 * Wildcard match. On success returns the captures: ${0} the whole value,
 * then one per wildcard in pattern order; null when it does not match.
 * `work` counts the comparisons made, for the caller's step budget.
 */
export function wildcardMatch(value: string, key: string, c: Comparator, work: { steps: number }): string[] | null {
  const pat = compilePattern(key, c);
  const orig = Array.from(value);
  const v = c === 'i;ascii-casemap' ? orig.map((ch) => asciiLower(ch)) : orig;
  const segs = pat.segments;
  const first = segs[0];
  const caps: string[] = [value];
  const qs = (seg: PatternItem[], at: number): void => {
    for (let k = 0; k < seg.length; k++) if (seg[k] === 0) caps.push(orig[at + k]);
  };
  work.steps += 1 + first.length;
  if (segs.length === 1) {
    if (first.length !== v.length || !segmentAt(first, v, 0)) return null;
    qs(first, 0);
    return caps;
  }
  const last = segs[segs.length - 1];
  if (!segmentAt(first, v, 0)) return null;
  qs(first, 0);
  let pos = first.length;
  const tailStart = v.length - last.length;
  if (tailStart < pos) return null;
  for (let s = 1; s < segs.length - 1; s++) {
    const seg = segs[s];
    let at = pos;
    for (; at + seg.length <= tailStart; at++) {
      work.steps += 1;
      if (segmentAt(seg, v, at)) break;
    }
    work.steps += seg.length;
    if (at + seg.length > tailStart) return null;
    caps.push(orig.slice(pos, at).join(''));
    qs(seg, at);
    pos = at + seg.length;
  }
  work.steps += last.length;
  if (!segmentAt(last, v, tailStart)) return null;
  caps.push(orig.slice(pos, tailStart).join(''));
  qs(last, tailStart);
  return caps;
}

/** One value against one key for :is, :contains, :value (not :count, not :matches). */
export function simpleMatch(value: string, key: string, m: MatchSpec, work: { steps: number }): boolean {
  work.steps += 1 + ((value.length + key.length) >> 6);
  switch (m.type) {
    case 'is':
      // as Pigeonhole: an empty value is only equal to an empty key, whatever the comparator
      if (value === '') return key === '';
      return compareValues(value, key, m.comparator) === 0;
    case 'contains':
      work.steps += (value.length * Math.max(1, key.length)) >> 8;
      return fold(value, m.comparator).includes(fold(key, m.comparator));
    case 'value':
      return relationHolds(compareValues(value, key, m.comparator), m.relation!);
    default:
      throw new Error(`simpleMatch: ${m.type}`);
  }
}
