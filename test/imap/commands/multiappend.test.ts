// MULTIAPPEND (RFC 3502): several messages in one APPEND, all or none, with
// APPENDUID's uid-set (RFC 4315 §3); literal8 messages (RFC 3516 §4.4). In-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';
import { MemoryUser } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';
import { DEFAULT_IMAP_CONFIG } from '../../../src/server.js';
import { MULTIAPPEND_MAX_MESSAGES } from '../../../src/imap/commands/append.js';

const MSG = (n: number) => `From: a@example.org\r\nSubject: m${n}\r\n\r\nbody ${n}\r\n`;
const lit = (s: string) => `{${Buffer.byteLength(s)}+}\r\n${s}`;

test('RFC 3502 §6.3.11: two messages with their own flags and dates; APPENDUID with a uid-set; EXISTS for both', async (t) => {
  const h = await harness(t);
  const c = await h.session();
  const validity = /UIDVALIDITY (\d+)/.exec(await c.run('STATUS INBOX (UIDVALIDITY)'))![1];
  const out = await c.run(`APPEND INBOX (\\Seen) "05-Mar-2024 10:00:00 +0100" ${lit(MSG(1))} (\\Flagged) ${lit(MSG(2))} ${lit(MSG(3))}`);
  assert.match(out, /^\* 3 EXISTS\r\n/m);
  assert.match(out, new RegExp(`^T OK \\[APPENDUID ${validity} 1:3\\] `, 'm'));
  const f = await c.run('UID FETCH 1:3 (FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  assert.match(f, /^\* 1 FETCH \(UID 1 FLAGS \(\\Seen \\Recent\) INTERNALDATE "05-Mar-2024 09:00:00 \+0000" .*\r\nSubject: m1\r\n/m);
  assert.match(f, /^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged \\Recent\) /m);
  assert.match(f, /^\* 3 FETCH \(UID 3 FLAGS \(\\Recent\) [^]*Subject: m3/m, 'in the order given');
  assert.match(await c.run(`APPEND INBOX ${lit(MSG(4))} ${lit(MSG(5))}`), new RegExp(`^T OK \\[APPENDUID ${validity} 4:5\\] `, 'm'));
});

test('RFC 3502 §6.3.11: one bad message (zero bytes) fails the whole command: nothing saved, no UID used', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const before = await c.run('STATUS INBOX (MESSAGES UIDNEXT)');
  assert.match(await c.run(`APPEND INBOX ${lit(MSG(1))} {0+}\r\n ${lit(MSG(3))}`), /^T NO /m);
  assert.equal(await c.run('STATUS INBOX (MESSAGES UIDNEXT)'), before, 'no message, UIDNEXT unchanged');
  assert.deepEqual(h.mail.spools.filter((s) => !s.discarded), [], 'every spool discarded');
  assert.match(await c.run(`APPEND INBOX ${lit(MSG(1))}`), /^T OK \[APPENDUID \d+ 1\] /m, 'the next APPEND gets UID 1');
});

test('RFC 3502: a syntax error after the first message is BAD and saves nothing; a missing folder is NO [TRYCREATE]', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  assert.match(await c.run(`APPEND INBOX ${lit(MSG(1))} (\\Bogus) ${lit(MSG(2))}`), /^T BAD /m);
  assert.match(await c.run(`APPEND INBOX ${lit(MSG(1))} "not a date" ${lit(MSG(2))}`), /^T BAD /m);
  assert.match(await c.run(`APPEND INBOX ${lit(MSG(1))} (\\Seen)`), /^T BAD /m, 'flags without a message');
  assert.match(await c.run(`APPEND Nowhere ${lit(MSG(1))} ${lit(MSG(2))}`), /^T NO \[TRYCREATE\] /m);
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 0\)/);
  assert.deepEqual(h.mail.spools.filter((s) => !s.discarded), []);
});

test('RFC 3502: the quota is checked for all the messages at once: over it, none is saved', async (t) => {
  const h = await harness(t, { quotaDefaultMessages: 2 });
  const c = await h.session(null);
  assert.match(await c.run(`APPEND INBOX ${lit(MSG(1))} ${lit(MSG(2))} ${lit(MSG(3))}`), /^T NO \[OVERQUOTA\] /m);
  assert.match(await c.run('STATUS INBOX (MESSAGES UIDNEXT)'), /MESSAGES 0 UIDNEXT 1\)/);
  assert.match(await c.run(`APPEND INBOX ${lit(MSG(1))} ${lit(MSG(2))}`), /^T OK \[APPENDUID \d+ 1:2\] /m);
});

test('RFC 3502: a store failure fails the whole MULTIAPPEND; the spools are discarded', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  t.mock.method(MemoryUser.prototype, 'appendMany', async () => {
    throw new MailError('temporary', 'Locked');
  });
  assert.match(await c.run(`APPEND INBOX ${lit(MSG(1))} ${lit(MSG(2))}`), /^T NO \[UNAVAILABLE\] Locked/m);
  assert.equal(h.mail.spools.length, 2);
  assert.deepEqual(h.mail.spools.filter((s) => !s.discarded), []);
});

test('limits: at most MULTIAPPEND_MAX_MESSAGES messages ([LIMIT]); all the messages together at most 4 x APPENDLIMIT ([TOOBIG])', async (t) => {
  const maxAppendBytes = 100;
  const h = await harness(t, {}, { limits: { ...DEFAULT_IMAP_CONFIG.limits, maxAppendBytes } });
  const c = await h.session(null);
  const many = Array.from({ length: MULTIAPPEND_MAX_MESSAGES + 1 }, () => lit('x\r\n')).join(' ');
  assert.match(await c.run(`APPEND INBOX ${many}`), /^T NO \[LIMIT\] /m);
  const m = 'Subject: s\r\n\r\n' + 'x'.repeat(70) + '\r\n'; // 88 bytes, under APPENDLIMIT
  assert.match(await c.run(`APPEND INBOX ${[m, m, m, m].map((x) => `{${x.length}}\r\n${x}`).join(' ')}`), /^T OK \[APPENDUID \d+ 1:4\] /m);
  // The fifth literal would pass 400 bytes: refused before it is sent (a sync literal gets no '+').
  c.send(`x1 APPEND INBOX ${[m, m, m, m].map(lit).join(' ')} {${m.length}}\r\n`);
  assert.match(await c.readUntil(/^x1 .*\r\n/m), /^x1 NO \[TOOBIG\] /m);
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 4\)/, 'none of the refused command saved');
  assert.match(await c.run('CAPABILITY'), / MULTIAPPEND /);
});

test('RFC 3516 §4.4: a literal8 message (~{n+}, ~{n} synchronizing) keeps its NUL bytes; it can be one of several', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const bin = Buffer.from('Subject: bin\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\na\x00b\x00\x01c\r\n', 'latin1');
  const text = bin.toString('latin1');
  assert.match(await c.run(`APPEND INBOX ~{${bin.length}+}\r\n${text} ${lit(MSG(2))}`), /^T OK \[APPENDUID \d+ 1:2\] /m);
  c.send(`x2 APPEND INBOX ~{${bin.length}}\r\n`);
  assert.match(await c.readUntil(/^\+ .*\r\n/m), /^\+ /m);
  c.send(`${text}\r\n`);
  assert.match(await c.readUntil(/^x2 .*\r\n/m), /^x2 OK \[APPENDUID \d+ 3\] /m);
  const box = await h.box();
  assert.deepEqual(box.contentOf(box.all[0]!).data, bin);
  assert.deepEqual(box.contentOf(box.all[2]!).data, bin);
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 3\)/);
});
