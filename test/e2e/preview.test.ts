// PREVIEW (RFC 8970) on the real server process over a Maildir, and against Dovecot on the same messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { makeMailTree, startServer, type MailTree } from '../support/server.js';
import { dovecotAvailable } from '../support/dovecot.js';
import { differential, seedInOrder, runScript } from '../support/peer-diff.js';

const B64 = Buffer.from('<p>Gr\xfc\xdfe aus <b>Bern</b></p>', 'latin1').toString('base64');

async function seed(tree: MailTree): Promise<void> {
  await seedInOrder(tree, [
    'From: a@example.org\nSubject: plain\n\nHello   there,\n\nthis is the body.\n',
    `From: a@example.org\nSubject: html\nMIME-Version: 1.0\nContent-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\n${B64}\n`,
    'From: a@example.org\nSubject: alt\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="z"\n\n--z\nContent-Type: text/plain\n\nfirst part text\n--z\nContent-Type: application/octet-stream\n\nxxx\n--z--\n',
    `From: a@example.org\nSubject: long\n\n${'word '.repeat(100)}\n`,
  ]);
}

const SCRIPT = ['SELECT INBOX', 'FETCH 1:3 (PREVIEW)', 'UID FETCH 1 (PREVIEW (LAZY))'];

test('PREVIEW on a Maildir: plain, base64 latin-1 HTML, the first part of a multipart; LAZY after it was made (RFC 8970 §3)', { timeout: 30_000 }, async (t) => {
  const tree = await makeMailTree('mimapd-preview-');
  await seed(tree);
  const server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const r = [...(await runScript(server.port, [...SCRIPT, 'FETCH 4 PREVIEW', 'CAPABILITY'])).values()];
  assert.match(r[r.length - 1], / PREVIEW\b/);
  assert.match(r[1], /^\* 1 FETCH \(PREVIEW "Hello there, this is the body\."\)\n\* 2 FETCH \(PREVIEW \{16\}\n/);
  assert.match(r[1], /\n\* 3 FETCH \(PREVIEW "first part text"\)\nT OK$/);
  assert.equal(r[2], '* 1 FETCH (UID 1 PREVIEW "Hello there, this is the body.")\nT OK');
  const long = /PREVIEW "([^"]*)"/.exec(r[3])![1];
  assert.ok(long.length <= 200 && long.startsWith('word word'), long);
});

test('PREVIEW: the same messages give the same previews from us and from Dovecot', { timeout: 90_000 }, async (t) => {
  if (!dovecotAvailable()) return t.skip('dovecot is not installed (apt-get install dovecot-imapd)');
  const diffs = await differential(seed, SCRIPT);
  assert.deepEqual(diffs.filter((d) => !/^\d+ SELECT /.test(d)), []);
});
