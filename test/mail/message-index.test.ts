// The message index is a cache that must never serve a wrong record: a torn
// tail or damage is cut off, an unknown file is replaced, and what was
// flushed survives a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { MessageIndex, INDEX_FILE } from '../../src/mail/message-index.js';

const log = pino({ level: 'silent' });

async function tmpdir(t: test.TestContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msgindex-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

const rec = (i: number) => ({ mtimeMs: 1_700_000_000_000 + i, vsize: 1000 + i, summary: Buffer.from(`summary of message ${i} `.repeat(1 + (i % 5))) });

async function filled(dir: string, n: number): Promise<MessageIndex> {
  const idx = new MessageIndex(dir, log);
  await idx.load();
  for (let i = 0; i < n; i++) idx.put(`${1000 + i}.M${i}P1.host`, rec(i));
  await idx.flush();
  return idx;
}

test('records survive a restart; a later record for the same message wins', async (t) => {
  const dir = await tmpdir(t);
  const a = await filled(dir, 50);
  a.put('1000.M0P1.host', { ...rec(0), vsize: 4242 });
  await a.close();
  const b = new MessageIndex(dir, log);
  await b.load();
  assert.equal(b.size, 50);
  assert.equal(b.get('1000.M0P1.host')!.vsize, 4242);
  const r7 = b.get('1007.M7P1.host')!;
  assert.deepEqual({ mtimeMs: r7.mtimeMs, vsize: r7.vsize, summary: r7.summary.toString() }, { ...rec(7), summary: rec(7).summary.toString() });
  assert.equal(b.get('nope'), undefined);
  await b.close();
});

test('a torn tail (kill -9 during a write) is cut off and the records before it kept', async (t) => {
  const dir = await tmpdir(t);
  await (await filled(dir, 20)).close();
  const file = path.join(dir, INDEX_FILE);
  const full = (await fs.stat(file)).size;
  await fs.truncate(file, full - 7);
  const b = new MessageIndex(dir, log);
  await b.load();
  assert.equal(b.size, 19);
  assert.equal(b.get('1019.M19P1.host'), undefined);
  assert.ok((await fs.stat(file)).size < full - 7, 'the partial record is gone from the file');
  b.put('1019.M19P1.host', rec(19));
  await b.close();
  const c = new MessageIndex(dir, log);
  await c.load();
  assert.equal(c.size, 20, 'appends after the cut are readable');
  await c.close();
});

test('a damaged record ends what is trusted; an unknown file is replaced', async (t) => {
  const dir = await tmpdir(t);
  await (await filled(dir, 20)).close();
  const file = path.join(dir, INDEX_FILE);
  const bytes = await fs.readFile(file);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  await fs.writeFile(file, bytes);
  const b = new MessageIndex(dir, log);
  await b.load();
  assert.ok(b.size > 0 && b.size < 20, `records before the damage are kept (${b.size})`);
  for (let i = 0; i < 20; i++) {
    const r = b.get(`${1000 + i}.M${i}P1.host`);
    if (r) assert.equal(r.summary.toString(), rec(i).summary.toString());
  }
  await b.close();
  await fs.writeFile(file, 'not an index at all');
  const c = new MessageIndex(dir, log);
  await c.load();
  assert.equal(c.size, 0);
  await c.close();
});

test('records of expunged messages are dropped, and the file is rewritten when mostly garbage', async (t) => {
  const dir = await tmpdir(t);
  const big = (i: number) => ({ ...rec(i), summary: Buffer.alloc(4096, i) });
  const a = new MessageIndex(dir, log);
  await a.load();
  for (let i = 0; i < 400; i++) a.put(`k${i}`, big(i));
  await a.flush();
  const file = path.join(dir, INDEX_FILE);
  const before = (await fs.stat(file)).size;
  await a.compact(['k1', 'k2', 'k3']);
  assert.equal(a.size, 3);
  assert.ok((await fs.stat(file)).size < before / 10, 'rewritten');
  const b = new MessageIndex(dir, log);
  await b.load();
  assert.deepEqual([b.has('k1'), b.has('k2'), b.has('k3'), b.has('k4')], [true, true, true, false]);
  await Promise.all([a.close(), b.close()]);
});

test('the index file is 0600 whatever the umask: it holds senders and subjects', async (t) => {
  const dir = await tmpdir(t);
  const old = process.umask(0o022);
  try {
    const idx = await filled(dir, 3);
    assert.equal((await fs.stat(path.join(dir, INDEX_FILE))).mode & 0o777, 0o600);
    idx.put('2000.M1P1.host', rec(1));
    await idx.close();
    assert.equal((await fs.stat(path.join(dir, INDEX_FILE))).mode & 0o777, 0o600);
  } finally {
    process.umask(old);
  }
});

test('records are read from the file, not held: leased in runs, or read one by one, and never a wrong one', async (t) => {
  const dir = await tmpdir(t);
  await (await filled(dir, 300)).close();
  const b = new MessageIndex(dir, log);
  await b.load();
  const keys = Array.from({ length: 300 }, (_, i) => `${1000 + i}.M${i}P1.host`);
  const lease = await b.lease(keys.slice(100, 200));
  assert.equal(lease.records.size, 100);
  for (let i = 100; i < 200; i++) assert.equal(lease.records.get(keys[i])!.summary.toString(), rec(i).summary.toString(), `leased record ${i}`);
  lease.release();
  assert.equal(lease.records.size, 0);
  // A released lease's buffer is the next lease's; one not released is nobody else's (a FETCH reads its next batch while it writes this one).
  const next = await b.lease(keys.slice(0, 50));
  const other = await b.lease(keys.slice(200, 300));
  for (let i = 0; i < 50; i++) assert.equal(next.records.get(keys[i])!.summary.toString(), rec(i).summary.toString(), `record ${i} while another lease is out`);
  next.release();
  const third = await b.lease(keys.slice(50, 100));
  for (let i = 200; i < 300; i++) assert.equal(other.records.get(keys[i])!.summary.toString(), rec(i).summary.toString(), `record ${i} after a reuse`);
  for (let i = 50; i < 100; i++) assert.equal(third.records.get(keys[i])!.summary.toString(), rec(i).summary.toString(), `record ${i} in a reused buffer`);
  other.release();
  third.release();
  for (let i = 0; i < 300; i++) assert.equal(b.get(keys[i])!.summary.toString(), rec(i).summary.toString(), `record ${i}`);
  // A file changed under it after the load (a record no longer where it was) is refused when read, and the
  // record forgotten (the message is summarised again). Checksums are checked at load only.
  const c = new MessageIndex(dir, log);
  await c.load();
  const file = path.join(dir, INDEX_FILE);
  const bytes = await fs.readFile(file);
  const at = bytes.indexOf(Buffer.from(keys[250]));
  bytes[at + 3] ^= 0xff; // inside the key
  await fs.writeFile(file, bytes);
  const damaged = await c.lease(keys.slice(240, 260));
  assert.equal(damaged.records.size, 19);
  assert.equal(damaged.records.get(keys[250]), undefined);
  damaged.release();
  assert.equal(c.get(keys[250]), undefined);
  assert.equal(c.has(keys[250]), false);
  assert.equal(c.get(keys[249])!.vsize, rec(249).vsize);
  await Promise.all([b.close(), c.close()]);
});

test('a compaction moves the records to a new file and reads go on from it; puts during it are kept', async (t) => {
  const dir = await tmpdir(t);
  const big = (i: number) => ({ ...rec(i), summary: Buffer.alloc(4096, i % 251) });
  const a = new MessageIndex(dir, log);
  await a.load();
  for (let i = 0; i < 600; i++) a.put(`k${i}`, big(i));
  await a.flush();
  const live = Array.from({ length: 100 }, (_, i) => `k${i * 6}`);
  const compacting = a.compact(live);
  await new Promise((r) => setImmediate(r)); // the dropping is done; the copy is under way
  a.put('late', big(7));
  await compacting;
  await a.flush();
  assert.equal(a.size, 101);
  for (const k of live) assert.equal(a.get(k)!.summary[0], Number(k.slice(1)) % 251, k);
  assert.equal(a.get('late')!.summary[0], 7);
  assert.equal(a.get('k1'), undefined);
  await a.close();
  const file = path.join(dir, INDEX_FILE);
  assert.ok((await fs.stat(file)).size < 101 * 4200, 'the garbage is gone from the file');
  const b = new MessageIndex(dir, log);
  await b.load();
  const lease = await b.lease(['late', ...live]);
  assert.equal(lease.records.size, 101);
  lease.release();
  assert.equal(b.size, 101);
  assert.equal(b.get('k594')!.summary[0], 594 % 251);
  assert.deepEqual((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
  await b.close();
});

test('forEachRecord hands over every record it has, by place, from memory or the file', async (t) => {
  const dir = await tmpdir(t);
  await (await filled(dir, 200)).close();
  const b = new MessageIndex(dir, log);
  await b.load();
  b.put('fresh', rec(500)); // not written yet
  const keys = ['fresh', 'missing', ...Array.from({ length: 200 }, (_, i) => `${1000 + i}.M${i}P1.host`)];
  const seen = new Map<number, string>();
  await b.forEachRecord(keys, (i, buf, start, end, mtimeMs, vsize) => seen.set(i, JSON.stringify({ mtimeMs, vsize, summary: buf.toString('utf8', start, end) })));
  const expected = (r: ReturnType<typeof rec>) => JSON.stringify({ mtimeMs: r.mtimeMs, vsize: r.vsize, summary: r.summary.toString() });
  assert.equal(seen.size, 201);
  assert.equal(seen.get(0), expected(rec(500)));
  assert.equal(seen.has(1), false);
  for (let i = 0; i < 200; i++) assert.equal(seen.get(i + 2), expected(rec(i)), `record ${i}`);
  await b.close();
});
