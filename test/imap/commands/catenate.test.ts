// CATENATE (RFC 4469): APPEND from TEXT literals and IMAP URLs of this
// user's messages; [BADURL] and [TOOBIG]. In-process on the memory store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';
import { DEFAULT_IMAP_CONFIG } from '../../../src/server.js';
import { parseImapUrl } from '../../../src/imap/catenate.js';

const ORIGINAL = [
  'From: a@example.org',
  'Subject: forwarded',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain',
  '',
  'first part',
  '--b',
  'Content-Type: application/pdf',
  'Content-Transfer-Encoding: base64',
  '',
  'JVBERi0xLjQK',
  '--b--',
  '',
].join('\r\n');
const lit = (s: string) => `{${Buffer.byteLength(s)}+}\r\n${s}`;

test('RFC 4469 §5: TEXT and URL parts (absolute with UIDVALIDITY, relative ;UID=) make one message; APPENDUID', async (t) => {
  const h = await harness(t);
  await h.deliver(ORIGINAL);
  const c = await h.session();
  const validity = /UIDVALIDITY (\d+)/.exec(await c.run('STATUS INBOX (UIDVALIDITY)'))![1];
  const head = 'Subject: new\r\nContent-Type: multipart/mixed; boundary="n"\r\n\r\n--n\r\n';
  const out = await c.run(
    `APPEND INBOX (\\Seen) CATENATE (TEXT ${lit(head)} URL "/INBOX;UIDVALIDITY=${validity}/;UID=1/;SECTION=2.MIME" URL ";UID=1/;SECTION=2" TEXT ${lit('\r\n--n--\r\n')})`,
  );
  assert.match(out, new RegExp(`^T OK \\[APPENDUID ${validity} 2\\] `, 'm'));
  const body = /BODY\[\] \{\d+\}\r\n([^]*)\)\r\nT OK/.exec(await c.run('FETCH 2 BODY.PEEK[]'))![1];
  assert.equal(body, `${head}Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--n--\r\n`);
  assert.match(await c.run('FETCH 2 FLAGS'), /\\Seen/);
});

test('RFC 4469 §5, RFC 5092: a whole message, a header section and a ;PARTIAL= range by URL', async (t) => {
  const h = await harness(t);
  await h.deliver(ORIGINAL);
  const c = await h.session(null);
  assert.match(await c.run('APPEND INBOX CATENATE (URL "/INBOX/;UID=1")'), /^T OK \[APPENDUID \d+ 2\] /m);
  assert.match(await c.run('APPEND INBOX CATENATE (URL "/INBOX/;UID=1/;SECTION=HEADER.FIELDS%20(SUBJECT)" URL "/INBOX/;UID=1/;SECTION=1/;PARTIAL=0.5" TEXT {2+}\r\n\r\n)'), /^T OK \[APPENDUID \d+ 3\] /m);
  await c.run('SELECT INBOX');
  assert.match(await c.run('FETCH 2 RFC822.SIZE'), new RegExp(`RFC822.SIZE ${ORIGINAL.length}\\)`));
  assert.match(await c.run('FETCH 3 BODY.PEEK[]'), /BODY\[\] \{29\}\r\nSubject: forwarded\r\n\r\nfirst\r\n\)/);
});

test('RFC 4469 §6: URLs that name nothing readable fail with NO [BADURL url], and nothing is saved', async (t) => {
  const h = await harness(t);
  await h.deliver(ORIGINAL);
  await h.mkfolder('Other');
  const c = await h.session(null);
  const validity = Number(/UIDVALIDITY (\d+)/.exec(await c.run('STATUS INBOX (UIDVALIDITY)'))![1]);
  for (const url of [
    `/INBOX;UIDVALIDITY=${validity + 1}/;UID=1`, // another UIDVALIDITY
    '/INBOX/;UID=7', // no such message
    '/Nowhere/;UID=1', // no such folder
    '/Other/;UID=1', // empty folder
    ';UID=1', // relative, but nothing is selected
    'imap://alice@localhost/INBOX/;UID=1', // another user's mail
    'http://example.org/x', // not an IMAP URL
    '/INBOX/;UID=1/;SECTION=9.BOGUS',
  ]) assert.match(await c.run(`APPEND INBOX CATENATE (TEXT ${lit('x\r\n')} URL "${url}")`), new RegExp(`^T NO \\[BADURL ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').split(' ')[0]}\\] `, 'm'), url);
  assert.match(await c.run('STATUS INBOX (MESSAGES UIDNEXT)'), /MESSAGES 1 UIDNEXT 2\)/);
  assert.deepEqual(h.mail.spools.filter((s) => !s.discarded), [], 'every spool discarded');
  assert.match(await c.run('APPEND INBOX CATENATE (URL "imap://bob@localhost/INBOX/;UID=1")'), /^T OK /m, 'our own user in the URL is fine');
});

test('RFC 4469 §6: the result over APPENDLIMIT is NO [TOOBIG]; syntax errors are BAD', async (t) => {
  const h = await harness(t, {}, { limits: { ...DEFAULT_IMAP_CONFIG.limits, maxAppendBytes: 300 } });
  await h.deliver(ORIGINAL); // 220 bytes
  const c = await h.session(null);
  assert.match(await c.run('APPEND INBOX CATENATE (URL "/INBOX/;UID=1" URL "/INBOX/;UID=1")'), /^T NO \[TOOBIG\] /m);
  for (const bad of ['APPEND INBOX CATENATE ()', 'APPEND INBOX CATENATE (TEXT "quoted")', 'APPEND INBOX CATENATE (URL)', 'APPEND INBOX CATENATE (FOO "x")', 'APPEND INBOX CATENATE URL'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
  assert.match(await c.run('CAPABILITY'), / CATENATE /);
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 1\)/);
});

test('RFC 5092 URL forms parsed; other users and malformed ones refused', () => {
  assert.deepEqual(parseImapUrl('/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.MIME', 'bob'), { mailbox: 'INBOX', uidValidity: 385759045, uid: 20, section: '1.MIME', partial: null });
  assert.deepEqual(parseImapUrl(';UID=3/;PARTIAL=10.20', 'bob'), { mailbox: null, uidValidity: null, uid: 3, section: '', partial: { origin: 10, count: 20 } });
  assert.equal(parseImapUrl('imap://bob@host:143/A%20B/;UID=1', 'bob')?.mailbox, 'A B');
  for (const bad of ['imap://alice@host/INBOX/;UID=1', '/INBOX/;UID=0', '/INBOX;UID=1', '/INBOX/;UID=1/junk', '/%E0%A4%A/;UID=1', 'imap://host;UID=1'])
    assert.equal(parseImapUrl(bad, 'bob'), null, bad);
});
