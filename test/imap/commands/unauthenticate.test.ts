// UNAUTHENTICATE (RFC 8437).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

test('UNAUTHENTICATE: state and argument errors; advertised after login only (RFC 8437 §3)', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.doesNotMatch(await pre.run('CAPABILITY'), /UNAUTHENTICATE/);
  assert.match(await pre.run('UNAUTHENTICATE'), /^T BAD UNAUTHENTICATE is not allowed before login/m);
  const c = await h.session(null);
  assert.match(await c.run('CAPABILITY'), /\bUNAUTHENTICATE\b/);
  assert.match(await c.run('UNAUTHENTICATE extra'), /^T BAD /m);
});

test('UNAUTHENTICATE drops the login, the selected folder and ENABLEd extensions, and keeps the connection (RFC 8437 §3)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: a\r\n\r\nbody\r\n');
  const c = await h.session();
  await c.run('ENABLE CONDSTORE');
  assert.equal(await c.run('UNAUTHENTICATE'), 'T OK UNAUTHENTICATE completed\r\n');
  assert.match(await c.run('FETCH 1 FLAGS'), /^T BAD FETCH is not allowed before login/m, 'nothing selected any more');
  assert.match(await c.run('CAPABILITY'), /AUTH=PLAIN/, 'the pre-login capabilities again');
  (await h.box()).add('Subject: b\r\n\r\nbody\r\n');
  assert.match(await c.run('NOOP'), /^T OK /m, 'no updates of the old folder');
  assert.match(await c.run('LOGIN alice alice-pass'), /^T OK /m, 'another user on the same connection');
  assert.match(await c.run('SELECT INBOX'), /^\* 0 EXISTS\r$/m, "alice's INBOX, not bob's");
  assert.doesNotMatch(await c.run('SELECT INBOX'), /HIGHESTMODSEQ/, 'CONDSTORE is off again');
  assert.match(h.logs().map((l) => l.msg).join(' '), /unauthenticate/);
});
