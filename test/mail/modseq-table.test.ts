// ModseqTable (src/mail/modseq-table.ts) against a Map doing the same: random
// appends, updates, inserts below the highest UID, deletes (with the
// compaction of holes) and rebuilds from a map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModseqTable } from '../../src/mail/modseq-table.js';

test('a modseq table answers as a Map would through 20,000 random changes', () => {
  let seed = 3;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const model = new Map<number, { modseq: number; info: string }>();
  let table = new ModseqTable();
  let modseq = 0;
  let top = 0;
  const infos = ['', 'S', 'FS', 'RST', 'a'];
  for (let step = 0; step < 20_000; step++) {
    const op = rnd(10);
    if (op < 4) {
      const uid = ++top; // a new message
      const info = infos[rnd(5)];
      table.set(uid, ++modseq, info);
      model.set(uid, { modseq, info });
    } else if (op < 6 && top) {
      const uid = 1 + rnd(top); // flags changed, or a UID from before found again
      const info = infos[rnd(5)];
      table.set(uid, ++modseq, info);
      model.set(uid, { modseq, info });
    } else if (op < 9 && top) {
      const uid = 1 + rnd(top);
      table.delete(uid);
      model.delete(uid);
    }
    if (step % 997 === 996) table = ModseqTable.fromMap(model); // as a load builds it
    if (step % 500 === 0 || step === 19_999) {
      const sorted = [...model.keys()].sort((a, b) => a - b);
      assert.equal(table.size, model.size, `step ${step}`);
      assert.deepEqual(table.uidList(), sorted, `step ${step}`);
      assert.deepEqual([...table.entries()], sorted.map((u) => [u, model.get(u)!.modseq, model.get(u)!.info]), `step ${step}`);
      for (let i = 0; i < 50; i++) {
        const uid = 1 + rnd(top + 5);
        assert.deepEqual(table.get(uid), model.get(uid), `step ${step} uid ${uid}`);
      }
    }
  }
  table.clear();
  assert.equal(table.size, 0);
  assert.equal(table.get(1), undefined);
});
