// IMAP4rev2 (RFC 9051) beside IMAP4rev1: advertised always, switched on per
// session by ENABLE IMAP4rev2 (Appendix A); a session that does not enable it
// keeps RFC 3501 behaviour. Each test names the RFC 9051 section it checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Client, type Harness } from '../../support/command-harness.js';

const MSG = (n: number) => `From: a@example.org\r\nSubject: m${n}\r\n\r\nbody ${n}\r\n`;

/** A logged-in session with IMAP4rev2 enabled, INBOX selected unless `select` is null. */
async function rev2(h: Harness, select: string | null = 'INBOX'): Promise<Client> {
  const c = await h.session(null);
  assert.equal(await c.run('ENABLE IMAP4rev2'), '* ENABLED IMAP4rev2\r\nT OK ENABLE completed\r\n');
  if (select) assert.match(await c.run(`SELECT ${select}`), /^T OK /m);
  return c;
}

test('RFC 9051 §6.1.1, Appendix A: CAPABILITY lists IMAP4rev1 and IMAP4rev2, before and after login', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('CAPABILITY'), /^\* CAPABILITY IMAP4rev1 IMAP4rev2 /m);
  const c = await h.session(null);
  const caps = (await c.run('CAPABILITY')).split('\r\n')[0].split(' ');
  // Appendix E item 1: what IMAP4rev2 folds in must be there too.
  for (const cap of ['IMAP4rev1', 'IMAP4rev2', 'NAMESPACE', 'UNSELECT', 'UIDPLUS', 'ESEARCH', 'SEARCHRES', 'ENABLE', 'IDLE', 'SASL-IR', 'LIST-EXTENDED', 'LIST-STATUS', 'MOVE', 'LITERAL+', 'BINARY', 'SPECIAL-USE', 'STATUS=SIZE'])
    assert.ok(caps.includes(cap), cap);
});

test('RFC 9051 §6.3.1, RFC 5161 §3.1: ENABLE IMAP4rev2 once, in the authenticated state only', async (t) => {
  const h = await harness(t);
  const c = await rev2(h, null);
  assert.equal(await c.run('ENABLE imap4rev2'), '* ENABLED\r\nT OK ENABLE completed\r\n', 'already on');
  const selected = await h.session('INBOX');
  assert.equal(await selected.run('ENABLE IMAP4rev2'), '* ENABLED\r\nT OK ENABLE completed\r\n', 'not with a folder selected');
  assert.match(await selected.run('SEARCH ALL'), /^\* SEARCH/m, 'that session stays rev1');
});

test('RFC 9051 §6.3.2: SELECT answers FLAGS, EXISTS and LIST; no RECENT, no UNSEEN code; rev1 unchanged', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG(1));
  await h.deliver(MSG(2));
  const c = await rev2(h, null);
  const out = await c.run('SELECT INBOX');
  assert.match(out, /^\* FLAGS \(/m);
  assert.match(out, /^\* 2 EXISTS\r\n\* LIST \(\) "[^"]" INBOX\r\n/m);
  assert.match(out, /^\* OK \[UIDVALIDITY \d+\]/m);
  assert.match(out, /^\* OK \[UIDNEXT 3\]/m);
  assert.match(out, /^\* OK \[PERMANENTFLAGS /m);
  assert.doesNotMatch(out, /RECENT|UNSEEN/);
  assert.match(out, /^T OK \[READ-WRITE\]/m);
  const old = await h.session(null);
  const rev1 = await old.run('EXAMINE INBOX');
  assert.match(rev1, /^\* \d+ RECENT\r\n\* OK \[UNSEEN 1\]/m);
  assert.doesNotMatch(rev1, /^\* LIST /m);
});

test('RFC 9051 §2.3.2, Appendix E: no \\Recent in FETCH and no RECENT response for new mail, while a rev1 session still has them', async (t) => {
  const h = await harness(t);
  const c = await rev2(h);
  await h.deliver(MSG(1));
  const noop = await c.run('NOOP');
  assert.match(noop, /^\* 1 EXISTS\r\n/m);
  assert.doesNotMatch(noop, /RECENT/);
  assert.equal(await c.run('FETCH 1 FLAGS'), '* 1 FETCH (FLAGS ())\r\nT OK FETCH completed\r\n');
  const store = await c.run('STORE 1 +FLAGS (\\Flagged)');
  assert.match(store, /^\* 1 FETCH \(FLAGS \(\\Flagged\)\)/m);
  // The same delivery in a rev1 session that claims it.
  const h1 = await harness(t);
  const old = await h1.session('INBOX');
  await h1.deliver(MSG(1));
  assert.match(await old.run('NOOP'), /^\* 1 EXISTS\r\n\* 1 RECENT\r\n/m);
  assert.match(await old.run('FETCH 1 FLAGS'), /\\Recent/);
});

