// THREAD and UID THREAD (RFC 5256 §4, §5): ORDEREDSUBJECT and REFERENCES; REFS (draft-ietf-morg-inthread §5, Dovecot's THREAD=REFS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, failWith, errnoError } from '../../support/command-harness.js';
import { MemoryMailbox } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';
import { dropIdle, threadFactUse, threadInputOf } from '../../../src/imap/search/thread-facts.js';
import { MailboxView } from '../../../src/imap/tracker.js';

const msg = (id: string, subject: string, day: number, refs = '') =>
  `From: a@x\r\nMessage-ID: <${id}@x>\r\nSubject: ${subject}\r\nDate: ${day} Jan 2024 00:00:00 +0000\r\n${refs ? `References: <${refs}@x>\r\nIn-Reply-To: <${refs}@x>\r\n` : ''}\r\nbody\r\n`;

test('THREAD: state and argument errors; an unknown charset is NO [BADCHARSET] (RFC 5256 §3)', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('THREAD REFERENCES UTF-8 ALL'), /^T BAD THREAD is not allowed before login/m);
  const c = await h.session(null);
  assert.match(await c.run('THREAD REFERENCES UTF-8 ALL'), /^T BAD THREAD is not allowed without a selected mailbox/m);
  await c.run('SELECT INBOX');
  for (const bad of ['THREAD', 'THREAD REFERENCES', 'THREAD REFERENCES UTF-8', 'THREAD BOGUS UTF-8 ALL', 'THREAD (REFERENCES) UTF-8 ALL', 'THREAD REFERENCES UTF-8 BOGUS'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
  assert.match(await c.run('THREAD REFERENCES X-BOGUS ALL'), /^T NO \[BADCHARSET[ \]]/m);
});

test('THREAD answers one THREAD line of parenthesised threads; UID THREAD in UIDs; none is a bare "* THREAD" (RFC 5256 §4)', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('gone', 'gone', 1));
  await h.deliver(msg('a', 'hello', 2));
  await h.deliver(msg('b', 'other', 3));
  await h.deliver(msg('c', 'Re: hello', 4, 'a'));
  const c = await h.session();
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await c.run('EXPUNGE');
  // Now sequence numbers 1..3 are UIDs 2..4.
  assert.equal(await c.run('THREAD REFERENCES UTF-8 ALL'), '* THREAD (1 3)(2)\r\nT OK THREAD completed\r\n');
  assert.equal(await c.run('THREAD ORDEREDSUBJECT UTF-8 ALL'), '* THREAD (1 3)(2)\r\nT OK THREAD completed\r\n');
  assert.equal(await c.run('UID THREAD REFERENCES UTF-8 ALL'), '* THREAD (2 4)(3)\r\nT OK UID THREAD completed\r\n');
  assert.equal(await c.run('THREAD REFERENCES UTF-8 SUBJECT other'), '* THREAD (2)\r\nT OK THREAD completed\r\n');
  assert.equal(await c.run('THREAD REFERENCES UTF-8 SUBJECT durian'), '* THREAD\r\nT OK THREAD completed\r\n');
});

test('THREAD: a store failure is the NO of its kind, an unexpected one NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('a', 'x', 1));
  const c = await h.session();
  const fail = (err: Error) => failWith(t, MemoryMailbox.prototype, 'vsizeOf', err);
  fail(errnoError('EACCES', 'EACCES: permission denied, open'));
  assert.match(await c.run('THREAD REFERENCES UTF-8 LARGER 1'), /^T NO \[NOPERM\] /m);
  fail(new MailError('temporary', 'Folder locked'));
  assert.match(await c.run('UID THREAD ORDEREDSUBJECT UTF-8 LARGER 1'), /^T NO \[UNAVAILABLE\] Folder locked/m);
  fail(new TypeError('a bug'));
  assert.match(await c.run('THREAD REFERENCES UTF-8 LARGER 1'), /^T NO \[SERVERBUG\] /m);
  assert.match(await c.run('NOOP'), /^T OK /m);
});

