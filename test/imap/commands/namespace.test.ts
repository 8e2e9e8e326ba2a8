// NAMESPACE (RFC 2342), in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

test('NAMESPACE: one personal namespace, no prefix, "." separator; no other users\' or shared (RFC 2342 §5)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const out = await c.run('NAMESPACE');
  assert.equal(out, '* NAMESPACE (("" ".")) NIL NIL\r\nT OK NAMESPACE completed\r\n');
  await c.run('SELECT INBOX');
  assert.match(await c.run('NAMESPACE'), /^\* NAMESPACE \(\("" "\."\)\) NIL NIL\r\nT OK /, 'also in the selected state');
});

test('NAMESPACE: state and argument errors', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.equal(await pre.run('NAMESPACE'), 'T BAD NAMESPACE is not allowed before login\r\n');
  const c = await h.session(null);
  const out = await c.run('NAMESPACE extra');
  assert.match(out, /^T BAD /m, 'RFC 2342 §5: namespace = "NAMESPACE", no arguments');
  assert.doesNotMatch(out, /^\* NAMESPACE/m);
});
