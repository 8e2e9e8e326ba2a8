// UTF8=ACCEPT (RFC 6855): after ENABLE, mailbox names are UTF-8 on the wire for
// that session (the store keeps Dovecot's mUTF-7 spelling), quoted strings may
// hold UTF-8, and APPEND takes the UTF8 (~{n}) data item.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** Responses are read as latin1 by the test client: back to UTF-8 text. */
const utf8 = (s: string) => Buffer.from(s, 'latin1').toString('utf8');

test('ENABLE UTF8=ACCEPT: advertised, enabled once, and only in the authenticated state (RFC 6855 §3)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  assert.match(await c.run('CAPABILITY'), /^\* CAPABILITY .* UTF8=ACCEPT( |\r)/m);
  assert.equal(await c.run('ENABLE UTF8=ACCEPT'), '* ENABLED UTF8=ACCEPT\r\nT OK ENABLE completed\r\n');
  assert.equal(await c.run('ENABLE utf8=accept'), '* ENABLED\r\nT OK ENABLE completed\r\n', 'already enabled');
  const selected = await h.session('INBOX');
  assert.equal(await selected.run('ENABLE UTF8=ACCEPT'), '* ENABLED\r\nT OK ENABLE completed\r\n', 'not while a folder is selected');
  assert.match(await selected.run('CREATE "Grüße"'), /^T NO .*mUTF-7/m, 'so names stay mUTF-7 there');
});

test('UTF8=ACCEPT: a UTF-8 name is stored in mUTF-7 as Dovecot keeps it; each session reads it in its own form (RFC 6855 §3, RFC 3501 §5.1.3)', async (t) => {
  const h = await harness(t);
  const u = await h.session(null);
  await u.run('ENABLE UTF8=ACCEPT');
  assert.match(await u.run('CREATE "Grüße"'), /^T OK /m);
  assert.match(await u.run('CREATE "Grüße.日本"'), /^T OK /m);
  assert.ok(await h.mail.mailbox('Gr&APwA3w-e'), 'the store name is mUTF-7');
  assert.ok(await h.mail.mailbox('Gr&APwA3w-e.&ZeVnLA-'));
  const list = utf8(await u.run('LIST "" "*"'));
  assert.match(list, /^\* LIST \([^)]*\) "\." "Grüße"\r\n/m);
  assert.match(list, /^\* LIST \([^)]*\) "\." "Grüße\.日本"\r\n/m);
  assert.doesNotMatch(list, /&/, 'no mUTF-7 to a UTF8=ACCEPT session');
  const plain = await h.session(null);
  assert.match(await plain.run('LIST "" "*"'), /^\* LIST \([^)]*\) "\." Gr&APwA3w-e\r\n/m);
  // Patterns are UTF-8 too, and match the names as this session reads them.
  assert.match(utf8(await u.run('LIST "" "Grü%"')), /^\* LIST \([^)]*\) "\." "Grüße"\r\n(?!\* LIST)/m);
  assert.match(utf8(await u.run('LIST "Grüße." "%"')), /"Grüße\.日本"/);
});

test('UTF8=ACCEPT: SELECT, STATUS, RENAME, SUBSCRIBE/LSUB, COPY and DELETE take and give UTF-8 names (RFC 6855 §3)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: m\r\n\r\nbody\r\n');
  const u = await h.session(null);
  await u.run('ENABLE UTF8=ACCEPT');
  await u.run('CREATE "Ünïcode"');
  assert.match(utf8(await u.run('STATUS "Ünïcode" (MESSAGES)')), /^\* STATUS "Ünïcode" \(MESSAGES 0\)\r\n/m);
  await u.run('SELECT INBOX');
  assert.match(await u.run('COPY 1 "Ünïcode"'), /^T OK /m);
  assert.match(utf8(await u.run('SELECT "Ünïcode"')), /^\* 1 EXISTS\r\n/m);
  await u.run('UNSELECT');
  assert.match(await u.run('SUBSCRIBE "Ünïcode"'), /^T OK /m);
  assert.match(utf8(await u.run('LSUB "" "Ü*"')), /^\* LSUB \(\) "\." "Ünïcode"\r\n/m);
  assert.match(await u.run('RENAME "Ünïcode" "Ωmega"'), /^T OK /m);
  assert.match(utf8(await u.run('LIST "" "*" RETURN (STATUS (MESSAGES))')), /^\* STATUS "Ωmega" \(MESSAGES 1\)\r\n/m);
  assert.match(await u.run('DELETE "Ωmega"'), /^T OK /m);
  assert.equal(await h.mail.mailbox('&A6k-mega'), null);
});

