import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loaderPool, type LoadJob } from '../../src/mail/loader.js';
import { toCrlf } from '../../src/mail/crlf.js';

/** A message of about `size` bytes with LF line ends, different for each `n`. */
function message(n: number, size: number): Buffer {
  const lines = [`Subject: message ${n}`, '', ...Array.from({ length: Math.ceil(size / 60) }, (_, i) => `line ${i} of message ${n} `.padEnd(58, String.fromCharCode(97 + (n % 26))))];
  return Buffer.from(lines.join('\n') + '\n');
}

async function files(t: { after: (fn: () => Promise<void>) => void }, sizes: number[], first: number): Promise<{ jobs: LoadJob[]; want: Buffer[] }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-loader-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const want: Buffer[] = [];
  const jobs: LoadJob[] = [];
  for (const [i, size] of sizes.entries()) {
    const raw = message(first + i, size);
    await fs.writeFile(path.join(dir, `m${i}`), raw);
    want.push(toCrlf(raw));
    jobs.push({ file: path.join(dir, `m${i}`), summary: 'none', data: true, maxData: 1024 * 1024 });
  }
  return { jobs, want };
}

function same(results: Awaited<ReturnType<typeof loaderPool.load>>, want: Buffer[], what: string): void {
  assert.equal(results.length, want.length);
  results.forEach((r, i) => {
    assert.ok(r.ok && r.data, `${what}: message ${i} loaded`);
    assert.ok(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).equals(want[i]), `${what}: message ${i} is its CRLF form`);
  });
}

test('whole messages from the loader threads are right, in shared slabs or (too big for one) buffers of their own, until their batch lets them go', async (t) => {
  // 40 messages of 2-200 KB: requests of 16 overflow a 1 MB slab, so both kinds of result occur.
  const sizes = Array.from({ length: 40 }, (_, i) => 2_000 + ((i * 37_000) % 200_000));
  const a = await files(t, sizes, 0);
  const b = await files(t, sizes, 100);
  const c = await files(t, sizes, 200);
  const releases: Array<() => void> = [];
  const hold = (release: () => void) => releases.push(release);

  const gotA = await loaderPool.load(a.jobs, hold);
  same(gotA, a.want, 'first batch');
  assert.ok(gotA.some((r) => r.ok && r.data && r.data.buffer instanceof SharedArrayBuffer), 'some come in a shared slab');
  assert.ok(gotA.some((r) => r.ok && r.data && !(r.data.buffer instanceof SharedArrayBuffer)), 'some are too big for what is left of one');
  const releaseA = releases.length;
  // A FETCH reads its next batch while it writes this one: the first batch's slabs are nobody else's until released.
  const gotB = await loaderPool.load(b.jobs, hold);
  same(gotA, a.want, 'first batch while the second is read');
  same(gotB, b.want, 'second batch');
  releases.splice(0, releaseA).forEach((r) => r());
  const gotC = await loaderPool.load(c.jobs, hold);
  same(gotB, b.want, 'second batch after the first one\'s slabs were reused');
  same(gotC, c.want, 'third batch, in reused slabs');
  releases.splice(0).forEach((r) => r());

  // Without a holder, every message is a buffer of its own.
  const own = await loaderPool.load(a.jobs);
  same(own, a.want, 'without a holder');
  assert.ok(own.every((r) => r.ok && r.data && !(r.data.buffer instanceof SharedArrayBuffer)));
});

test('a whole message converted in the slab is its CRLF form whatever its line ends: CRLF already, mixed, bare CR, no last newline, long lines, empty', async (t) => {
  const long = 'x'.repeat(5000);
  const texts = [
    'Subject: a\r\n\r\nall CRLF\r\nalready\r\n',
    'Subject: b\n\nall LF\nlines\n',
    'Subject: c\r\n\nmixed\r\nends\nhere',
    '\n\nleading newlines\n',
    `Subject: d\n\n${long}\n${long}\r\n${long}`,
    'bare\rCR\r\rinside\n',
    '',
    '\n',
    '\r\n',
    `${'short\n'.repeat(3000)}`,
  ];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-loader-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const jobs: LoadJob[] = [];
  for (const [i, text] of texts.entries()) {
    await fs.writeFile(path.join(dir, `m${i}`), text);
    jobs.push({ file: path.join(dir, `m${i}`), summary: 'none', data: true, maxData: 1024 * 1024 });
  }
  const releases: Array<() => void> = [];
  const got = await loaderPool.load(jobs, (r) => releases.push(r));
  same(got, texts.map((x) => toCrlf(Buffer.from(x))), 'converted in the slab');
  assert.ok(got.every((r) => !r.ok || r.vsize === r.data!.length), 'the size is the CRLF form\'s');
  releases.forEach((r) => r());
});
