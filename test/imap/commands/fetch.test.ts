// FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8), with CHANGEDSINCE and VANISHED (RFC 7162 §3.1.4, §3.2.6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, failWith, errnoError } from '../../support/command-harness.js';
import { MemoryMailbox } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

const MSG = 'From: a@example.org\r\nSubject: hello\r\n\r\nbody\r\n';

test('FETCH: state and argument errors', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  const pre = await h.connect();
  assert.match(await pre.run('FETCH 1 FLAGS'), /^T BAD FETCH is not allowed before login/m);
  const c = await h.session(null);
  assert.match(await c.run('FETCH 1 FLAGS'), /^T BAD FETCH is not allowed without a selected mailbox/m);
  assert.match(await c.run('UID FETCH 1 FLAGS'), /^T BAD FETCH is not allowed without a selected mailbox/m);
  await c.run('SELECT INBOX');
  for (const bad of ['FETCH', 'FETCH 1', 'FETCH x FLAGS', 'FETCH 1 (BOGUS)', 'FETCH 1 BODY[BOGUS]', 'FETCH 1 FLAGS extra', 'FETCH 1 FLAGS (CHANGEDSINCE x)', 'UID FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
});

test('FETCH answers the items asked for; UID FETCH adds UID (RFC 3501 §6.4.5, §6.4.8, §7.4.2)', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  const c = await h.session();
  assert.equal(await c.run('FETCH 1 (FLAGS UID RFC822.SIZE)'), `* 1 FETCH (FLAGS (\\Recent) UID 1 RFC822.SIZE ${MSG.length})\r\nT OK FETCH completed\r\n`);
  assert.equal(
    await c.run('FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]'),
    '* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: hello\r\n\r\n)\r\nT OK FETCH completed\r\n',
  );
  assert.equal(await c.run('UID FETCH 1 FLAGS'), '* 1 FETCH (UID 1 FLAGS (\\Recent))\r\nT OK UID FETCH completed\r\n');
  assert.equal(await c.run('UID FETCH 99:* FLAGS'), '* 1 FETCH (UID 1 FLAGS (\\Recent))\r\nT OK UID FETCH completed\r\n', 'n:* includes the last UID (§6.4.8)');
  assert.match(await c.run('FETCH 1 FAST'), /^\* 1 FETCH \(FLAGS \(\\Recent\) INTERNALDATE "[ \d]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}" RFC822\.SIZE \d+\)\r$/m, 'FAST is FLAGS INTERNALDATE RFC822.SIZE');
  assert.equal(await c.run('UID FETCH 99 FLAGS'), 'T OK UID FETCH completed\r\n', 'a UID that does not exist is no error (§6.4.8)');
  assert.equal(await c.run('FETCH 1 BODY[TEXT]'), '* 1 FETCH (BODY[TEXT] {6}\r\nbody\r\n FLAGS (\\Seen \\Recent))\r\nT OK FETCH completed\r\n', 'BODY[] sets \\Seen and says so');
  assert.equal(await c.run('FETCH 1 BODY[]<0.4>'), '* 1 FETCH (BODY[]<0> {4}\r\nFrom)\r\nT OK FETCH completed\r\n', '\\Seen already: no FLAGS');
  const ex = await h.session(null);
  await h.deliver(MSG);
  await ex.run('EXAMINE INBOX');
  await ex.run('FETCH 2 BODY[TEXT]');
  assert.match(await ex.run('FETCH 2 FLAGS'), /^\* 2 FETCH \(FLAGS \(\)\)\r$/m, 'EXAMINE: BODY[] does not set \\Seen');
});

