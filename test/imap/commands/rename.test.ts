// RENAME (RFC 3501 §6.3.5): children move along; RENAME INBOX moves its messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, failWith, errnoError } from '../../support/command-harness.js';
import { MemoryUser } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

test('RENAME: state and argument errors', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('RENAME a b'), /^T BAD RENAME is not allowed before login/m);
  const c = await h.session(null);
  assert.match(await c.run('RENAME'), /^T BAD /m);
  assert.match(await c.run('RENAME a'), /^T BAD /m);
  assert.match(await c.run('RENAME a b c'), /^T BAD /m);
  assert.match(await c.run('RENAME (a) b'), /^T BAD /m);
});

test('RENAME moves a folder with its children; the names it refuses (RFC 3501 §6.3.5)', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Work');
  await h.mkfolder('Work.Sub');
  await h.mkfolder('Other');
  const c = await h.session(null);
  assert.equal(await c.run('RENAME Work Play'), 'T OK RENAME completed\r\n');
  const list = await c.run('LIST "" *');
  assert.match(list, /^\* LIST \(\\HasChildren\) "\." Play\r$/m);
  assert.match(list, /^\* LIST \(\\HasNoChildren\) "\." Play\.Sub\r$/m);
  assert.doesNotMatch(list, /Work/);
  assert.match(await c.run('RENAME Work X'), /^T NO \[NONEXISTENT\] /m);
  assert.match(await c.run('RENAME Play Other'), /^T NO \[ALREADYEXISTS\] /m);
  assert.match(await c.run('RENAME Play INBOX'), /^T NO \[ALREADYEXISTS\] /m);
  assert.match(await c.run('RENAME Play Play.Sub.Deeper'), /^T NO \[CANNOT\] /m);
  assert.match(await c.run('RENAME Play "a..b"'), /^T NO \[CANNOT\] /m);
});

test('RENAME INBOX moves its messages to the new folder and leaves INBOX empty (RFC 3501 §6.3.5)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: x\r\n\r\nbody\r\n');
  const c = await h.session(null);
  assert.equal(await c.run('RENAME INBOX Old'), 'T OK RENAME completed\r\n');
  assert.match(await c.run('STATUS Old (MESSAGES)'), /^\* STATUS Old \(MESSAGES 1\)\r$/m);
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /^\* STATUS INBOX \(MESSAGES 0\)\r$/m);
});

test('RENAME: a store failure is the NO of its kind, an unexpected one NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Work');
  const c = await h.session(null);
  failWith(t, MemoryUser.prototype, 'rename', errnoError('ENOSPC', 'ENOSPC: no space left on device, rename'));
  assert.match(await c.run('RENAME Work A'), /^T NO \[OVERQUOTA\] /m);
  failWith(t, MemoryUser.prototype, 'rename', new MailError('permission', 'Not yours'));
  assert.match(await c.run('RENAME Work B'), /^T NO \[NOPERM\] Not yours/m);
  failWith(t, MemoryUser.prototype, 'rename', new TypeError('a bug'));
  assert.match(await c.run('RENAME Work C'), /^T NO \[SERVERBUG\] /m);
  assert.match(await c.run('NOOP'), /^T OK /m);
  const bug = h.logs().find((l) => l.msg === 'unexpected error in a command');
  assert.equal(bug?.command, 'RENAME');
});
