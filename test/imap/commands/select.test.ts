// SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2), with CONDSTORE and QRESYNC parameters (RFC 7162 §3.1.8, §3.2.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, failWith, errnoError } from '../../support/command-harness.js';
import { MemoryUser } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

const msg = (s: string) => `From: a@example.org\r\nSubject: ${s}\r\n\r\nbody\r\n`;

test('SELECT/EXAMINE: state and argument errors', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('SELECT INBOX'), /^T BAD SELECT is not allowed before login/m);
  assert.match(await pre.run('EXAMINE INBOX'), /^T BAD EXAMINE is not allowed before login/m);
  const c = await h.session(null);
  assert.match(await c.run('SELECT'), /^T BAD /m);
  assert.match(await c.run('SELECT INBOX extra'), /^T BAD /m);
  assert.match(await c.run('SELECT INBOX (BOGUS)'), /^T BAD /m);
  assert.match(await c.run('SELECT INBOX (QRESYNC (1 1))'), /^T BAD /m, 'QRESYNC parameter before ENABLE QRESYNC (RFC 7162 §3.2.5)');
  await c.run('ENABLE QRESYNC');
  assert.match(await c.run('SELECT INBOX (QRESYNC (0 1))'), /^T BAD /m, 'uidvalidity 0');
  assert.match(await c.run('SELECT INBOX (QRESYNC (1))'), /^T BAD /m, 'no modseq');
});

test('SELECT writes FLAGS, PERMANENTFLAGS, EXISTS, RECENT, UNSEEN, UIDVALIDITY, UIDNEXT, MAILBOXID, then OK [READ-WRITE] (RFC 3501 §6.3.1, RFC 8474 §4.1)', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('one'));
  await h.deliver(msg('two'));
  const c = await h.session(null);
  const out = await c.run('SELECT INBOX');
  assert.match(
    out,
    /^\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft\)\r\n\* OK \[PERMANENTFLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\\*\)\] [^\r]*\r\n\* 2 EXISTS\r\n\* 2 RECENT\r\n\* OK \[UNSEEN 1\] [^\r]*\r\n\* OK \[UIDVALIDITY [1-9]\d*\] [^\r]*\r\n\* OK \[UIDNEXT 3\] [^\r]*\r\n\* OK \[MAILBOXID \([0-9a-f]+\)\] [^\r]*\r\nT OK \[READ-WRITE\] [^\r]*\r\n$/,
  );
  assert.match(await c.run('SELECT Nope'), /^T NO \[NONEXISTENT\] /m);
  assert.match(await c.run('FETCH 1 FLAGS'), /^T BAD /m, 'a failed SELECT leaves no mailbox selected (§6.3.1)');
});

test('EXAMINE is read-only: OK [READ-ONLY], no permanent flags, STORE refused (RFC 3501 §6.3.2)', async (t) => {
  const h = await harness(t);
  await h.deliver(msg('one'));
  const c = await h.session(null);
  const out = await c.run('EXAMINE INBOX');
  assert.match(out, /^\* OK \[PERMANENTFLAGS \(\)\] /m);
  assert.match(out, /^\* 1 EXISTS\r$/m);
  assert.match(out, /^T OK \[READ-ONLY\] /m);
  assert.match(await c.run('STORE 1 +FLAGS (\\Seen)'), /^T NO /m);
});

test('SELECT (CONDSTORE) adds HIGHESTMODSEQ; QRESYNC reports what changed since (RFC 7162 §3.1.8, §3.2.5.1)', async (t) => {
  const h = await harness(t);
  for (const s of ['one', 'two', 'three']) await h.deliver(msg(s));
  const a = await h.session(null);
  assert.doesNotMatch(await a.run('SELECT INBOX'), /HIGHESTMODSEQ/, 'not before CONDSTORE is enabled');
  const sel = await a.run('SELECT INBOX (CONDSTORE)');
  const modseq = Number(/^\* OK \[HIGHESTMODSEQ (\d+)\] /m.exec(sel)![1]);
  const validity = /UIDVALIDITY (\d+)/.exec(sel)![1];
  await a.run('STORE 1 +FLAGS.SILENT (\\Flagged)');
  await a.run('STORE 2 +FLAGS.SILENT (\\Deleted)');
  await a.run('EXPUNGE');
  const b = await h.session(null);
  await b.run('ENABLE QRESYNC');
  const out = await b.run(`SELECT INBOX (QRESYNC (${validity} ${modseq}))`);
  assert.match(out, /^\* VANISHED \(EARLIER\) 2\r$/m);
  assert.match(out, /^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)\r$/m);
  assert.doesNotMatch(out, /FETCH \(UID 3 /, 'unchanged since the modseq');
  assert.match(out, /^T OK \[READ-WRITE\] /m);
  const stale = await b.run(`SELECT INBOX (QRESYNC (${Number(validity) + 1} ${modseq}))`);
  assert.doesNotMatch(stale, /VANISHED|FETCH/, 'another UIDVALIDITY: no resync (§3.2.5.2)');
});

test('SELECT of another mailbox with QRESYNC enabled first sends OK [CLOSED] (RFC 7162 §3.2.11)', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Work');
  const c = await h.session(null);
  await c.run('ENABLE QRESYNC');
  assert.doesNotMatch(await c.run('SELECT INBOX'), /\[CLOSED\]/, 'nothing was selected before');
  assert.match(await c.run('SELECT Work'), /^\* OK \[CLOSED\][^\r]*\r\n\* FLAGS /m);
});

test('SELECT: a store failure is the NO of its kind, an unexpected one NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  failWith(t, MemoryUser.prototype, 'mailbox', errnoError('EACCES', 'EACCES: permission denied, open'));
  assert.match(await c.run('SELECT INBOX'), /^T NO \[NOPERM\] /m);
  failWith(t, MemoryUser.prototype, 'mailbox', new MailError('temporary', 'Folder locked'));
  assert.match(await c.run('EXAMINE INBOX'), /^T NO \[UNAVAILABLE\] Folder locked/m);
  failWith(t, MemoryUser.prototype, 'mailbox', new TypeError('a bug'));
  assert.match(await c.run('SELECT INBOX'), /^T NO \[SERVERBUG\] /m);
  assert.match(await c.run('NOOP'), /^T OK /m);
});

test("SELECT a name with '[' in it is an atom like any other: NO for a folder that is not there, not BAD (RFC 3501 §9)", async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const odd = "!#$&'+,-.0123456789:;<=>?@^_`|[}";
  assert.match(await c.run(`SELECT ${odd}`), /^T NO /m);
  assert.match(await c.run('SELECT a[b'), /^T NO \[NONEXISTENT\] /m);
  await h.mkfolder('a[b');
  assert.match(await c.run('SELECT a[b'), /^T OK \[READ-WRITE\] /m);
});
