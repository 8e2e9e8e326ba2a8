// The byte-bounded LRU behind the content and facts caches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLru } from '../../src/runtime/lru.js';

test('evicts the least recently used until within the budget; get refreshes', () => {
  const lru = new ByteLru<string, number>(30);
  lru.set('a', 1, 10);
  lru.set('b', 2, 10);
  lru.set('c', 3, 10);
  assert.equal(lru.bytes, 30);
  assert.equal(lru.get('a'), 1); // a is now the most recent: b is the oldest
  lru.set('d', 4, 10);
  assert.equal(lru.has('b'), false);
  assert.deepEqual(['a', 'c', 'd'].map((k) => lru.get(k)), [1, 3, 4]);
  assert.equal(lru.bytes, 30);
  lru.set('e', 5, 25); // needs three entries out
  assert.deepEqual(['a', 'c', 'd', 'e'].map((k) => lru.has(k)), [false, false, false, true]);
  assert.equal(lru.bytes, 25);
});

test('set replaces an entry and its cost, however often the same key is stored', () => {
  const lru = new ByteLru<string, string>(100);
  for (let i = 0; i < 1000; i++) lru.set('k', `v${i}`, 60);
  assert.equal(lru.bytes, 60);
  assert.equal(lru.size, 1);
  assert.equal(lru.get('k'), 'v999');
  lru.set('k', 'small', 5);
  assert.equal(lru.bytes, 5);
});

test('a value costing more than the budget is not kept; delete and clear give the bytes back', () => {
  const lru = new ByteLru<number, string>(50);
  lru.set(1, 'x', 20);
  lru.set(2, 'huge', 80);
  assert.equal(lru.get(2), undefined);
  assert.equal(lru.bytes, 0);
  lru.set(3, 'y', 20);
  lru.set(4, 'z', 20);
  assert.equal(lru.delete(3), true);
  assert.equal(lru.delete(3), false);
  assert.equal(lru.bytes, 20);
  lru.clear();
  assert.equal(lru.bytes, 0);
  assert.equal(lru.size, 0);
  assert.equal(lru.get(4), undefined);
});
