// One cache budget for the process, from the machine's memory (issue 14).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheBudget, cacheShare } from '../../src/runtime/memory-budget.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

test('the budget is 1/32 of the machine, at least 32 MiB, at most 256 MiB; the shares add up to it', () => {
  assert.equal(cacheBudget(512 * MIB), 32 * MIB);
  assert.equal(cacheBudget(1 * GIB), 32 * MIB);
  assert.equal(cacheBudget(4 * GIB), 128 * MIB);
  assert.equal(cacheBudget(8 * GIB), 256 * MIB);
  assert.equal(cacheBudget(64 * GIB), 256 * MIB);
  for (const mem of [1 * GIB, 4 * GIB, 24 * GIB]) {
    const sum = cacheShare('textIndex', mem) + cacheShare('content', mem) + cacheShare('headers', mem) + cacheShare('threads', mem);
    assert.ok(Math.abs(sum - cacheBudget(mem)) <= 3, `${mem}: ${sum}`);
  }
  // What the caches had as constants before the budget, on a big machine.
  assert.equal(cacheShare('content', 8 * GIB), 64 * MIB);
  assert.equal(cacheShare('headers', 8 * GIB), 32 * MIB);
});
