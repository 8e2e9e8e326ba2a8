import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSequenceSet, resolveSeqs, resolveUids } from '../../src/wire/sequence-set.js';

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
