// STORE and UID STORE (RFC 3501 §6.4.6, §6.4.8), with UNCHANGEDSINCE (RFC 7162 §3.1.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, failWith, errnoError } from '../../support/command-harness.js';
import { MemoryMailbox } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

const MSG = 'From: a@example.org\r\nSubject: hello\r\n\r\nbody\r\n';

test('STORE: state and argument errors', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  const pre = await h.connect();
  assert.match(await pre.run('STORE 1 +FLAGS (\\Seen)'), /^T BAD STORE is not allowed before login/m);
  const c = await h.session(null);
  assert.match(await c.run('STORE 1 +FLAGS (\\Seen)'), /^T BAD STORE is not allowed without a selected mailbox/m);
  await c.run('SELECT INBOX');
  for (const bad of ['STORE', 'STORE 1', 'STORE 1 +FLAGS', 'STORE 1 BOGUS (\\Seen)', 'STORE x +FLAGS (\\Seen)', 'STORE 1 +FLAGS (\\Bogus)',
    'STORE 1 +FLAGS (\\Seen) extra', 'STORE 2 +FLAGS (\\Seen)', 'STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)', 'STORE 1 (BOGUS 1) +FLAGS (\\Seen)'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
});

test('STORE answers the new flags, .SILENT does not, UID STORE adds UID (RFC 3501 §6.4.6, §6.4.8)', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  const c = await h.session();
  assert.equal(
    await c.run('STORE 1 +FLAGS (\\Flagged Work)'),
    '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Work)\r\n' +
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Work \\*)] Flags permitted.\r\n' +
      '* 1 FETCH (FLAGS (\\Flagged Work \\Recent))\r\nT OK STORE completed\r\n',
    'a new keyword is announced before the FETCH that shows it',
  );
  assert.equal(await c.run('STORE 1 -FLAGS (Work)'), '* 1 FETCH (FLAGS (\\Flagged \\Recent))\r\nT OK STORE completed\r\n');
  assert.equal(await c.run('STORE 1 FLAGS.SILENT (\\Seen)'), 'T OK STORE completed\r\n');
  assert.equal(await c.run('UID STORE 1 FLAGS (\\Answered)'), '* 1 FETCH (UID 1 FLAGS (\\Answered \\Recent))\r\nT OK UID STORE completed\r\n');
  assert.match(await c.run('FETCH 1 FLAGS'), /^\* 1 FETCH \(FLAGS \(\\Answered \\Recent\)\)\r$/m, 'FLAGS replaced, not added');
  assert.match(await c.run('SELECT INBOX'), /^\* FLAGS \([^)]*Work\)\r$/m, 'the keyword is in FLAGS from now on');
  assert.equal(await c.run('STORE 1 +FLAGS \\Seen'), '* 1 FETCH (FLAGS (\\Answered \\Seen))\r\nT OK STORE completed\r\n', 'a flag without parentheses (RFC 3501 §9 store-att-flags)');
  const ro = await h.session(null);
  await ro.run('EXAMINE INBOX');
  assert.match(await ro.run('STORE 1 +FLAGS (\\Seen)'), /^T NO /m, 'read-only');
});

test('STORE takes several flags without parentheses, as RFC 3501 §9 store-att-flags allows', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  const c = await h.session();
  const out = await c.run('STORE 1 +FLAGS \\Seen \\Draft');
  assert.match(out, /^\* 1 FETCH \(FLAGS \((?=[^)]*\\Seen)(?=[^)]*\\Draft)[^)]*\)\)\r\nT OK STORE completed\r\n$/);
  assert.match(await c.run('STORE 1 -FLAGS \\Seen (\\Draft)'), /^T BAD /m, 'a list after flags');
});

