// BINARY (RFC 3516): FETCH BINARY[part]<partial>, BINARY.PEEK, BINARY.SIZE
// over base64, quoted-printable and identity parts; [UNKNOWN-CTE]; literal8
// answers for content with NUL. In-process on the memory store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

const PAYLOAD = Buffer.from([0x61, 0x00, 0x62, 0x0d, 0x0a, 0xff, 0x63]);
const MSG = [
  'From: a@example.org',
  'Subject: parts',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'caf=C3=A9 soft=',
  'break',
  '--b',
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: base64',
  '',
  PAYLOAD.toString('base64'),
  '--b',
  'Content-Type: text/plain',
  '',
  'plain 7bit',
  '--b',
  'Content-Type: application/x-thing',
  'Content-Transfer-Encoding: x-uuencode',
  '',
  'begin 644 x',
  '--b--',
  '',
].join('\r\n');

test('RFC 3516 §4.2: BINARY.SIZE and BINARY.PEEK undo base64 and quoted-printable; 7bit parts come as they are', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  const c = await h.session();
  const sizes = await c.run('FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[3])');
  assert.match(sizes, /^\* 1 FETCH \(BINARY.SIZE\[1\] 15 BINARY.SIZE\[2\] 7 BINARY.SIZE\[3\] 10\)\r\n/);
  const out = await c.run('FETCH 1 (BINARY.PEEK[1] BINARY.PEEK[3])');
  assert.match(out, /^\* 1 FETCH \(BINARY\[1\] ~\{15\}\r\n/, '8-bit content: a literal8, as Dovecot sends it');
  assert.ok(Buffer.from(out, 'latin1').includes(Buffer.from('caf\u00e9 softbreak', 'utf8')), 'QP decoded, soft line break removed');
  assert.match(out, /BINARY\[3\] \{10\}\r\nplain 7bit\)/);
  assert.match(await c.run('FETCH 1 FLAGS'), /FLAGS \(\\Recent\)/, 'BINARY.PEEK does not set \\Seen');
});

test('RFC 3516 §4.2: content with NUL comes as a literal8 ~{n}; a partial <origin.count> counts decoded bytes', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  const c = await h.session();
  const out = Buffer.from(await c.run('FETCH 1 BINARY.PEEK[2]'), 'latin1');
  const head = Buffer.from('* 1 FETCH (BINARY[2] ~{7}\r\n');
  assert.deepEqual(out.subarray(0, head.length + PAYLOAD.length), Buffer.concat([head, PAYLOAD]), out.toString('latin1'));
  const part = Buffer.from(await c.run('FETCH 1 BINARY.PEEK[2]<1.3>'), 'latin1');
  const want = Buffer.concat([Buffer.from('* 1 FETCH (BINARY[2]<1> ~{3}\r\n'), PAYLOAD.subarray(1, 4), Buffer.from(')\r\n')]);
  assert.deepEqual(part.subarray(0, want.length), want);
  assert.match(await c.run('FETCH 1 BINARY.PEEK[2]<100.5>'), /BINARY\[2\]<100> ~?\{0\}\r\n\)/, 'past the end: empty');
  assert.match(await c.run('FETCH 1 BINARY[3]'), /FLAGS \(\\Seen \\Recent\)/, 'BINARY without PEEK sets \\Seen (§4.2)');
});

test('RFC 3516 §4.3: an encoding the server cannot decode is NO [UNKNOWN-CTE]; BINARY of a part that does not exist is empty', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  const c = await h.session();
  assert.match(await c.run('FETCH 1 BINARY.PEEK[4]'), /^T NO \[UNKNOWN-CTE\] /m);
  assert.match(await c.run('FETCH 1 BINARY.SIZE[4]'), /^T NO \[UNKNOWN-CTE\] /m);
  assert.match(await c.run('FETCH 1 BINARY.PEEK[9]'), /BINARY\[9\] \{0\}\r\n\)/);
  assert.match(await c.run('NOOP'), /^T OK /m);
});

test('RFC 3516 §9: syntax: part numbers only; BINARY.SIZE takes no partial; BINARY[] is the whole message', async (t) => {
  const h = await harness(t);
  await h.deliver(MSG);
  const c = await h.session();
  for (const bad of ['FETCH 1 BINARY[1.MIME]', 'FETCH 1 BINARY[TEXT]', 'FETCH 1 BINARY.SIZE[1]<0.3>', 'FETCH 1 BINARY[0]', 'FETCH 1 BINARY.PEEK[1]<0.0>'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
  assert.match(await c.run('FETCH 1 (BINARY.SIZE[] RFC822.SIZE)'), new RegExp(`BINARY.SIZE\\[\\] ${MSG.length} RFC822.SIZE ${MSG.length}\\)`));
  assert.match(await c.run('CAPABILITY'), / BINARY /);
});
