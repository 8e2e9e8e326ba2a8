// NOOP (RFC 3501 §6.1.2): nothing to do but report what changed in the selected mailbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

const msg = (s: string) => `From: a@example.org\r\nSubject: ${s}\r\n\r\nbody\r\n`;

test('NOOP is allowed in every state and completes with OK (RFC 3501 §6.1.2)', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.equal(await pre.run('NOOP'), 'T OK NOOP completed\r\n');
  const c = await h.session(null);
  assert.equal(await c.run('NOOP'), 'T OK NOOP completed\r\n');
});

test('NOOP with an argument is BAD: RFC 3501 §6.1.2 "Arguments: none"', async (t) => {
  const h = await harness(t);
  const c = await h.session();
  assert.match(await c.run('NOOP extra'), /^T BAD /m);
});

test('NOOP reports flag changes and expunges made by another session (RFC 3501 §6.1.2, §7.4.1)', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('one'));
  await h.deliver(msg('two'));
  const a = await h.session();
  const b = await h.session();
  assert.equal(await a.run('NOOP'), 'T OK NOOP completed\r\n', 'nothing pending yet');
  await b.run('STORE 2 +FLAGS.SILENT (\\Flagged)');
  assert.match(await a.run('NOOP'), /^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged \\Recent\)\)\r\nT OK NOOP completed\r\n$/);
  await b.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await b.run('EXPUNGE');
  const out = await a.run('NOOP');
  assert.match(out, /^\* 1 EXPUNGE\r$/m);
  assert.match(out, /T OK NOOP completed\r\n$/);
  assert.match(await a.run('FETCH 1 UID'), /^\* 1 FETCH \(UID 2\)\r$/m, 'sequence numbers moved down after the EXPUNGE');
});

test('NOOP reports a message delivered meanwhile as EXISTS and RECENT (RFC 3501 §7.3.1, §7.3.2)', async (t) => {
  const h = await harness(t);
  const c = await h.session();
  await h.deliver(msg('new'));
  let out = '';
  const deadline = Date.now() + 5000;
  while (!/^\* 1 EXISTS\r$/m.test(out) && Date.now() < deadline) {
    out += await c.run('NOOP');
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.match(out, /^\* 1 EXISTS\r$/m);
  assert.match(out, /^\* 1 RECENT\r$/m);
});
