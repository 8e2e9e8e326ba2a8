// STATUS (RFC 3501 §6.3.10), with APPENDLIMIT (RFC 7889) and HIGHESTMODSEQ (RFC 7162 §3.1.6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, failWith, errnoError } from '../../support/command-harness.js';
import { MemoryUser } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

test('STATUS: state and argument errors', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('STATUS INBOX (MESSAGES)'), /^T BAD STATUS is not allowed before login/m);
  const c = await h.session(null);
  assert.match(await c.run('STATUS'), /^T BAD /m);
  assert.match(await c.run('STATUS INBOX'), /^T BAD /m, 'no item list');
  assert.match(await c.run('STATUS INBOX MESSAGES'), /^T BAD /m, 'items not parenthesised');
  assert.match(await c.run('STATUS INBOX (BOGUS)'), /^T BAD /m);
  assert.match(await c.run('STATUS INBOX (MESSAGES) extra'), /^T BAD /m);
});

test('STATUS answers one untagged STATUS line with the items asked for, in order (RFC 3501 §6.3.10, §7.2.4)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: a\r\n\r\nunseen\r\n');
  (await h.box()).add('Subject: b\r\n\r\nseen\r\n', ['\\Seen'], null, false);
  await h.mkfolder('My Stuff');
  const c = await h.session(null);
  // A message no session has seen is \Recent; one an earlier session saw is not.
  const out = await c.run('STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)');
  assert.match(out, /^\* STATUS INBOX \(MESSAGES 2 RECENT 1 UIDNEXT 3 UIDVALIDITY [1-9]\d* UNSEEN 1\)\r\nT OK STATUS completed\r\n$/);
  assert.match(await c.run('STATUS inbox (UNSEEN MESSAGES)'), /^\* STATUS INBOX \(UNSEEN 1 MESSAGES 2\)\r$/m, 'INBOX is case-insensitive');
  assert.match(await c.run('STATUS "My Stuff" (MESSAGES)'), /^\* STATUS "My Stuff" \(MESSAGES 0\)\r$/m);
  const caps = await c.run('CAPABILITY');
  const limit = /APPENDLIMIT=(\d+)/.exec(caps)![1];
  assert.match(await c.run('STATUS INBOX (APPENDLIMIT HIGHESTMODSEQ)'), new RegExp(`^\\* STATUS INBOX \\(APPENDLIMIT ${limit} HIGHESTMODSEQ [1-9]\\d*\\)\\r$`, 'm'));
  assert.match(await c.run('STATUS Nope (MESSAGES)'), /^T NO \[NONEXISTENT\] /m);
});

test('STATUS: a store failure is the NO of its kind, an unexpected one NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  failWith(t, MemoryUser.prototype, 'mailbox', errnoError('EACCES', 'EACCES: permission denied, scandir'));
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /^T NO \[NOPERM\] /m);
  failWith(t, MemoryUser.prototype, 'mailbox', new MailError('temporary', 'Folder locked'));
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /^T NO \[UNAVAILABLE\] Folder locked/m);
  failWith(t, MemoryUser.prototype, 'mailbox', new TypeError('a bug'));
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /^T NO \[SERVERBUG\] /m);
  assert.match(await c.run('NOOP'), /^T OK /m);
});
