// APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315 §3), in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, errnoError } from '../../support/command-harness.js';
import { MemoryUser } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';
import { parseDateTime } from '../../../src/imap/commands/append.js';

const MSG = 'From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n';
const lit = (s: string) => `{${Buffer.byteLength(s)}+}\r\n${s}`;

test('APPEND: flags and date kept; OK [APPENDUID uidvalidity uid]; EXISTS before the OK when the target is selected', async (t) => {
  const h = await harness(t);
  const c = await h.session();
  const validity = /UIDVALIDITY (\d+)/.exec(await c.run('EXAMINE INBOX'))![1];
  await c.run('SELECT INBOX');
  const out = await c.run(`APPEND INBOX (\\Seen $Work) "05-Mar-2024 10:00:00 +0100" ${lit(MSG)}`);
  // The new keyword is announced first (RFC 3501 §7.2.6), then the message.
  assert.match(out, new RegExp(`^\\* FLAGS \\([^)]* \\$Work\\)\\r\\n\\* OK \\[PERMANENTFLAGS [^\\r]*\\r\\n\\* 1 EXISTS\\r\\n(\\* 1 RECENT\\r\\n)?T OK \\[APPENDUID ${validity} 1\\] `));
  assert.match(await c.run(`APPEND INBOX ${lit(MSG)}`), new RegExp(`^T OK \\[APPENDUID ${validity} 2\\] `, 'm'), 'UIDs ascend');
  const f = await c.run('UID FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)');
  const flags = /FLAGS \(([^)]*)\)/.exec(f)![1].split(' ').sort();
  assert.deepEqual(flags, ['$Work', '\\Recent', '\\Seen'], 'the flags given, and \\Recent (§6.3.11)');
  const date = /INTERNALDATE "([^"]+)"/.exec(f)![1];
  assert.equal(parseDateTime(date)?.toISOString(), '2024-03-05T09:00:00.000Z');
  assert.match(f, new RegExp(`RFC822.SIZE ${MSG.length}\\b`));
});

test('APPEND to another folder in the authenticated state: its UIDVALIDITY, STATUS counts it', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Work');
  const c = await h.session(null);
  const validity = /UIDVALIDITY (\d+)/.exec(await c.run('STATUS Work (UIDVALIDITY)'))![1];
  assert.match(await c.run(`APPEND Work ${lit(MSG)}`), new RegExp(`^T OK \\[APPENDUID ${validity} 1\\] `, 'm'));
  assert.match(await c.run('STATUS Work (MESSAGES)'), /MESSAGES 1\)/);
});

test('APPEND: state and argument errors; a missing target is NO [TRYCREATE] and is not created (§6.3.11)', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run(`APPEND INBOX ${lit(MSG)}`), /^T BAD APPEND is not allowed before login/m);
  const c = await h.session(null);
  for (const bad of ['APPEND', 'APPEND INBOX', 'APPEND INBOX "not a literal"', `APPEND INBOX "yesterday" ${lit(MSG)}`,
    `APPEND INBOX (\\Seen ${lit(MSG)}`, `APPEND INBOX ${lit(MSG)} "junk"`])
    assert.match(await c.run(bad), /^T BAD /m, bad);
  assert.match(await c.run(`APPEND Nowhere ${lit(MSG)}`), /^T NO \[TRYCREATE\] /m);
  assert.doesNotMatch(await c.run('LIST "" Nowhere'), /^\* LIST/m, 'APPEND MUST NOT create the mailbox');
  assert.match(await c.run('APPEND INBOX {0+}\r\n'), /^T NO /m, 'an empty message');
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 0\)/, 'nothing was saved');
});

test('APPEND: store failures map to their NO codes, a bug to NO [SERVERBUG]; the spool is removed; the session goes on', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const cases: Array<[unknown, RegExp]> = [
    [errnoError('ENOSPC', 'ENOSPC: no space left on device, write'), /^T NO \[OVERQUOTA\] /m],
    [errnoError('EACCES', 'EACCES: permission denied, rename'), /^T NO \[NOPERM\] /m],
    [new MailError('notfound', 'Mailbox vanished'), /^T NO \[TRYCREATE\] Mailbox vanished/m],
    [new MailError('limit', 'Too many keywords'), /^T NO \[LIMIT\] Too many keywords/m],
    [new MailError('temporary', 'Locked'), /^T NO \[UNAVAILABLE\] Locked/m],
    [new TypeError('a bug'), /^T NO \[SERVERBUG\] /m],
  ];
  const m = t.mock.method(MemoryUser.prototype, 'append');
  for (const [err, reply] of cases) {
    m.mock.mockImplementation(async () => {
      throw err;
    });
    assert.match(await c.run(`APPEND INBOX ${lit(MSG)}`), reply, String(err));
  }
  m.mock.restore();
  assert.match(await c.run('NOOP'), /^T OK /m);
  assert.ok(h.mail.spools.length >= cases.length, 'each literal went to the store');
  assert.deepEqual(h.mail.spools.filter((s) => !s.discarded), [], 'no spooled message left behind');
  assert.match(await c.run(`APPEND INBOX ${lit(MSG)}`), /^T OK \[APPENDUID \d+ 1\] /m);
});