test('UTF8=ACCEPT: "&" is an ordinary character, composed and decomposed spellings name one folder (NFC, RFC 6855 §3 / RFC 5198)', async (t) => {
  const h = await harness(t);
  const u = await h.session(null);
  await u.run('ENABLE UTF8=ACCEPT');
  assert.match(await u.run('CREATE "R&D"'), /^T OK /m);
  assert.ok(await h.mail.mailbox('R&-D'));
  assert.match(await u.run('CREATE "&AOQ-"'), /^T OK /m, 'an mUTF-7 lookalike is taken literally');
  assert.match(utf8(await u.run('LIST "" "&*"')), /^\* LIST \([^)]*\) "\." &AOQ-\r\n/m);
  await u.run('CREATE "Cafe\u0301"'); // e + combining acute
  assert.match(utf8(await u.run('STATUS "Caf\u00e9" (MESSAGES)')), /^\* STATUS "Café" \(MESSAGES 0\)/m);
});

test('UTF8=ACCEPT: control characters, LINE SEPARATOR and PARAGRAPH SEPARATOR are refused in names (RFC 6855 §3)', async (t) => {
  const h = await harness(t);
  const u = await h.session(null);
  await u.run('ENABLE UTF8=ACCEPT');
  for (const bad of ['a\u0085b', 'a\u2028b', 'a\u2029b', 'a\u007fb']) {
    await u.run(`CREATE "${bad}"`);
    assert.match(u.status, /^\S+ BAD /, JSON.stringify(bad));
  }
});

test('UTF8=ACCEPT: SEARCH with CHARSET is BAD, without it UTF-8 quoted strings search (RFC 6855 §3)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\r\nbody\r\n');
  const u = await h.session(null);
  await u.run('ENABLE UTF8=ACCEPT');
  await u.run('SELECT INBOX');
  await u.run('SEARCH CHARSET UTF-8 SUBJECT "Grüße"');
  assert.match(u.status, /^\S+ BAD /);
  assert.match(await u.run('SEARCH SUBJECT "Grüße"'), /^\* SEARCH 1\r\n/m);
});

test('APPEND with the UTF8 data item: ~{n} literal8, only after ENABLE (RFC 6855 §4)', async (t) => {
  const h = await harness(t);
  const message = 'From: Jörg <jörg@bücher.example>\r\nSubject: Grüße\r\n\r\nHallo\r\n';
  const n = bytes(message);
  const plain = await h.session(null);
  await plain.run(`APPEND INBOX UTF8 (~{${n}+}\r\n${message})`);
  assert.match(plain.status, /^\S+ BAD .*ENABLE/);
  await plain.run(`APPEND INBOX ~{${n}+}\r\n${message}`);
  assert.match(plain.status, /^\S+ OK /, 'a bare literal8 is BINARY\'s APPEND (RFC 3516 §4.4), taken without UTF8=ACCEPT');
  const u = await h.session(null);
  await u.run('ENABLE UTF8=ACCEPT');
  await u.run('CREATE "Grüße"');
  assert.match(await u.run(`APPEND "Grüße" (\\Seen) UTF8 (~{${n}+}\r\n${message})`), /^T OK \[APPENDUID \d+ 1\] /m);
  await u.run('SELECT "Grüße"');
  const got = await u.run('FETCH 1 (FLAGS BODY.PEEK[])');
  assert.match(got, /FLAGS \(\\Seen[ )]/);
  assert.ok(Buffer.from(got, 'latin1').includes(Buffer.from(message, 'utf8')), 'stored byte for byte');
  await u.run(`APPEND INBOX UTF8 ({${n}+}\r\n${message})`);
  assert.match(u.status, /^\S+ BAD /, 'UTF8 takes a literal8, not a literal');
});
