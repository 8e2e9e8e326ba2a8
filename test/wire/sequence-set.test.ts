import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSequenceSet, resolveSeqs, resolveUids, mergeRanges, inMergedRanges, type Range } from '../../src/wire/sequence-set.js';

test('sequence numbers: ranges, *, reversed ranges, out of range dropped', () => {
  assert.deepEqual(resolveSeqs(parseSequenceSet('1:3,7,9:*'), 10), [1, 2, 3, 7, 9, 10]);
  assert.deepEqual(resolveSeqs(parseSequenceSet('*:8'), 10), [8, 9, 10]);
  assert.deepEqual(resolveSeqs(parseSequenceSet('20'), 10), []);
});

test('UIDs: "9:*" names the highest UID even when it is below 9 (RFC 3501 §6.4.8)', () => {
  assert.deepEqual(resolveUids(parseSequenceSet('9:*'), [1, 2, 5]), [5]);
  assert.deepEqual(resolveUids(parseSequenceSet('2:4,5'), [1, 2, 3, 5, 8]), [2, 3, 5]);
  assert.deepEqual(resolveUids(parseSequenceSet('*'), []), []);
});

test('invalid sets are BAD', () => {
  for (const bad of ['0', '1:0', 'a', '1,,2', '', '4294967296']) assert.throws(() => parseSequenceSet(bad), /Invalid|too large/, bad);
});

test('resolving and matching agree with a range-by-range reading of the set', () => {
  let x = 7;
  const rand = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n) + 1;
  for (let round = 0; round < 300; round++) {
    const count = rand(60) - 1;
    const uids = [...new Set(Array.from({ length: count }, () => rand(200)))].sort((a, b) => a - b);
    const text = Array.from({ length: rand(6) }, () => (rand(5) === 1 ? '*' : String(rand(80))) + (rand(2) === 1 ? `:${rand(5) === 1 ? '*' : rand(220)}` : '')).join(',');
    const ranges = parseSequenceSet(text);
    const names = (n: number, star: number) =>
      ranges.some(([a, b]) => {
        const lo = Math.min(a === Infinity ? star : a, b === Infinity ? star : b);
        const hi = Math.max(a === Infinity ? star : a, b === Infinity ? star : b);
        return n >= lo && n <= hi;
      });
    const seqs = Array.from({ length: count }, (_, i) => i + 1);
    assert.deepEqual(resolveSeqs(ranges, count), seqs.filter((s) => names(s, count)), `${text} over ${count}`);
    const star = uids.length ? uids[uids.length - 1] : 0;
    assert.deepEqual(resolveUids(ranges, uids), uids.filter((u) => names(u, star)), `${text} over ${uids}`);
    const merged = mergeRanges(ranges, star);
    for (let n = 0; n <= 230; n++) assert.equal(inMergedRanges(n, merged), names(n, star), `${n} in ${text}`);
  }
});

test('a set of 10,000 ranges over 100,000 messages resolves in one pass (found by the fuzzer)', () => {
  // `FETCH 1:*,1:*,…` or `UID SEARCH UID 7:9,7:9,…`: ranges × messages was 1e9 steps, the event loop frozen for every session.
  const star = parseSequenceSet(Array.from({ length: 10_000 }, () => '1:*').join(','));
  const scattered: Range[] = parseSequenceSet(Array.from({ length: 10_000 }, (_, i) => `${(i * 7919) % 200_000 + 1}`).join(','));
  const uids = Array.from({ length: 100_000 }, (_, i) => 2 * i + 1);
  const t0 = performance.now();
  assert.equal(resolveSeqs(star, 100_000).length, 100_000);
  assert.equal(resolveUids(star, uids).length, 100_000);
  resolveUids(scattered, uids);
  const merged = mergeRanges(scattered, 200_000);
  for (const u of uids) inMergedRanges(u, merged);
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
});
