// PREVIEW (RFC 8970): FETCH PREVIEW and PREVIEW (LAZY) on the in-memory store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';
import { PREVIEW_CHARS, previewOf } from '../../../src/mail/preview.js';

const multipart = [
  'Subject: m',
  'MIME-Version: 1.0',
  'Content-Type: multipart/alternative; boundary="b"',
  '',
  '--b',
  'Content-Type: text/html; charset=iso-8859-1',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<html><body><p>Caf=E9   cr=E8me</p>\r\n<p>second &amp; line</p></body></html>',
  '--b',
  'Content-Type: text/plain',
  '',
  'plain alternative',
  '--b--',
  '',
].join('\r\n');

test('PREVIEW is advertised; FETCH PREVIEW is the start of the first text part, decoded, whitespace folded (RFC 8970 §2, §3)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: hello\r\n\r\nHello   there,\r\n\r\nthis is   the body.\r\n');
  await h.deliver(multipart);
  await h.deliver('Subject: att\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n');
  const c = await h.session();
  assert.match(await c.run('CAPABILITY'), / PREVIEW\b/);
  assert.match(await c.run('FETCH 1 PREVIEW'), /^\* 1 FETCH \(PREVIEW "Hello there, this is the body\."\)\r$/m);
  assert.match(await c.run('FETCH 2 (UID PREVIEW)'), /^\* 2 FETCH \(UID 2 PREVIEW \{26\}\r\nCaf\S+ cr\S+me second & line\)\r$/m, 'HTML as text, charset decoded (8-bit: a literal)');
  assert.match(await c.run('FETCH 3 PREVIEW'), /^\* 3 FETCH \(PREVIEW ""\)\r$/m, 'no text part: empty');
});

test('PREVIEW (LAZY) gives NIL until the preview is made, then the text (RFC 8970 §3.2); other modifiers are BAD', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: a\r\n\r\nfirst body\r\n');
  await h.deliver('Subject: b\r\n\r\nsecond body\r\n');
  const c = await h.session();
  assert.match(await c.run('FETCH 1 (PREVIEW (LAZY))'), /^\* 1 FETCH \(PREVIEW NIL\)\r$/m);
  assert.match(await c.run('FETCH 1 (PREVIEW (LAZY) UID)'), /^\* 1 FETCH \(PREVIEW "first body" UID 1\)\r$/m);
  await c.run('FETCH 2 PREVIEW');
  assert.match(await c.run('FETCH 2 PREVIEW (LAZY)'), /^\* 2 FETCH \(PREVIEW "second body"\)\r$/m, 'the list after a lone PREVIEW is its modifier');
  for (const bad of ['FETCH 1 (PREVIEW (FUZZY))', 'FETCH 1 (PREVIEW (LAZY x))', 'FETCH 1 (PREVIEW ("LAZY"))']) assert.match(await c.run(bad), /^T BAD /m, bad);
});

test(`previewOf: at most ${PREVIEW_CHARS} characters, never half a surrogate pair (RFC 8970 §2: 256 at most)`, () => {
  const long = previewOf(Buffer.from(`Subject: x\r\n\r\n${'😀'.repeat(300)}\r\n`));
  assert.equal(Array.from(long).length, PREVIEW_CHARS);
  assert.ok(!/[\uD800-\uDBFF]$/.test(long));
  assert.equal(previewOf(Buffer.from('Subject: x\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nnot this\r\n--z\r\nContent-Type: text/plain\r\n\r\nbut this\r\n--z--\r\n')), 'but this');
});