test('RFC 9051 §6.4.4, Appendix E: RECENT/NEW/OLD agree with the flags the session is shown (no \\Recent: none new, all old)', async (t) => {
  const h = await harness(t);
  const c = await rev2(h);
  await h.deliver(MSG(1));
  await h.deliver(MSG(2));
  await c.run('NOOP');
  assert.match(await c.run('SEARCH RECENT'), /^\* ESEARCH \(TAG "t\d+"\)\r\nT OK /m);
  assert.match(await c.run('SEARCH NEW'), /^\* ESEARCH \(TAG "t\d+"\)\r\nT OK /m);
  assert.match(await c.run('SEARCH OLD'), /^\* ESEARCH \(TAG "t\d+"\) ALL 1:2\r\n/m);
});

test('RFC 9051 §6.4.4, §7.3.4: SEARCH without RETURN answers ESEARCH (ALL), UID SEARCH with UID; empty result has no ALL', async (t) => {
  const h = await harness(t);
  for (const n of [1, 2, 3]) await h.deliver(MSG(n));
  const c = await rev2(h);
  assert.match(await c.run('SEARCH ALL'), /^\* ESEARCH \(TAG "t\d+"\) ALL 1:3\r\nT OK /m);
  assert.match(await c.run('UID SEARCH SUBJECT m2'), /^\* ESEARCH \(TAG "t\d+"\) UID ALL 2\r\nT OK /m);
  assert.match(await c.run('SEARCH SUBJECT nothing-has-this'), /^\* ESEARCH \(TAG "t\d+"\)\r\nT OK /m);
  assert.match(await c.run('SEARCH RETURN (COUNT) ALL'), /^\* ESEARCH \(TAG "t\d+"\) COUNT 3\r\n/m, 'RETURN still as asked');
  assert.doesNotMatch(await c.run('SEARCH ALL'), /^\* SEARCH/m);
  // RFC 9051 §6.4.4.1 (SEARCHRES folded in): SAVE alone still answers nothing, and $ works.
  assert.match(await c.run('SEARCH RETURN (SAVE) SUBJECT m3'), /^T OK [^\r]*\r\n$/);
  assert.match(await c.run('FETCH $ UID'), /^\* 3 FETCH \(UID 3\)/m);
  const old = await h.session('INBOX');
  assert.match(await old.run('SEARCH ALL'), /^\* SEARCH 1 2 3\r\n/m, 'rev1 sessions keep SEARCH');
});

test('RFC 9051 §6.3.11: STATUS DELETED and SIZE; RECENT is 0 for a rev2 session', async (t) => {
  const h = await harness(t);
  const a = MSG(1);
  const b = MSG(2);
  await h.deliver(a);
  await h.deliver(b);
  const c = await rev2(h, null);
  assert.match(await c.run('STATUS INBOX (MESSAGES DELETED SIZE RECENT)'), new RegExp(`^\\* STATUS INBOX \\(MESSAGES 2 DELETED 0 SIZE ${a.length + b.length} RECENT 0\\)\r\n`, 'm'));
  await c.run('SELECT INBOX');
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  assert.match(await c.run('STATUS INBOX (DELETED)'), /^\* STATUS INBOX \(DELETED 1\)/m);
});

test('RFC 9051 §6.3.9, §7.3.1: LIST-STATUS, and \\NonExistent for a deleted folder still subscribed', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG(1));
  const c = await rev2(h, null);
  assert.match(await c.run('CREATE Gone'), /^T OK /m);
  assert.match(await c.run('SUBSCRIBE Gone'), /^T OK /m);
  assert.match(await c.run('DELETE Gone'), /^T OK /m);
  assert.match(await c.run('LIST (SUBSCRIBED) "" "*"'), /^\* LIST \(\\Subscribed \\NonExistent\) "[^"]" Gone\r\n/m);
  const status = await c.run('LIST "" INBOX RETURN (STATUS (MESSAGES RECENT))');
  assert.match(status, /^\* LIST \([^)]*\) "[^"]" INBOX\r\n\* STATUS INBOX \(MESSAGES 1 RECENT 0\)\r\n/m);
});

test('RFC 9051 §2.3.2: $Forwarded, $MDNSent, $Junk, $NotJunk and $Phishing are kept as they are', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG(1));
  const c = await rev2(h);
  const kws = '$Forwarded $MDNSent $Junk $NotJunk $Phishing';
  assert.match(await c.run(`STORE 1 +FLAGS (${kws})`), /^T OK /m);
  const out = await c.run('FETCH 1 FLAGS');
  for (const k of kws.split(' ')) assert.match(out, new RegExp(`\\${k}[ )]`), k);
  assert.match(await c.run(`SEARCH KEYWORD $Forwarded`), /ALL 1\r\n/);
});