test('THREAD=REFS: no threads merged by subject; threads ordered by their newest message, so a thread with a new reply goes last (draft-ietf-morg-inthread §5)', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('a', 'hello', 1));
  await h.deliver(msg('b', 'other', 2));
  await h.deliver(msg('c', 'Re: hello', 3)); // the subject says reply, the headers do not
  await h.deliver(msg('d', 'Re: hello', 5, 'a')); // a reply to the first thread, newest of all
  await h.deliver(msg('e', 'third', 4));
  const c = await h.session();
  assert.match(await c.run('CAPABILITY'), / THREAD=REFS\b/);
  assert.equal(await c.run('THREAD REFERENCES UTF-8 ALL'), '* THREAD (1 (3)(4))(2)(5)\r\nT OK THREAD completed\r\n', 'REFERENCES merges 3 by subject, sorts by first message');
  assert.equal(await c.run('THREAD REFS UTF-8 ALL'), '* THREAD (2)(3)(5)(1 4)\r\nT OK THREAD completed\r\n');
  assert.equal(await c.run('UID THREAD REFS UTF-8 NOT SUBJECT other'), '* THREAD (3)(5)(1 4)\r\nT OK UID THREAD completed\r\n');
  assert.match(await c.run('THREAD refs UTF-8 ALL'), /^\* THREAD \(2\)/m, 'the algorithm name in any case');
});

test('THREAD after deliveries and an expunge, in the same session and a new one, threads what the folder holds now (a folder keeps its messages\' thread facts between THREADs)', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('a', 'hello', 1));
  await h.deliver(msg('b', 'other', 2));
  const c1 = await h.session();
  // A subset first: the folder then knows only some messages' facts.
  assert.equal(await c1.run('THREAD REFERENCES UTF-8 SUBJECT hello'), '* THREAD (1)\r\nT OK THREAD completed\r\n');
  assert.equal(await c1.run('THREAD REFERENCES UTF-8 ALL'), '* THREAD (1)(2)\r\nT OK THREAD completed\r\n');
  await h.deliver(msg('c', 'Re: hello', 3, 'a'));
  await h.deliver(msg('d', 'new', 4));
  await c1.run('NOOP');
  assert.equal(await c1.run('THREAD REFERENCES UTF-8 ALL'), '* THREAD (1 3)(2)(4)\r\nT OK THREAD completed\r\n');
  await c1.run('STORE 2 +FLAGS.SILENT (\\Deleted)');
  await c1.run('EXPUNGE');
  assert.equal(await c1.run('THREAD REFERENCES UTF-8 ALL'), '* THREAD (1 2)(3)\r\nT OK THREAD completed\r\n');
  const c2 = await h.session();
  assert.equal(await c2.run('UID THREAD REFERENCES UTF-8 ALL'), '* THREAD (1 3)(4)\r\nT OK UID THREAD completed\r\n');
  assert.equal(await c2.run('THREAD ORDEREDSUBJECT UTF-8 ALL'), '* THREAD (1 2)(3)\r\nT OK THREAD completed\r\n');
});

test('a folder\'s thread facts leave memory at the sweep after no session has it open, or after a minute unused', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('a', 'hello', 1));
  await h.deliver(msg('b', 'Re: hello', 2, 'a'));
  dropIdle(Date.now() + 3_600_000); // what earlier tests left
  const c = await h.session();
  assert.equal(await c.run('THREAD REFERENCES UTF-8 ALL'), '* THREAD (1 2)\r\nT OK THREAD completed\r\n');
  const held = threadFactUse();
  assert.equal(held.folders, 1);
  assert.ok(held.bytes > 0);
  dropIdle();
  assert.equal(threadFactUse().folders, 1, 'kept while the session has the folder');
  dropIdle(Date.now() + 61_000);
  assert.deepEqual([threadFactUse().folders, threadFactUse().bytes], [0, 0], 'gone after a minute unused');
  assert.equal(await c.run('THREAD REFERENCES UTF-8 ALL'), '* THREAD (1 2)\r\nT OK THREAD completed\r\n', 'read again');
  assert.equal(threadFactUse().folders, 1);
  await c.run('LOGOUT');
  dropIdle();
  assert.deepEqual([threadFactUse().folders, threadFactUse().bytes], [0, 0], 'gone once no session has the folder');
});

test('a view whose folder was renumbered neither reads nor fills the folder\'s thread facts (its UIDs are of the old UIDVALIDITY)', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('a', 'hello', 1));
  await h.deliver(msg('b', 'Re: hello', 2, 'a'));
  dropIdle(Date.now() + 3_600_000);
  const box = await h.box();
  const view = await MailboxView.open(box, true);
  t.after(() => view.close());
  view.renumbered = true;
  const cands = box.all.map((meta, i) => ({ seq: i + 1, uid: meta.uid, meta }));
  const input = await threadInputOf(view, cands, true);
  assert.equal(input.freeze().count, 2, 'it still threads what it was given');
  assert.deepEqual([threadFactUse().folders, threadFactUse().bytes], [0, 0], 'the folder has no table from it');
  view.renumbered = false;
  await threadInputOf(view, cands, true);
  assert.equal(threadFactUse().folders, 1, 'a view in step fills it');
  dropIdle(Date.now() + 3_600_000);
});
