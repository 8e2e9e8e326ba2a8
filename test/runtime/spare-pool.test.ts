import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SparePool } from '../../src/runtime/spare-pool.js';

test('SparePool keeps up to max spares for reuse, and lets them all go once unused for idleMs', async () => {
  const pool = new SparePool<number>(2, 50);
  assert.equal(pool.take(), undefined);
  pool.give(1);
  pool.give(2);
  pool.give(3); // over max: not kept
  assert.equal(pool.size, 2);
  assert.equal(pool.take(), 2);
  pool.give(4);
  // Use within idleMs keeps them.
  for (let i = 0; i < 3; i++) {
    await sleep(30);
    pool.give(pool.take()!);
  }
  assert.equal(pool.size, 2);
  await sleep(120);
  assert.equal(pool.size, 0, 'an idle pool holds nothing');
  assert.equal(pool.take(), undefined);
});
