// CLOSE (RFC 3501 §6.4.2), in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, errnoError } from '../../support/command-harness.js';
import { MemoryMailbox } from '../../support/memory-store.js';

test('CLOSE: \\Deleted messages removed silently (no EXPUNGE), back to the authenticated state (§6.4.2)', async (t) => {
  const h = await harness(t);
  for (const n of [1, 2, 3]) await h.deliver(`Subject: m${n}\r\n\r\nbody\r\n`);
  const c = await h.session();
  await c.run('STORE 1,3 +FLAGS.SILENT (\\Deleted)');
  assert.equal(await c.run('CLOSE'), 'T OK CLOSE completed\r\n');
  assert.match(await c.run('FETCH 1 UID'), /^T BAD FETCH is not allowed without a selected mailbox/m);
  assert.match(await c.run('CLOSE'), /^T BAD CLOSE is not allowed without a selected mailbox/m);
  assert.match(await c.run('SELECT INBOX'), /^\* 1 EXISTS\r$/m);
  assert.match(await c.run('FETCH 1 (UID FLAGS)'), /^\* 1 FETCH \(UID 2 FLAGS \(\)\)/m);
});

test('CLOSE after EXAMINE expunges nothing (§6.4.2: only if selected read-write)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: m\r\n\r\nbody\r\n');
  const c = await h.session();
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await c.run('EXAMINE INBOX');
  assert.equal(await c.run('CLOSE'), 'T OK CLOSE completed\r\n');
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 1\)/);
});

test('CLOSE: state errors', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.equal(await pre.run('CLOSE'), 'T BAD CLOSE is not allowed before login\r\n');
});

test('CLOSE with an argument is BAD and nothing is expunged (RFC 3501 §9: close = "CLOSE")', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: m\r\n\r\nbody\r\n');
  const c = await h.session();
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  assert.match(await c.run('CLOSE now'), /^T BAD /m);
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 1\)/);
});

test('CLOSE: an expunge failure is the NO of its kind, a bug NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: m\r\n\r\nbody\r\n');
  const c = await h.session();
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  const m = t.mock.method(MemoryMailbox.prototype, 'expunge', async () => {
    throw errnoError('EIO', 'EIO: i/o error, unlink');
  });
  assert.match(await c.run('CLOSE'), /^T NO \[UNAVAILABLE\] /m);
  m.mock.mockImplementation(async () => {
    throw new Error('EACCES: permission denied, unlink');
  });
  assert.match(await c.run('CLOSE'), /^T NO \[SERVERBUG\] /m, 'no errno code: unexpected');
  m.mock.restore();
  assert.match(await c.run('NOOP'), /^T OK /m);
  assert.equal(h.logs().find((l) => l.msg === 'unexpected error in a command')?.command, 'CLOSE');
});
