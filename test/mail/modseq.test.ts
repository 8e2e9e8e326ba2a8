import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModseqStore } from '../../src/mail/modseq.js';

async function tmpdir(t: test.TestContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'modseq-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

test('modseqs rise on new messages and flag changes, and survive a restart', async (t) => {
  const dir = await tmpdir(t);
  const a = new ModseqStore(dir);
  await a.load(42);
  const m1 = a.modseqFor(1, '');
  const m2 = a.modseqFor(2, 'S');
  assert.ok(m2 > m1);
  assert.equal(a.modseqFor(1, ''), m1, 'unchanged flags keep their modseq');
  const m3 = a.modseqFor(1, 'F');
  assert.ok(m3 > m2);
  const x = a.expunge(2);
  assert.ok(x > m3);
  await a.durable();

  const b = new ModseqStore(dir);
  await b.load(42);
  assert.equal(b.modseqFor(1, 'F'), m3);
  assert.deepEqual(b.expungedSince(m3), [2]);
  assert.deepEqual(b.expungedSince(x), []);
  assert.ok(b.highestModseq >= x);
  assert.ok(b.modseqFor(3, '') > x);
});

test('after a crash that lost the last lines, HIGHESTMODSEQ is still above anything handed out', async (t) => {
  const dir = await tmpdir(t);
  const a = new ModseqStore(dir);
  await a.load(7);
  let last = 0;
  for (let i = 1; i <= 1700; i++) last = a.modseqFor(i, '');
  await a.durable();
  // Drop the record lines after the header and reservations: the crash lost them.
  const file = path.join(dir, 'maildir-imapd-modseq');
  const kept = (await fs.readFile(file, 'utf8')).split('\n').filter((l) => /^[VR] /.test(l));
  await fs.writeFile(file, kept.join('\n') + '\n');
  const b = new ModseqStore(dir);
  await b.load(7);
  assert.ok(b.highestModseq >= last, `${b.highestModseq} >= ${last}`);
  assert.ok(b.modseqFor(1, '') > last);
});

test('a new UIDVALIDITY starts afresh', async (t) => {
  const dir = await tmpdir(t);
  const a = new ModseqStore(dir);
  await a.load(1);
  a.modseqFor(1, 'S');
  await a.durable();
  const b = new ModseqStore(dir);
  await b.load(2);
  assert.deepEqual(b.expungedSince(0), []);
});

test('the log is read row by row as written: damaged rows are skipped, a torn last row ignored, the reservation respected', async (t) => {
  const dir = await tmpdir(t);
  const rows = ['V 7', 'R 2000', '1 10 S', '2 11 ', '3 12', 'x 3 13', 'garbage here', '4 x5 S', '5 14 FS', '1 15 RS', '6 99999999999999999999 S', 'x 9', '7 16 T'];
  await fs.writeFile(path.join(dir, 'maildir-imapd-modseq'), rows.join('\n') + '\n8 17 S'); // the last row has no newline: torn
  const s = new ModseqStore(dir);
  await s.load(7);
  assert.deepEqual(s.liveUids().sort((a, b) => a - b), [1, 2, 5, 7]);
  assert.equal(s.modseqFor(1, 'RS'), 15, 'a later row wins');
  assert.equal(s.modseqFor(2, ''), 11);
  assert.equal(s.modseqFor(5, 'FS'), 14);
  assert.equal(s.modseqFor(7, 'T'), 16);
  assert.deepEqual(s.expungedSince(12), [3]);
  assert.ok(s.highestModseq >= 2000, 'modseqs up to the reservation may have been shown: none is reused');
  assert.ok(s.modseqFor(8, 'S') > 2000, 'the torn row is gone; the message gets a new modseq');
});
