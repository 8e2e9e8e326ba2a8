// SORT and UID SORT (RFC 5256 §3, §4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, failWith, errnoError } from '../../support/command-harness.js';
import { MemoryMailbox } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

const msg = (subject: string, from: string, date: string) => `From: ${from}\r\nSubject: ${subject}\r\nDate: ${date}\r\n\r\nbody\r\n`;

test('SORT: state and argument errors; an unknown charset is NO [BADCHARSET] (RFC 5256 §3)', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('SORT (SUBJECT) UTF-8 ALL'), /^T BAD SORT is not allowed before login/m);
  const c = await h.session(null);
  assert.match(await c.run('SORT (SUBJECT) UTF-8 ALL'), /^T BAD SORT is not allowed without a selected mailbox/m);
  await c.run('SELECT INBOX');
  for (const bad of ['SORT', 'SORT (SUBJECT)', 'SORT (SUBJECT) UTF-8', 'SORT SUBJECT UTF-8 ALL', 'SORT () UTF-8 ALL', 'SORT (BOGUS) UTF-8 ALL', 'SORT (REVERSE) UTF-8 ALL', 'SORT (SUBJECT) UTF-8 BOGUS'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
  assert.match(await c.run('SORT (SUBJECT) X-BOGUS ALL'), /^T NO \[BADCHARSET[ \]]/m);
});

test('SORT orders by base subject, sender, date, REVERSE; UID SORT answers UIDs; no match is a bare "* SORT" (RFC 5256 §3, §4)', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('gone', 'z@x', 'Mon, 1 Jan 2024 00:00:00 +0000'));
  await h.deliver(msg('Re: banana', 'carol@x', 'Wed, 3 Jan 2024 00:00:00 +0000'));
  await h.deliver(msg('apple', 'bob@x', 'Tue, 2 Jan 2024 00:00:00 +0000'));
  await h.deliver(msg('[list] Cherry', 'alice@x', 'Thu, 4 Jan 2024 00:00:00 +0000'));
  const c = await h.session();
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await c.run('EXPUNGE');
  // Now sequence numbers 1..3 are UIDs 2..4.
  assert.equal(await c.run('SORT (SUBJECT) UTF-8 ALL'), '* SORT 2 1 3\r\nT OK SORT completed\r\n', '"Re:" and "[list]" are not part of the base subject');
  assert.equal(await c.run('SORT (REVERSE SUBJECT) UTF-8 ALL'), '* SORT 3 1 2\r\nT OK SORT completed\r\n');
  assert.equal(await c.run('SORT (FROM) UTF-8 ALL'), '* SORT 3 2 1\r\nT OK SORT completed\r\n');
  assert.equal(await c.run('SORT (DATE) US-ASCII ALL'), '* SORT 2 1 3\r\nT OK SORT completed\r\n');
  assert.equal(await c.run('UID SORT (SUBJECT) UTF-8 ALL'), '* SORT 3 2 4\r\nT OK UID SORT completed\r\n');
  assert.equal(await c.run('SORT (SUBJECT) UTF-8 SUBJECT apple'), '* SORT 2\r\nT OK SORT completed\r\n');
  assert.equal(await c.run('SORT (SUBJECT) UTF-8 SUBJECT durian'), '* SORT\r\nT OK SORT completed\r\n');
});

test('SORT: a store failure is the NO of its kind, an unexpected one NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('x', 'a@x', 'Mon, 1 Jan 2024 00:00:00 +0000'));
  const c = await h.session();
  const fail = (err: Error) => failWith(t, MemoryMailbox.prototype, 'vsizeOf', err);
  fail(errnoError('EMFILE', 'EMFILE: too many open files'));
  assert.match(await c.run('SORT (SUBJECT) UTF-8 LARGER 1'), /^T NO \[UNAVAILABLE\] /m);
  fail(new MailError('permission', 'Not yours'));
  assert.match(await c.run('UID SORT (SUBJECT) UTF-8 LARGER 1'), /^T NO \[NOPERM\] Not yours/m);
  fail(new TypeError('a bug'));
  assert.match(await c.run('SORT (SUBJECT) UTF-8 LARGER 1'), /^T NO \[SERVERBUG\] /m);
  assert.match(await c.run('NOOP'), /^T OK /m);
});

