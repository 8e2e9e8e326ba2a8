import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseUidlist, Uidlist } from '../../src/mail/uidlist.js';
import { withDotlock } from '../../src/mail/dotlock.js';

async function tmpdir(t: test.TestContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'uidlist-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

test('parse: a stale N header is a lower bound (Dovecot appends without rewriting it)', () => {
  const s = parseUidlist('3 V1795680053 N1 G22b8\n1 W494 :a.vm\n2 :b.vm\n3 :c.vm\n');
  assert.ok(s);
  assert.equal(s.uidValidity, 1795680053);
  assert.equal(s.nextUid, 4);
  assert.deepEqual(s.records.map((r) => [r.uid, r.basename, r.vsize]), [[1, 'a.vm', 494], [2, 'b.vm', null], [3, 'c.vm', null]]);
});

test('parse: a torn last line (crash mid-append) is ignored; unknown ext fields survive', () => {
  const s = parseUidlist('3 V7 N9 Gx\n8 W10 X5 :a\n9 W1');
  assert.ok(s);
  assert.equal(s.records.length, 1);
  assert.deepEqual(s.records[0].ext, ['X5']);
  assert.equal(s.nextUid, 9);
});

test('parse: not version 3 means start afresh', () => {
  assert.equal(parseUidlist('1 123 4\n1 a\n'), null);
});

test('assign appends records and never reuses a UID, even after the file is rewritten by someone else', async (t) => {
  const dir = await tmpdir(t);
  const ul = new Uidlist(dir);
  t.after(() => ul.close());
  const first = await ul.assign([{ basename: 'a', vsize: 10 }, { basename: 'b', vsize: null }]);
  assert.deepEqual(first.records.map((r) => r.uid), [1, 2]);
  // Another server drops b and rewrites the file with a stale header.
  const v = first.state.uidValidity;
  await fs.writeFile(path.join(dir, 'dovecot-uidlist'), `3 V${v} N3 Gx\n1 W10 :a\n`);
  const again = await ul.assign([{ basename: 'a', vsize: null }, { basename: 'c', vsize: 5 }]);
  assert.deepEqual(again.records.map((r) => [r.basename, r.uid]), [['a', 1], ['c', 3]]);
  const text = await fs.readFile(path.join(dir, 'dovecot-uidlist'), 'utf8');
  assert.match(text, /^3 W5 :c$/m);
});

test('a record added by another process meanwhile keeps the UID it was given there', async (t) => {
  const dir = await tmpdir(t);
  const ul = new Uidlist(dir);
  t.after(() => ul.close());
  const { state } = await ul.assign([{ basename: 'a', vsize: null }]);
  await fs.appendFile(path.join(dir, 'dovecot-uidlist'), '7 :z\n');
  const res = await ul.assign([{ basename: 'z', vsize: null }, { basename: 'y', vsize: null }]);
  assert.deepEqual(res.records.map((r) => r.uid), [7, 8]);
  assert.equal(res.state.uidValidity, state.uidValidity);
});

test('rewrite keeps only live records and the next UID', async (t) => {
  const dir = await tmpdir(t);
  const ul = new Uidlist(dir);
  t.after(() => ul.close());
  await ul.assign([{ basename: 'a', vsize: 1 }, { basename: 'b', vsize: 2 }, { basename: 'c', vsize: 3 }]);
  await ul.rewrite(new Map([['a', 1]]));
  const text = await fs.readFile(path.join(dir, 'dovecot-uidlist'), 'utf8');
  assert.match(text, /^3 V\d+ N4 G[0-9a-f]{32}\n1 W1 :a\n$/);
});

test('UIDs past 32 bits: the folder is renumbered from 1 under a greater UIDVALIDITY, in order, ext fields kept', async (t) => {
  const dir = await tmpdir(t);
  await fs.writeFile(path.join(dir, 'dovecot-uidlist'), '3 V1000 N4294967294 Gabc\n4294967292 W10 :a\n4294967293 X1 :b\n');
  const list = new Uidlist(dir);
  // One more fits: UID 4294967294, UIDNEXT 4294967295.
  const one = await list.assign([{ basename: 'c', vsize: 5 }]);
  assert.equal(one.renumbered, undefined);
  assert.deepEqual(one.records.map((r) => r.uid), [4294967294]);
  // The next would make UIDNEXT 4294967296: renumbered.
  const two = await list.assign([{ basename: 'a', vsize: null }, { basename: 'd', vsize: 7 }]);
  assert.ok(two.renumbered);
  assert.equal(two.renumbered.from, 1000);
  assert.ok(two.state.uidValidity > 1000 && two.state.uidValidity <= 0xffffffff);
  assert.deepEqual(two.records.map((r) => [r.uid, r.basename]), [[1, 'a'], [4, 'd']]);
  const onDisk = parseUidlist(await fs.readFile(path.join(dir, 'dovecot-uidlist'), 'utf8'));
  assert.ok(onDisk);
  assert.equal(onDisk.uidValidity, two.state.uidValidity);
  assert.equal(onDisk.nextUid, 5);
  assert.equal(onDisk.guid, 'abc');
  assert.deepEqual(onDisk.records.map((r) => [r.uid, r.basename, r.vsize, r.ext]), [[1, 'a', 10, []], [2, 'b', null, ['X1']], [3, 'c', 5, []], [4, 'd', 7, []]]);
  await list.close();
});

test('dotlock: a lock left by a dead process of ours is taken over at once; a live one is waited for', async (t) => {
  const dir = await tmpdir(t);
  const target = path.join(dir, 'dovecot-uidlist');
  await fs.writeFile(target + '.lock', `999999999:${os.hostname()}\n`);
  const started = Date.now();
  await withDotlock(target, { staleMs: 120_000, timeoutMs: 5000 }, async () => undefined);
  assert.ok(Date.now() - started < 1000);
  // The release unlinks in the background; the lock is a hard link of our template, so
  // writing it before the unlink lands would write into the template and then vanish.
  while (await fs.access(target + '.lock').then(() => true, () => false)) await new Promise((r) => setTimeout(r, 5));
  // A lock whose owner is alive (our parent, the test runner) is not stale: we time out.
  await fs.writeFile(target + '.lock', `${process.ppid}:${os.hostname()}\n`, { flag: 'wx' });
  await assert.rejects(withDotlock(target, { staleMs: 120_000, timeoutMs: 200 }, async () => undefined), /timed out/);
});