test('STORE with CONDSTORE reports MODSEQ; UNCHANGEDSINCE fails as OK [MODIFIED] (RFC 7162 §3.1.3)', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  await h.deliver(MSG);
  const c = await h.session(null);
  await c.run('SELECT INBOX (CONDSTORE)');
  const m = /^\* 1 FETCH \(FLAGS \(\\Seen \\Recent\) MODSEQ \((\d+)\)\)\r$/m.exec(await c.run('STORE 1 +FLAGS (\\Seen)'));
  assert.ok(m, 'FETCH with MODSEQ');
  const modseq = Number(m[1]);
  assert.equal(await c.run(`STORE 1,2 (UNCHANGEDSINCE ${modseq - 1}) +FLAGS (\\Flagged)`).then((o) => /^T OK \[MODIFIED 1\] /m.test(o)), true);
  const ok = await c.run(`UID STORE 1 (UNCHANGEDSINCE ${modseq}) +FLAGS (\\Flagged)`);
  assert.match(ok, /^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Seen \\Recent\) MODSEQ \(\d+\)\)\r\nT OK UID STORE completed\r\n$/);
});

test('STORE: a store failure is the NO of its kind, an unexpected one NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  const c = await h.session();
  const fail = (err: Error) => failWith(t, MemoryMailbox.prototype, 'setFlags', err);
  fail(errnoError('EACCES', 'EACCES: permission denied, rename'));
  assert.match(await c.run('STORE 1 +FLAGS (\\Seen)'), /^T NO \[NOPERM\] /m);
  fail(new MailError('limit', 'Too many keywords'));
  assert.match(await c.run('STORE 1 +FLAGS (k27)'), /^T NO \[LIMIT\] Too many keywords/m);
  fail(new TypeError('a bug'));
  assert.match(await c.run('UID STORE 1 +FLAGS (\\Seen)'), /^T NO \[SERVERBUG\] /m);
  assert.match(await c.run('NOOP'), /^T OK /m);
});

test('A keyword new to the folder is announced (FLAGS, PERMANENTFLAGS) to every session before a FETCH shows it (RFC 3501 §7.2.6)', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  await h.mkfolder('Other');
  const a = await h.session();
  const b = await h.session();
  const ro = await h.session(null);
  await ro.run('EXAMINE INBOX');
  // NIL is a legal keyword (an atom), not an empty list.
  const stored = await a.run('STORE 1 +FLAGS NIL');
  assert.match(stored, /^\* FLAGS \([^)]* NIL\)\r\n\* OK \[PERMANENTFLAGS \([^)]* NIL \\\*\)\] [^\r]*\r\n\* 1 FETCH \(FLAGS \(NIL \\Recent\)\)\r\nT OK /);
  const other = await b.run('NOOP');
  assert.match(other, /^\* FLAGS \([^)]* NIL\)\r\n\* OK \[PERMANENTFLAGS [^\r]*\r\n\* 1 FETCH \(UID 1 FLAGS \(NIL\)\)\r\nT OK /, 'another session: FLAGS first, then the FETCH');
  assert.match(await ro.run('FETCH 1 FLAGS'), /^\* FLAGS \([^)]* NIL\)\r\n\* OK \[PERMANENTFLAGS \(\)\] [^\r]*\r\n\* 1 FETCH \(FLAGS \(NIL\)\)\r$/m, 'read-only: its FETCH is preceded too');
  assert.doesNotMatch(await b.run('NOOP'), /FLAGS/, 'told once');
  // APPEND and COPY bring keywords too.
  assert.match(await a.run('APPEND INBOX (Later) {11}\r\nSubject: x\r\n'), /^T OK /m);
  assert.match(await b.run('NOOP'), /^\* FLAGS \([^)]* NIL Later\)\r\n\* OK \[PERMANENTFLAGS [^\r]*\r\n\* 2 EXISTS\r$/m);
  const c = await h.session('Other');
  await a.run('STORE 1 +FLAGS (Moved)');
  await a.run('COPY 1 Other');
  assert.match(await c.run('NOOP'), /^\* FLAGS \([^)]*Moved\)\r\n\* OK \[PERMANENTFLAGS [^\r]*\r\n\* 1 EXISTS\r$/m);
});