/** The four messages of the Dovecot comparison: a bare address, a display name, an encoded one, no From. */
async function displayCorpus(t: Parameters<typeof harness>[0]) {
  const h = await harness(t);
  await h.deliver('From: beta@aaa\r\nTo: x@y\r\nSubject: 1\r\n\r\nhi\r\n');
  await h.deliver('From: "Beta Z" <q@q>\r\nTo: "" <w@w>\r\nSubject: 2\r\n\r\nhi\r\n');
  await h.deliver('From: =?utf-8?q?Al?= <z@z>\r\nSubject: 3\r\n\r\nhi\r\n');
  await h.deliver('Subject: 4\r\n\r\nhi\r\n');
  return h;
}

test('SORT=DISPLAY: DISPLAYFROM/DISPLAYTO sort by the display name, else the addr-spec (RFC 5957 §3; the orders Dovecot 2.3 gives)', async (t) => {
  const h = await displayCorpus(t);
  const c = await h.session();
  assert.match(await c.run('CAPABILITY'), /\bSORT=DISPLAY\b/);
  // "" < "AL" < "BETA Z" < "BETA@AAA": the bare address sorts by its addr-spec, not its local part.
  assert.match(await c.run('SORT (DISPLAYFROM) UTF-8 ALL'), /^\* SORT 4 3 2 1\r$/m);
  // No To and an empty display name ("" <w@w>) fall back to "" and "w@w".
  assert.match(await c.run('SORT (DISPLAYTO) UTF-8 ALL'), /^\* SORT 3 4 2 1\r$/m);
  assert.match(await c.run('SORT (FROM) UTF-8 ALL'), /^\* SORT 4 1 2 3\r$/m, 'FROM still sorts by the mailbox');
  assert.match(await c.run('SORT (REVERSE DISPLAYFROM) UTF-8 ALL'), /^\* SORT 1 2 3 4\r$/m);
});

test('ESORT: SORT RETURN (MIN MAX COUNT ALL) answers ESEARCH in sort order (RFC 5267 §3.2; as Dovecot 2.3 answers)', async (t) => {
  const h = await displayCorpus(t);
  const c = await h.session();
  assert.match(await c.run('CAPABILITY'), /\bESORT\b/);
  assert.match(await c.run('SORT RETURN (MIN MAX COUNT) (DISPLAYFROM) UTF-8 ALL'), /^\* ESEARCH \(TAG "[^"]+"\) MIN 4 MAX 1 COUNT 4\r$/m, 'MIN and MAX: first and last in sort order');
  assert.match(await c.run('SORT RETURN (ALL) (DISPLAYFROM) UTF-8 ALL'), /^\* ESEARCH \(TAG "[^"]+"\) ALL 4,3,2,1\r$/m);
  assert.match(await c.run('UID SORT RETURN () (DISPLAYFROM) UTF-8 ALL'), /^\* ESEARCH \(TAG "[^"]+"\) UID ALL 4,3,2,1\r$/m, 'RETURN () is ALL');
  assert.match(await c.run('SORT RETURN (ALL) (ARRIVAL) UTF-8 ALL'), /^\* ESEARCH \(TAG "[^"]+"\) ALL 1:4\r$/m, 'ascending runs compressed');
  assert.match(await c.run('SORT RETURN (COUNT) (ARRIVAL) UTF-8 SUBJECT nomatch'), /^\* ESEARCH \(TAG "[^"]+"\) COUNT 0\r$/m);
  assert.match(await c.run('SORT RETURN (MIN MAX ALL) (ARRIVAL) UTF-8 SUBJECT nomatch'), /^\* ESEARCH \(TAG "[^"]+"\)\r$/m);
  for (const bad of ['SORT RETURN (BOGUS) (ARRIVAL) UTF-8 ALL', 'SORT RETURN ARRIVAL UTF-8 ALL', 'SORT RETURN'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
});
