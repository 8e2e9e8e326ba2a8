// LIST patterns matched in one pass (list-pattern.ts), against the regex
// definition of `*` and `%` on random short patterns and names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListPattern } from '../../src/wire/list-pattern.js';

/** The definition (RFC 3501 §6.3.8) as a backtracking regex: fine for short inputs. */
function reference(pattern: string, name: string): boolean {
  let re = '';
  for (const ch of pattern) re += ch === '*' ? '.*' : ch === '%' ? '[^.]*' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${re}$`, 's').test(name);
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

test('matches as the regex definition does on 20,000 random pattern/name pairs', () => {
  const rnd = seeded(7);
  const pick = (alphabet: string, max: number) => {
    let s = '';
    const n = Math.floor(rnd() * max);
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    return s;
  };
  for (let i = 0; i < 20_000; i++) {
    const pattern = pick('ab.*%é', 8);
    const name = pick('ab.é', 10);
    assert.equal(new ListPattern(pattern, '.').matches(name), reference(pattern, name), `${JSON.stringify(pattern)} vs ${JSON.stringify(name)}`);
  }
});

test('wildcards, separators and non-ASCII names', () => {
  const m = (p: string, n: string) => new ListPattern(p, '.').matches(n);
  assert.ok(m('*', 'a.b.c'));
  assert.ok(!m('%', 'a.b'));
  assert.ok(m('%.%', 'a.b'));
  assert.ok(m('a.*', 'a.b.c'));
  assert.ok(!m('a.%', 'a.b.c'));
  assert.ok(m('', ''));
  assert.ok(!m('', 'a'));
  assert.ok(m('Entw%rfe', 'Entwürfe'));
  assert.ok(m('%*%', '.'), 'a run with * is *');
  assert.ok(!m('%%', '.'), 'a run of % stays %');
});

test('1,000 wildcards and long alternations are one pass per name', () => {
  const name = 'x'.repeat(200) + 'Z';
  assert.ok(new ListPattern('*'.repeat(1000) + 'Z', '.').matches(name));
  assert.ok(!new ListPattern('*'.repeat(1000) + 'Y', '.').matches(name));
  assert.ok(!new ListPattern('*x'.repeat(500) + 'Q', '.').matches(name));
  assert.ok(new ListPattern('%x'.repeat(100) + '%', '.').matches(name));
});
