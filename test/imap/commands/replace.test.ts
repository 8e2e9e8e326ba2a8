// REPLACE and UID REPLACE (RFC 8508), in-process on the memory store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';
import { MemoryUser } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

const MSG = (n: number) => `From: a@example.org\r\nSubject: draft ${n}\r\n\r\nbody ${n}\r\n`;
const lit = (s: string) => `{${Buffer.byteLength(s)}+}\r\n${s}`;

test('RFC 8508 §3.4: REPLACE into another folder: untagged OK [APPENDUID], then the EXPUNGE, then the tagged OK', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Notes');
  for (let n = 1; n <= 3; n++) await h.deliver(MSG(n));
  const c = await h.session();
  const validity = /UIDVALIDITY (\d+)/.exec(await c.run('STATUS Notes (UIDVALIDITY)'))![1];
  const out = await c.run(`REPLACE 2 Notes (\\Seen \\Draft) ${lit(MSG(22))}`);
  assert.equal(out, `* OK [APPENDUID ${validity} 1] Replacement Message ready\r\n* 2 EXPUNGE\r\nT OK Replace completed\r\n`);
  assert.match(await c.run('STATUS Notes (MESSAGES)'), /MESSAGES 1\)/);
  const f = await c.run('FETCH 1:* BODY.PEEK[HEADER.FIELDS (SUBJECT)]');
  assert.match(f, /draft 1[^]*draft 3/);
  assert.doesNotMatch(f, /draft 2/, 'the original is gone');
  await c.run('SELECT Notes');
  assert.match(await c.run('FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])'), /FLAGS \(\\Draft \\Seen \\Recent\)[^]*Subject: draft 22/);
});

test('RFC 8508 §3.4: UID REPLACE into the selected folder: EXISTS for the new message, EXPUNGE for the old', async (t) => {
  const h = await harness(t);
  for (let n = 1; n <= 3; n++) await h.deliver(MSG(n));
  const c = await h.session();
  const validity = /UIDVALIDITY (\d+)/.exec(await c.run('STATUS INBOX (UIDVALIDITY)'))![1];
  const out = await c.run(`UID REPLACE 1 INBOX ${lit(MSG(11))}`);
  // The view reports the EXPUNGE first, then the new count (both orders are RFC 3501 §7.4.1-correct; §3.4's example shows EXISTS first).
  assert.equal(out, `* OK [APPENDUID ${validity} 4] Replacement Message ready\r\n* 1 EXPUNGE\r\n* 3 EXISTS\r\n* 3 RECENT\r\nT OK Replace completed\r\n`);
  assert.match(await c.run('UID FETCH 1:* (UID)'), /^\* 1 FETCH \(UID 2\)\r\n\* 2 FETCH \(UID 3\)\r\n\* 3 FETCH \(UID 4\)\r\n/);
});

test('RFC 8508 §3.3: if the append fails, the original stays (quota, missing folder, store failure, read-only)', async (t) => {
  const h = await harness(t, { quotaDefaultMessages: 2 });
  for (let n = 1; n <= 2; n++) await h.deliver(MSG(n));
  const c = await h.session();
  assert.match(await c.run(`REPLACE 1 INBOX ${lit(MSG(9))}`), /^T NO \[OVERQUOTA\] /m, 'the new message counts before the old one goes');
  assert.match(await c.run(`REPLACE 1 Nowhere ${lit(MSG(9))}`), /^T NO \[TRYCREATE\] /m);
  const m = t.mock.method(MemoryUser.prototype, 'append', async () => {
    throw new MailError('temporary', 'Locked');
  });
  assert.match(await c.run(`REPLACE 1 INBOX ${lit(MSG(9))}`), /^T NO \[UNAVAILABLE\] Locked/m);
  m.mock.restore();
  await c.run('EXAMINE INBOX');
  assert.match(await c.run(`REPLACE 1 INBOX ${lit(MSG(9))}`), /^T NO \[READ-ONLY\] /m);
  assert.doesNotMatch(await c.run('NOOP'), /EXPUNGE/);
  assert.match(await c.run('STATUS INBOX (MESSAGES UIDNEXT)'), /MESSAGES 2 UIDNEXT 3\)/, 'nothing saved, nothing removed');
  assert.deepEqual(h.mail.spools.filter((s) => !s.discarded), [], 'every spool discarded');
});

test('RFC 8508 §6: syntax and state: one message, not a set; a selected folder; a literal (literal8 too)', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG(1));
  const none = await h.session(null);
  assert.match(await none.run(`REPLACE 1 INBOX ${lit(MSG(2))}`), /^T BAD /m, 'not in the authenticated state');
  const c = await h.session();
  for (const bad of [`REPLACE 1:2 INBOX ${lit(MSG(2))}`, `REPLACE 1 INBOX "text"`, 'REPLACE 1 INBOX', `REPLACE 5 INBOX ${lit(MSG(2))}`, `REPLACE 1 INBOX ${lit(MSG(2))} ${lit(MSG(3))}`])
    assert.match(await c.run(bad), /^T BAD /m, bad);
  assert.match(await c.run(`UID REPLACE 99 INBOX ${lit(MSG(2))}`), /^T NO /m, 'a UID that is not there');
  const bin = 'Subject: b\r\n\r\nx\x00y\r\n';
  assert.match(await c.run(`REPLACE 1 INBOX ~{${bin.length}+}\r\n${bin}`), /^\* 1 EXPUNGE\r\n\* 1 EXISTS\r\n[^]*T OK Replace completed/m);
  assert.match(await c.run('CAPABILITY'), / REPLACE /);
  assert.deepEqual(h.mail.spools.filter((s) => !s.discarded), []);
});
