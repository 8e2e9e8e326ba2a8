// The certificate watcher (src/tls.ts): a changed file is reloaded, and
// close() leaves no fs.watch handle behind, even when the certificate's
// directory was deleted just before (with chokidar it did, 1 run in 5-8 of a
// test file, keeping the process alive).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fsCallback, { promises as fs, type FSWatcher } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Certificates } from '../src/tls.js';

const log = pino({ level: 'silent' });

function makePair(dir: string, cn: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
}

/**
 * Every fs.watch() made while `fn` runs, and which are still open after it:
 * a watcher that is not persistent is invisible to the process's handle list,
 * so fs.watch itself is wrapped (ESM importers see it once the builtin's
 * exports are synced).
 */
async function openWatchers(fn: () => Promise<void>): Promise<{ made: number; open: number }> {
  const real = fsCallback.watch;
  const live = new Set<FSWatcher>();
  let made = 0;
  fsCallback.watch = ((...args: Parameters<typeof real>) => {
    const w = real(...args);
    made++;
    live.add(w);
    const close = w.close.bind(w);
    w.close = () => {
      live.delete(w);
      close();
    };
    return w;
  }) as typeof real;
  syncBuiltinESMExports();
  try {
    await fn();
  } finally {
    fsCallback.watch = real;
    syncBuiltinESMExports();
  }
  return { made, open: live.size };
}

test('close() right after the certificate directory was deleted leaves no watch handle (40 rounds)', async (t) => {
  const src = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-certs-'));
  t.after(() => fs.rm(src, { recursive: true, force: true }));
  makePair(src, 'one');
  const { made, open } = await openWatchers(async () => {
    for (let i = 0; i < 40; i++) {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-certs-'));
      for (const f of ['cert.pem', 'key.pem']) await fs.copyFile(path.join(src, f), path.join(dir, f));
      const certs = await Certificates.load(path.join(dir, 'cert.pem'), path.join(dir, 'key.pem'), log);
      await certs.watch();
      await fs.rm(dir, { recursive: true, force: true });
      await certs.close();
    }
    await new Promise((r) => setTimeout(r, 300)); // events of the removals, if anything were still listening
  });
  assert.ok(made >= 40, `${made} watchers made`);
  assert.equal(open, 0, `${open} of ${made} watchers left open`);
});

test('a certificate replaced in its directory is reloaded', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-certs-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  makePair(dir, 'one');
  const certs = await Certificates.load(path.join(dir, 'cert.pem'), path.join(dir, 'key.pem'), log);
  t.after(() => certs.close());
  const first = certs.options.cert as Buffer;
  await certs.watch();
  const reloaded = new Promise<void>((resolve) => certs.onReload(resolve));
  const next = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-certs-'));
  t.after(() => fs.rm(next, { recursive: true, force: true }));
  makePair(next, 'two');
  // As certbot does: new files renamed into place.
  for (const f of ['key.pem', 'cert.pem']) await fs.rename(path.join(next, f), path.join(dir, `${f}.new`)).then(() => fs.rename(path.join(dir, `${f}.new`), path.join(dir, f)));
  await Promise.race([reloaded, new Promise((_, reject) => setTimeout(() => reject(new Error('not reloaded within 3 s')), 3000))]);
  assert.ok(!(certs.options.cert as Buffer).equals(first), 'the new certificate is in use');
  assert.ok((certs.options.cert as Buffer).equals(await fs.readFile(path.join(dir, 'cert.pem'))));
});
