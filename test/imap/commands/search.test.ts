// SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8, §7.2.5), ESEARCH RETURN options (RFC 4731), MODSEQ (RFC 7162 §3.1.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Harness, failWith, errnoError } from '../../support/command-harness.js';
import { MemoryMailbox } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

const msg = (s: string) => `From: a@example.org\r\nSubject: ${s}\r\n\r\nbody of ${s}\r\n`;

/** Four messages, the first expunged: sequence numbers 1..3 are UIDs 2..4. */
async function mailbox(t: Parameters<typeof harness>[0]): Promise<Harness> {
  const h = await harness(t);
  for (const s of ['gone', 'apple pie', 'banana', 'apple tart']) await h.deliver(msg(s));
  const c = await h.session();
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await c.run('EXPUNGE');
  c.close();
  return h;
}

test('SEARCH: state and argument errors; an unknown charset is NO [BADCHARSET] (RFC 3501 §6.4.4)', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('SEARCH ALL'), /^T BAD SEARCH is not allowed before login/m);
  const c = await h.session(null);
  assert.match(await c.run('SEARCH ALL'), /^T BAD SEARCH is not allowed without a selected mailbox/m);
  assert.match(await c.run('UID SEARCH ALL'), /^T BAD SEARCH is not allowed without a selected mailbox/m);
  await c.run('SELECT INBOX');
  for (const bad of ['SEARCH', 'SEARCH BOGUS', 'SEARCH SUBJECT', 'SEARCH LARGER x', 'SEARCH (ALL', 'SEARCH RETURN ALL', 'SEARCH RETURN (BOGUS) ALL'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
  assert.match(await c.run('SEARCH CHARSET X-BOGUS ALL'), /^T NO \[BADCHARSET[ \]]/m);
});

test('SEARCH answers sequence numbers, UID SEARCH UIDs; no match is a bare "* SEARCH" (RFC 3501 §6.4.4, §7.2.5)', async (t) => {
  const h = await mailbox(t);
  const c = await h.session();
  assert.equal(await c.run('SEARCH SUBJECT apple'), '* SEARCH 1 3\r\nT OK SEARCH completed\r\n');
  assert.equal(await c.run('UID SEARCH SUBJECT apple'), '* SEARCH 2 4\r\nT OK UID SEARCH completed\r\n');
  assert.equal(await c.run('SEARCH BODY banana'), '* SEARCH 2\r\nT OK SEARCH completed\r\n');
  assert.equal(await c.run('SEARCH CHARSET UTF-8 SUBJECT apple'), '* SEARCH 1 3\r\nT OK SEARCH completed\r\n');
  assert.equal(await c.run('UID SEARCH UID 99:*'), '* SEARCH 4\r\nT OK UID SEARCH completed\r\n', 'n:* includes the last UID (§6.4.8)');
  assert.equal(await c.run('SEARCH SUBJECT cherry'), '* SEARCH\r\nT OK SEARCH completed\r\n');
  assert.equal(await c.run('SEARCH OR SUBJECT banana NOT SUBJECT apple UID 1:3'), '* SEARCH 2\r\nT OK SEARCH completed\r\n');
  const m = /^\* SEARCH 1 2 3 \(MODSEQ (\d+)\)\r$/m.exec(await c.run('SEARCH MODSEQ 1'));
  assert.ok(m, 'MODSEQ criterion: the highest modseq of what matched (RFC 7162 §3.1.5)');
});

test('SEARCH RETURN: one ESEARCH line with the tag, UID, MIN/MAX/ALL/COUNT (RFC 4731 §3.1, §3.2)', async (t) => {
  const h = await mailbox(t);
  const c = await h.session();
  assert.match(await c.run('SEARCH RETURN (MIN MAX COUNT) SUBJECT apple'), /^\* ESEARCH \(TAG "t\d+"\) MIN 1 MAX 3 COUNT 2\r\nT OK SEARCH completed\r\n$/);
  assert.match(await c.run('UID SEARCH RETURN (ALL) ALL'), /^\* ESEARCH \(TAG "t\d+"\) UID ALL 2:4\r\n/);
  assert.match(await c.run('SEARCH RETURN () SUBJECT apple'), /^\* ESEARCH \(TAG "t\d+"\) ALL 1,3\r\n/, 'RETURN () is RETURN (ALL)');
  assert.match(await c.run('SEARCH RETURN (MIN COUNT) SUBJECT cherry'), /^\* ESEARCH \(TAG "t\d+"\) COUNT 0\r\nT OK /, 'no MIN when nothing matched');
  assert.match(await c.run('SEARCH RETURN (MAX) SUBJECT cherry'), /^\* ESEARCH \(TAG "t\d+"\)\r\nT OK /);
});

test('SEARCH: a store failure is the NO of its kind, an unexpected one NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('x'));
  const c = await h.session();
  // LARGER asks the store for each message's size.
  const fail = (err: Error) => failWith(t, MemoryMailbox.prototype, 'vsizeOf', err);
  fail(errnoError('EIO', 'EIO: i/o error, read'));
  assert.match(await c.run('SEARCH LARGER 1'), /^T NO \[UNAVAILABLE\] /m);
  fail(new MailError('permission', 'Not yours'));
  assert.match(await c.run('UID SEARCH LARGER 1'), /^T NO \[NOPERM\] Not yours/m);
  fail(new TypeError('a bug'));
  assert.match(await c.run('SEARCH LARGER 1'), /^T NO \[SERVERBUG\] /m);
  assert.match(await c.run('NOOP'), /^T OK /m);
});

