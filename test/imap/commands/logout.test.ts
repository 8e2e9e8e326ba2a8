// LOGOUT (RFC 3501 §6.1.3), in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

test('LOGOUT in every state: BYE, then the tagged OK, then the server closes (§6.1.3)', async (t) => {
  const h = await harness(t);
  for (const open of [() => h.connect(), () => h.session(null), () => h.session()]) {
    const c = await open();
    const out = await c.run('LOGOUT');
    assert.match(out, /^\* BYE [^\r]*\r\nT OK [^\r]*\r\n$/, 'the untagged BYE comes before the OK');
    assert.equal(await c.closed(), true, 'the connection is closed');
  }
});

test('LOGOUT does not expunge: a \\Deleted message stays (only CLOSE and EXPUNGE remove, §6.4.2)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: keep\r\n\r\nbody\r\n');
  const c = await h.session();
  assert.match(await c.run('STORE 1 +FLAGS (\\Deleted)'), /^T OK /m);
  await c.run('LOGOUT');
  assert.equal(await c.closed(), true);
  assert.equal((await h.box()).count, 1);
  const again = await h.session();
  assert.match(await again.run('FETCH 1 FLAGS'), /^\* 1 FETCH \(FLAGS \([^)]*\\Deleted/m);
});

test('LOGOUT with an argument is BAD and the session stays (RFC 3501 §9: logout = "LOGOUT")', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  assert.match(await c.run('LOGOUT now'), /^T BAD /m);
  assert.match(await c.run('NOOP'), /^T OK /m);
});
