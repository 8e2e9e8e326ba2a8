// UNSELECT (RFC 3691 §2): leave the selected mailbox without expunging it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

test('UNSELECT: state and argument errors (RFC 3691 §2)', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('UNSELECT'), /^T BAD UNSELECT is not allowed before login/m);
  const c = await h.session(null);
  assert.match(await c.run('UNSELECT'), /^T BAD UNSELECT is not allowed without a selected mailbox/m);
  await c.run('SELECT INBOX');
  assert.match(await c.run('UNSELECT INBOX'), /^T BAD /m);
  assert.match(await c.run('CHECK'), /^T OK /m, 'a BAD UNSELECT leaves the mailbox selected');
});

test('UNSELECT returns to the authenticated state and expunges nothing (RFC 3691 §2)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: x\r\n\r\nbody\r\n');
  const c = await h.session();
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  assert.equal(await c.run('UNSELECT'), 'T OK UNSELECT completed\r\n', 'no untagged EXPUNGE');
  assert.match(await c.run('FETCH 1 FLAGS'), /^T BAD FETCH is not allowed without a selected mailbox/m);
  const again = await c.run('SELECT INBOX');
  assert.match(again, /^\* 1 EXISTS\r$/m, 'the \\Deleted message is still there');
  assert.match(await c.run('FETCH 1 FLAGS'), /^\* 1 FETCH \(FLAGS \(\\Deleted\)\)\r$/m);
});
