// numericOrder (the warm SORT by dates and sizes) against sortBy (the general path), on data with many ties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numericOrder, sortBy, type SortData, type SortKey, type SortKeyName } from '../../src/imap/search/sort.js';
import type { Candidate } from '../../src/imap/search/evaluate.js';
import type { MessageRef } from '../../src/mail/api.js';

const EMPTY = Buffer.alloc(0);

test('numericOrder gives sortBy\'s order for every mix of DATE, ARRIVAL and SIZE, REVERSE or not, ties by sequence number', () => {
  let seed = 3;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const n = 500;
  const cands: Candidate[] = [];
  const data: SortData[] = [];
  for (let i = 0; i < n; i++) {
    // Few distinct values, so ties are common; a fifth have no Date: header (DATE is then the arrival).
    const sentMs = rnd(5) === 0 ? null : 1_700_000_000_000 + rnd(20) * 1000;
    const mtimeMs = 1_700_000_000_000 + rnd(30) * 1000;
    const vsize = 100 + rnd(10);
    const meta = { uid: i * 3 + 1, sentMs, mtimeMs, vsize } as unknown as MessageRef;
    cands.push({ seq: i + 1, uid: meta.uid, meta });
    data.push({ seq: i + 1, uid: meta.uid, arrival: mtimeMs, date: sentMs ?? mtimeMs, size: vsize, subject: EMPTY, from: EMPTY, to: EMPTY, cc: EMPTY, displayFrom: EMPTY, displayTo: EMPTY });
  }
  const names: SortKeyName[] = ['DATE', 'ARRIVAL', 'SIZE'];
  const lists: SortKey[][] = [];
  for (const a of names) for (const ra of [false, true]) {
    lists.push([{ key: a, reverse: ra }]);
    for (const b of names) if (b !== a) for (const rb of [false, true]) lists.push([{ key: a, reverse: ra }, { key: b, reverse: rb }]);
  }
  for (const keys of lists) {
    const order = numericOrder(cands, keys);
    assert.ok(order, JSON.stringify(keys));
    assert.deepEqual(Array.from(order, (i) => cands[i].uid), sortBy(data, keys).map((d) => d.uid), JSON.stringify(keys));
  }
  // Not for value keys, nor while a value is unknown (the general path reads it).
  assert.equal(numericOrder(cands, [{ key: 'SUBJECT', reverse: false }]), null);
  const unread = [...cands, { seq: n + 1, uid: 9999, meta: { uid: 9999, mtimeMs: 1, vsize: 1 } as unknown as MessageRef }];
  assert.equal(numericOrder(unread, [{ key: 'DATE', reverse: false }]), null, 'Date: not read yet');
  assert.ok(numericOrder(unread, [{ key: 'ARRIVAL', reverse: false }]), 'ARRIVAL needs no Date:');
});