test('FETCH (CHANGEDSINCE) adds MODSEQ and skips unchanged messages; VANISHED (EARLIER) with QRESYNC (RFC 7162 §3.1.4.1, §3.2.6)', async (t) => {
  const h = await harness(t);
  for (let i = 0; i < 3; i++) await h.deliver(MSG);
  const c = await h.session(null);
  await c.run('ENABLE QRESYNC');
  const sel = await c.run('SELECT INBOX');
  const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(sel)![1]);
  await c.run('STORE 2 +FLAGS.SILENT (\\Flagged)');
  await c.run('STORE 3 +FLAGS.SILENT (\\Deleted)');
  await c.run('EXPUNGE');
  const out = await c.run(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq})`);
  assert.match(out, /^\* 2 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)\r\nT OK FETCH completed\r\n$/);
  const v = await c.run(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
  assert.match(v, /^\* VANISHED \(EARLIER\) 3\r\n\* 2 FETCH \(UID 2 FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)\r\nT OK /);
});

test('FETCH: a store failure is the NO of its kind, a vanished file EXPUNGEISSUED, an unexpected one NO [SERVERBUG]', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  const c = await h.session();
  // INTERNALDATE with a body part: the general path, which asks the store for the date.
  const fail = (err: Error) => failWith(t, MemoryMailbox.prototype, 'internalDate', err);
  fail(errnoError('EACCES', 'EACCES: permission denied, stat'));
  assert.match(await c.run('FETCH 1 (INTERNALDATE BODY.PEEK[1])'), /^T NO \[NOPERM\] /m);
  fail(new MailError('temporary', 'Folder locked'));
  assert.match(await c.run('FETCH 1 (INTERNALDATE BODY.PEEK[1])'), /^T NO \[UNAVAILABLE\] Folder locked/m);
  fail(errnoError('ENOENT', 'ENOENT: no such file'));
  assert.match(await c.run('FETCH 1 (INTERNALDATE BODY.PEEK[1])'), /^T NO \[EXPUNGEISSUED\] /m);
  fail(new TypeError('a bug'));
  assert.match(await c.run('FETCH 1 (INTERNALDATE BODY.PEEK[1])'), /^T NO \[SERVERBUG\] /m);
  assert.match(await c.run('NOOP'), /^T OK /m);
});

test('FETCH: an unreadable message is a NO of its kind once the others are answered, on the fast and the general path', async (t) => {
  const h = await harness(t);
  for (let i = 1; i <= 3; i++) await h.deliver(`Subject: m${i}\r\n\r\nbody ${i}\r\n`);
  (await h.box()).unreadable(2, errnoError('EACCES', 'EACCES: permission denied, open'));
  const c = await h.session();
  for (const items of ['(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])', '(UID BODY.PEEK[1])']) {
    const out = await c.run(`FETCH 1:3 ${items}`);
    assert.match(out, /^\* 1 FETCH \(UID 1 /m, items);
    assert.match(out, /^\* 3 FETCH \(UID 3 /m, items);
    assert.doesNotMatch(out, /^\* 2 FETCH/m, items);
    assert.match(out, /^T NO \[NOPERM\] /m, items);
  }
  assert.match(await c.run('FETCH 2 (UID FLAGS)'), /^\* 2 FETCH \(UID 2 FLAGS \(\\Recent\)\)\r\nT OK /, 'what needs no content is still answered');
});

test('FETCH of a message another session expunged meanwhile: the others are answered, then NO [EXPUNGEISSUED], the same with or without data from the store', async (t) => {
  const h = await harness(t);
  for (let i = 0; i < 3; i++) await h.deliver(MSG);
  const a = await h.session();
  const b = await h.session();
  await b.run('STORE 2 +FLAGS.SILENT (\\Deleted)');
  await b.run('EXPUNGE');
  // FLAGS alone is answered from the session's view; RFC822.SIZE goes through the store's batches.
  for (const items of ['(UID FLAGS)', '(UID FLAGS RFC822.SIZE)']) {
    const out = await a.run(`FETCH 1:3 ${items}`);
    assert.match(out, /^\* 1 FETCH \(UID 1 FLAGS /m, items);
    assert.match(out, /^\* 3 FETCH \(UID 3 FLAGS /m, items);
    assert.doesNotMatch(out, /UID 2 /, items);
    assert.match(out, /^T NO \[EXPUNGEISSUED\] /m, items);
  }
});
