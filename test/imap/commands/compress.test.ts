// COMPRESS=DEFLATE (RFC 4978), in-process over loopback with a zlib client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { harness, type Client } from '../../support/command-harness.js';
import { DeflateClient } from '../../support/deflate-client.js';
import type { RawImap } from '../../support/raw-imap.js';

const rawOf = (c: Client) => (c as unknown as { raw: RawImap }).raw;

test('COMPRESS: advertised after login only; BAD for another mechanism, no argument, or before login (RFC 4978 §3, §5)', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.doesNotMatch(await pre.run('CAPABILITY'), /COMPRESS/);
  await pre.run('COMPRESS DEFLATE');
  assert.match(pre.status, /^\S+ BAD /);
  const c = await h.session(null);
  assert.match(await c.run('CAPABILITY'), /^\* CAPABILITY .* COMPRESS=DEFLATE( |\r)/m);
  await c.run('COMPRESS LZW');
  assert.match(c.status, /^\S+ BAD /);
  await c.run('COMPRESS');
  assert.match(c.status, /^\S+ BAD /);
  await c.run('COMPRESS DEFLATE extra');
  assert.match(c.status, /^\S+ BAD /);
  // Nothing was switched on by the refusals: plain text still works.
  assert.match(await c.run('NOOP'), /^T OK /m);
});

test('COMPRESS DEFLATE: OK in the clear, then raw DEFLATE both ways; a second COMPRESS is NO [COMPRESSIONACTIVE] (RFC 4978 §3)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: hello\r\n\r\nbody\r\n');
  const c = await h.session(null);
  const z = await DeflateClient.start(rawOf(c).socket);
  const sel = await z.command('a1', 'SELECT INBOX');
  assert.match(sel, /^\* 1 EXISTS\r\n/m);
  assert.match(sel, /^a1 OK \[READ-WRITE\]/m);
  assert.match(await z.command('a2', 'FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]'), /Subject: hello/);
  assert.match(await z.command('a3', 'COMPRESS DEFLATE'), /^a3 NO \[COMPRESSIONACTIVE\] /m);
  assert.match(await z.command('a4', 'NOOP'), /^a4 OK /m, 'the session goes on compressed');
  assert.equal(z.inflateError, null);
});

test('COMPRESS: a command compressed in the same packet as COMPRESS is run (RFC 4978 §3: the client compresses right after the command)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const z = await DeflateClient.start(rawOf(c).socket, 'Z1', 'p1 NOOP\r\np2 LIST "" INBOX\r\n');
  assert.match(await z.readUntil(/p2 OK [^\r]*\r\n/), /^p1 OK [^\r]*\r\n\* LIST \([^)]*\) "." INBOX\r\n/m);
});

test('COMPRESS: responses are compressed (a 100-message FETCH takes a fraction of its plain size on the wire) (RFC 4978 §4)', async (t) => {
  const h = await harness(t);
  for (let i = 0; i < 100; i++) await h.deliver(`From: sender@example.org\r\nSubject: message ${i}\r\n\r\nbody ${i}\r\n`);
  const c = await h.session();
  const z = await DeflateClient.start(rawOf(c).socket);
  const before = z.wireIn;
  const plainBefore = z.plainIn;
  const out = await z.command('f1', 'FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)');
  assert.equal(out.match(/^\* \d+ FETCH /gm)?.length, 100);
  const wire = z.wireIn - before;
  const plain = z.plainIn - plainBefore;
  assert.ok(wire * 4 < plain, `compressed ${wire} bytes vs ${plain} plain`);
});

test('COMPRESS: IDLE updates are flushed at once, each push readable without more input (RFC 4978 §4: sync flush)', async (t) => {
  const h = await harness(t);
  const c = await h.session();
  const z = await DeflateClient.start(rawOf(c).socket);
  z.send('i1 IDLE\r\n');
  await z.readUntil(/^\+ [^\r]*\r\n/m);
  for (let n = 1; n <= 3; n++) {
    const t0 = Date.now();
    await h.deliver(`Subject: push ${n}\r\n\r\nbody\r\n`);
    await z.readUntil(`* ${n} EXISTS\r\n`, 2000);
    assert.ok(Date.now() - t0 < 500, `push ${n} took ${Date.now() - t0} ms`);
  }
  z.send('DONE\r\n');
  assert.match(await z.readUntil(/i1 [^\r]*\r\n/), /i1 OK /);
});