test('RFC 9051 §6.3.12, §6.4.7, §6.4.8: APPEND, COPY and MOVE to a missing folder are NO [TRYCREATE] and create nothing', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG(1));
  const c = await rev2(h);
  assert.match(await c.run('APPEND Missing {5+}\r\nhello'), /^T NO \[TRYCREATE\]/m);
  assert.match(await c.run('COPY 1 Missing'), /^T NO \[TRYCREATE\]/m);
  assert.match(await c.run('MOVE 1 Missing'), /^T NO \[TRYCREATE\]/m);
  assert.equal(await h.mail.mailbox('Missing'), null);
  assert.match(await c.run('FETCH 1 UID'), /^\* 1 FETCH \(UID 1\)/m, 'the failed MOVE kept the message');
});

test('RFC 9051 §7.1 (CLOSED), §6.4.1/§6.4.2: a SELECT that replaces another says OK [CLOSED] first; CLOSE expunges, UNSELECT does not', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG(1));
  await h.deliver(MSG(2));
  await h.mkfolder('Other');
  const c = await rev2(h);
  const out = await c.run('SELECT Other');
  assert.match(out, /^\* OK \[CLOSED\][^\r]*\r\n\* FLAGS /);
  await c.run('SELECT INBOX');
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  assert.equal(await c.run('UNSELECT'), 'T OK UNSELECT completed\r\n');
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 2/);
  await c.run('SELECT INBOX');
  const closed = await c.run('CLOSE');
  assert.doesNotMatch(closed, /EXPUNGE/, 'CLOSE expunges silently');
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 1/);
});

test('RFC 9051 §4.3, §4.5: the atom NIL as a mailbox name is the folder "NIL", and a response quotes it', async (t) => {
  const h = await harness(t);
  const c = await rev2(h, null);
  assert.match(await c.run('CREATE NIL'), /^T OK /m);
  assert.ok(await h.mail.mailbox('NIL'));
  assert.match(await c.run('LIST "" NIL'), /^\* LIST \([^)]*\) "[^"]" "NIL"\r\n/m);
  assert.match(await c.run('SELECT NIL'), /^\* LIST \(\) "[^"]" "NIL"\r\n/m);
});

test('RFC 9051 §4.3 (LITERAL- folded in): a non-synchronizing literal up to 4096 bytes needs no continuation', async (t) => {
  const h = await harness(t);
  const c = await rev2(h, null);
  const body = `Subject: lit\r\n\r\n${'x'.repeat(4000)}\r\n`;
  const out = await c.run(`APPEND INBOX {${body.length}+}\r\n${body}`);
  assert.doesNotMatch(out, /^\+ /m);
  assert.match(out, /^T OK \[APPENDUID \d+ 1\]/m);
});

test('RFC 9051 §5.1: mailbox names stay modified UTF-7 after ENABLE IMAP4rev2 unless UTF8=ACCEPT is enabled too', async (t) => {
  const h = await harness(t);
  const c = await rev2(h, null);
  assert.match(await c.run('CREATE Gr&APwA3w-e'), /^T OK /m);
  assert.match(await c.run('LIST "" Gr*'), /^\* LIST \([^)]*\) "[^"]" Gr&APwA3w-e\r\n/m);
});

test('RFC 9051 Appendix E item 1: what rev2 folds in answers in a rev2 session (NAMESPACE, BINARY, MOVE with COPYUID, UID EXPUNGE, ESEARCH MIN/MAX/COUNT)', async (t) => {
  const h = await harness(t);
  const mime = 'MIME-Version: 1.0\r\nSubject: b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n' + Buffer.from('héllo rev2').toString('base64') + '\r\n';
  await h.deliver(mime);
  await h.deliver(MSG(2));
  await h.deliver(MSG(3));
  await h.mkfolder('Archive2');
  const c = await rev2(h);
  assert.match(await c.run('NAMESPACE'), /^\* NAMESPACE \(\("" "\."\)\) NIL NIL\r\n/m);
  assert.match(await c.run('FETCH 1 (BINARY.SIZE[1])'), /BINARY\.SIZE\[1\] 11\)/);
  assert.match(await c.run('FETCH 1 (BINARY.PEEK[1])'), /BINARY\[1\] ~\{11\}\r\nh\xc3\xa9llo rev2\)/);
  assert.match(await c.run('SEARCH RETURN (MIN MAX COUNT) ALL'), /^\* ESEARCH \(TAG "t\d+"\) MIN 1 MAX 3 COUNT 3\r\n/m);
  const moved = await c.run('MOVE 2 Archive2');
  assert.match(moved, /^\* OK \[COPYUID \d+ 2 1\]/m);
  assert.match(moved, /^\* 2 EXPUNGE\r\n/m);
  await c.run('STORE 1:2 +FLAGS.SILENT (\\Deleted)');
  const expunged = await c.run('UID EXPUNGE 3');
  assert.match(expunged, /^\* 2 EXPUNGE\r\n/m);
  assert.doesNotMatch(expunged, /^\* 1 EXPUNGE/m, 'only the UIDs named');
});