test('SEARCH FROM/TO/CC match the parsed address too: comments and folding whitespace do not hide it (RFC 3501 §6.4.4)', async (t) => {
  const h = await harness(t);
  await h.deliver('From: <user-from (comment)@ (comment) domain.org>\r\nTo: "Ann =?utf-8?q?B=C3=A9?=" <ann (x) @example.org>\r\nSubject: a\r\n\r\nbody\r\n');
  await h.deliver('From: other@domain.org\r\nSubject: b\r\n\r\nbody\r\n');
  const c = await h.session();
  assert.match(await c.run('SEARCH FROM user-from@domain.org'), /^\* SEARCH 1\r$/m);
  assert.match(await c.run('SEARCH FROM "(comment)"'), /^\* SEARCH 1\r$/m, 'the raw header text still matches');
  assert.match(await c.run('SEARCH TO "ann@example.org"'), /^\* SEARCH 1\r$/m);
  assert.match(await c.run('SEARCH TO "Bé <ann@"'), /^\* SEARCH 1\r$/m, 'the decoded display name with the address');
  assert.match(await c.run('SEARCH FROM domain.org'), /^\* SEARCH 1 2\r$/m);
  assert.match(await c.run('SEARCH SUBJECT a@domain.org'), /^\* SEARCH\r$/m, 'only address fields are parsed');
});

test('CONDSTORE: the first CONDSTORE-enabling command says HIGHESTMODSEQ; RETURN (MIN) or (MAX) gives that message\'s MODSEQ (RFC 7162 §3.1, §3.1.5; RFC 4731 §3.2)', async (t) => {
  const h = await harness(t);
  for (const s of ['a', 'b', 'c']) await h.deliver(`Subject: ${s}\r\n\r\nbody\r\n`);
  const c = await h.session();
  await c.run('STORE 1 +FLAGS.SILENT (\\Seen)'); // message 1 now has the highest modseq
  const first = await c.run('SEARCH RETURN (MIN) MODSEQ 1');
  const m = /^\* OK \[HIGHESTMODSEQ (\d+)\] [^\r]*\r\n\* ESEARCH \(TAG "[^"]+"\) MIN 1 MODSEQ (\d+)\r\n/.exec(first);
  assert.ok(m, first);
  const highest = Number(m[1]);
  assert.equal(Number(m[2]), highest, 'MIN is message 1, the one changed last');
  const max = /MAX 3 MODSEQ (\d+)\r/.exec(await c.run('SEARCH RETURN (MAX) MODSEQ 1'));
  assert.ok(max && Number(max[1]) < highest, "MAX: message 3's own modseq, not the highest of all");
  assert.match(await c.run('SEARCH RETURN (MIN MAX) MODSEQ 1'), new RegExp(`MIN 1 MAX 3 MODSEQ ${highest}\\r`));
  assert.match(await c.run('SEARCH RETURN (COUNT) MODSEQ 1'), new RegExp(`COUNT 3 MODSEQ ${highest}\\r`));
  assert.doesNotMatch(await c.run('SEARCH MODSEQ 1'), /HIGHESTMODSEQ/, 'said once');
  const f = await h.session();
  assert.match(await f.run('FETCH 1 MODSEQ'), /^\* OK \[HIGHESTMODSEQ \d+\] [^\r]*\r\n\* 1 FETCH \(MODSEQ \(\d+\)\)\r\nT OK /, 'FETCH MODSEQ enables it too');
  assert.doesNotMatch(await f.run('FETCH 1 MODSEQ'), /HIGHESTMODSEQ/);
  const e = await h.session();
  assert.match(await e.run('ENABLE CONDSTORE'), /^\* OK \[HIGHESTMODSEQ \d+\] [^\r]*\r\n\* ENABLED CONDSTORE\r\n/, 'ENABLE with a folder selected');
  const n = await h.session(null);
  assert.equal(await n.run('ENABLE CONDSTORE'), '* ENABLED CONDSTORE\r\nT OK ENABLE completed\r\n', 'nothing selected: nothing to say');
});

test('WITHIN: OLDER and YOUNGER compare INTERNALDATE with now, in seconds (RFC 5032 §3)', async (t) => {
  const h = await harness(t);
  const box = await h.box();
  const hour = 3600 * 1000;
  box.add('Subject: old\r\n\r\nx\r\n', [], new Date(Date.now() - 48 * hour));
  box.add('Subject: recent\r\n\r\nx\r\n', [], new Date(Date.now() - 2 * hour));
  box.add('Subject: now\r\n\r\nx\r\n');
  const c = await h.session();
  assert.match(await c.run('CAPABILITY'), /\bWITHIN\b/);
  assert.match(await c.run('SEARCH YOUNGER 86400'), /^\* SEARCH 2 3\r$/m, 'within a day');
  assert.match(await c.run('SEARCH OLDER 86400'), /^\* SEARCH 1\r$/m);
  assert.match(await c.run('SEARCH OLDER 3600 YOUNGER 86400'), /^\* SEARCH 2\r$/m);
  assert.match(await c.run('UID SEARCH NOT OLDER 60'), /^\* SEARCH 3\r$/m);
  for (const bad of ['SEARCH OLDER', 'SEARCH OLDER 0', 'SEARCH YOUNGER -5', 'SEARCH YOUNGER x']) assert.match(await c.run(bad), /^T BAD /m, bad);
});

test('SEARCH MODSEQ over 150,000 matches answers (no argument spread that overflows the stack)', async (t) => {
  const h = await harness(t);
  const box = await h.box();
  for (let i = 0; i < 150_000; i++) box.add('Subject: s\r\n\r\nb\r\n');
  const c = await h.session();
  assert.match(await c.run('SEARCH RETURN (COUNT) MODSEQ 1'), /^\* ESEARCH \(TAG "[^"]+"\) COUNT 150000 MODSEQ \d+\r$/m);
});
