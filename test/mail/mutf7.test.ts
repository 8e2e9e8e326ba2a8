import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMutf7, decodeMutf7, isValidMutf7 } from '../../src/wire/mutf7.js';

test('mUTF-7 round trips (RFC 3501 §5.1.3 examples and more)', () => {
  const cases: Array<[string, string]> = [
    ['INBOX', 'INBOX'],
    ['Grün', 'Gr&APw-n'],
    ['&', '&-'],
    ['A&B', 'A&-B'],
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ['Entwürfe', 'Entw&APw-rfe'],
    ['äö', '&AOQA9g-'],
    ['😀', '&2D3eAA-'],
    ['Отправленные', '&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-'],
  ];
  for (const [text, wire] of cases) {
    assert.equal(encodeMutf7(text), wire, `encode ${text}`);
    assert.equal(decodeMutf7(wire), text, `decode ${wire}`);
    assert.ok(isValidMutf7(wire));
  }
});

test('mUTF-7 validation refuses every second spelling and malformed input', () => {
  for (const bad of [
    'bad&', // unterminated
    '&AGE-', // encoded "a": printable ASCII must be direct
    '&AOQ-&APY-', // two adjacent runs: canonical is one
    '&AOQ', // no closing "-"
    '&AOQ=-', // padding is not allowed
    '&AO/-', // "/" instead of ","
    '&AOR-', // non-zero leftover bits
    '&2D0-', // lone high surrogate
    '&3gA-', // lone low surrogate
    'Grün', // raw 8-bit
    'a\tb', // control character
  ]) {
    assert.equal(isValidMutf7(bad), false, bad);
  }
});
