import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withDotlock, LockTimeoutError } from '../../src/mail/dotlock.js';

const OPTS = { staleMs: 120_000, timeoutMs: 2_000 };

test('a lock a RENAME carried into another folder does not block that folder (found by the network fuzzer)', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-lock-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const a = path.join(root, '.Race0');
  const b = path.join(root, '.Race1');
  await fs.mkdir(path.join(a, 'tmp'), { recursive: true });
  const started = Date.now();
  const inner = await withDotlock(path.join(a, 'dovecot-uidlist'), OPTS, async () => {
    // Another session renames the folder while this one holds its uidlist lock.
    await fs.rename(a, b);
    return withDotlock(path.join(b, 'dovecot-uidlist'), OPTS, async () => 'locked');
  });
  assert.equal(inner, 'locked');
  assert.ok(Date.now() - started < 1000, `waited ${Date.now() - started} ms for a lock nobody held`);
});

test('a lock this process holds is still waited for, and times out', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-lock-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  await fs.mkdir(path.join(root, 'tmp'));
  const file = path.join(root, 'dovecot-uidlist');
  let release!: () => void;
  const holding = withDotlock(file, OPTS, () => new Promise<void>((r) => (release = r)));
  await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(withDotlock(file, { ...OPTS, timeoutMs: 300 }, async () => 'taken'), LockTimeoutError);
  release();
  await holding;
  assert.equal(await withDotlock(file, OPTS, async () => 'free'), 'free');
});
