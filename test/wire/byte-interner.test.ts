import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteInterner } from '../../src/wire/byte-interner.js';

test('equal texts get one number, different texts different ones, through growth and rehashing', () => {
  const t = new ByteInterner();
  const texts = Array.from({ length: 20_000 }, (_, i) => `<${i.toString(36)}.${(i * 7919) % 1000}@example.org>`);
  texts.push('', 'é', '😀', 'a\u0000b');
  const ids = texts.map((s) => t.internString(s));
  assert.equal(new Set(ids).size, texts.length);
  assert.equal(t.count, texts.length);
  // The same texts again, from a buffer with other bytes around them: the same numbers, and each reads back.
  for (let i = 0; i < texts.length; i += 97) {
    const b = Buffer.from(`xx${texts[i]}yy`);
    assert.equal(t.intern(b, 2, b.length - 2), ids[i]);
    assert.equal(t.text(ids[i]), texts[i]);
  }
  assert.equal(t.count, texts.length, 'nothing new was added');
});

test('texts with the same hash are told apart by their bytes', () => {
  const t = new ByteInterner();
  // FNV-1a 32-bit collides for these two (found by search): equal hash, different bytes.
  const hash = (s: string) => {
    let h = 0x811c9dc5;
    for (const c of Buffer.from(s)) h = Math.imul(h ^ c, 0x01000193);
    return h;
  };
  const seen = new Map<number, string>();
  let pair: [string, string] | null = null;
  for (let i = 0; !pair; i++) {
    const s = `id${i}`;
    const other = seen.get(hash(s));
    if (other !== undefined) pair = [other, s];
    else seen.set(hash(s), s);
  }
  const [a, b] = pair;
  assert.equal(hash(a), hash(b));
  const na = t.internString(a);
  const nb = t.internString(b);
  assert.notEqual(na, nb);
  assert.equal(t.internString(a), na);
  assert.equal(t.text(nb), b);
});

test('equals compares a number\'s text with bytes in a buffer, by length and content', () => {
  const t = new ByteInterner();
  const long = 'x'.repeat(300);
  const id = t.internString(long);
  for (let i = 0; i < 5000; i++) t.internString(`filler ${i}`); // the arena grows and moves
  const b = Buffer.from(`..${long}..`);
  assert.equal(t.equals(id, b, 2, b.length - 2), true);
  assert.equal(t.equals(id, b, 1, b.length - 3), false, 'same length, other bytes');
  assert.equal(t.equals(id, b, 2, b.length - 3), false, 'shorter');
});