test('COMPRESS: a decompression bomb meets the line limit after inflation; the session goes on (RFC 4978 §6)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const z = await DeflateClient.start(rawOf(c).socket);
  // 64 MiB of one line inflates from ~64 KiB: the line limit answers it, nothing is kept whole.
  const rssBefore = process.memoryUsage().rss;
  const piece = Buffer.alloc(1 << 20, 0x61);
  z.deflater.write('b1 NOOP ');
  for (let i = 0; i < 64; i++) z.deflater.write(piece);
  z.send('\r\n');
  assert.match(await z.readUntil(/\r\n/, 30_000), /BAD [^\r]*too long/i);
  const grown = process.memoryUsage().rss - rssBefore;
  assert.ok(grown < 48 * 1024 * 1024, `RSS grew ${grown} bytes`);
  assert.match(await z.command('b2', 'NOOP'), /^b2 OK /m);
});

test('COMPRESS: input that is not DEFLATE data closes the connection', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const z = await DeflateClient.start(rawOf(c).socket);
  z.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  assert.equal(await c.closed(3000), true);
});

test('COMPRESS: LOGOUT\'s BYE and tagged OK arrive compressed and complete before the close (RFC 4978 §3, RFC 3501 §6.1.3)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const z = await DeflateClient.start(rawOf(c).socket);
  const out = await z.command('o1', 'LOGOUT');
  assert.match(out, /^\* BYE [^\r]*\r\no1 OK [^\r]*\r\n$/);
  assert.equal(await c.closed(3000), true);
});

test('COMPRESS: stays on through UNAUTHENTICATE, and STARTTLS after it is BAD (TLS must be outside compression: RFC 4978 §6)', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-compress-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const tlsCert = path.join(dir, 'cert.pem');
  const tlsKey = path.join(dir, 'key.pem');
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', tlsKey, '-out', tlsCert]);
  const h = await harness(t, { tlsCert, tlsKey });
  const c = await h.session(null);
  const z = await DeflateClient.start(rawOf(c).socket);
  assert.match(await z.command('u1', 'UNAUTHENTICATE'), /^u1 OK /m);
  assert.match(await z.command('u2', 'STARTTLS'), /^u2 BAD STARTTLS after COMPRESS/m);
  assert.match(await z.command('u3', 'LOGIN bob bob-pass'), /^u3 OK /m);
  assert.match(await z.command('u4', 'COMPRESS DEFLATE'), /^u4 NO \[COMPRESSIONACTIVE\] /m);
});

test('COMPRESS: an 8 MiB APPEND literal streams through the inflater to the spool and reads back byte for byte', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const z = await DeflateClient.start(rawOf(c).socket);
  const lines: string[] = [];
  for (let i = 0; lines.length * 40 < 8 * 1024 * 1024; i++) lines.push(`${String(i).padStart(8, '0')} ${'x'.repeat(29)}\r\n`);
  const message = `Subject: big\r\n\r\n${lines.join('')}`;
  z.send(`a1 APPEND INBOX {${message.length}+}\r\n`);
  z.send(message);
  z.send('\r\n');
  const t0 = Date.now();
  assert.match(await z.readUntil(/a1 [^\r]*\r\n/, 30_000), /a1 OK \[APPENDUID \d+ 1\]/);
  t.diagnostic(`APPEND of ${message.length} bytes compressed: ${Date.now() - t0} ms`);
  await z.command('a2', 'SELECT INBOX');
  const t1 = Date.now();
  z.send('a3 FETCH 1 BODY.PEEK[]\r\n');
  const got = await z.readUntil(/a3 OK [^\r]*\r\n/, 30_000);
  t.diagnostic(`FETCH of it compressed: ${Date.now() - t1} ms`);
  assert.ok(got.includes(`BODY[] {${message.length}}\r\n${message})`), 'the same bytes back');
});
