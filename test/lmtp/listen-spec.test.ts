// Where LMTP (and, once merged, SASL) listens: SPEC parsing, a unix socket
// with its owner, group and mode from the start, a stale one replaced, a live
// one or a regular file left alone, the socket removed on close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { listenOn, parseListenSpec, ListenSpecError } from '../../src/lmtp/listen-spec.js';

test('SPEC: unix:/absolute/path or HOST:PORT', () => {
  assert.deepEqual(parseListenSpec('unix:/var/spool/postfix/private/lmtp'), { kind: 'unix', path: '/var/spool/postfix/private/lmtp' });
  assert.deepEqual(parseListenSpec('127.0.0.1:24'), { kind: 'tcp', host: '127.0.0.1', port: 24 });
  assert.deepEqual(parseListenSpec('[::1]:2424'), { kind: 'tcp', host: '::1', port: 2424 });
  for (const bad of ['unix:relative/path', 'unix:', '24', 'host:99999', 'lmtp:inet:127.0.0.1:24', `unix:/${'x'.repeat(100)}`])
    assert.throws(() => parseListenSpec(bad), ListenSpecError, bad);
});

async function tempDir(t: test.TestContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ls-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

const own = { user: null, group: null, mode: 0o660 };

function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('a unix socket: mode 0660 by default (another mode when asked), owner and group when asked; removed on close', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'lmtp');
  const server = net.createServer((s) => s.destroy());
  const l = await listenOn(server, `unix:${file}`, own);
  assert.equal(l.name, `unix:${file}`);
  const st = await fs.lstat(file);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o660);
  assert.ok(await answers(file));
  assert.deepEqual((await fs.readdir(dir)).sort(), ['lmtp'], 'no temporary name left');
  await l.close();
  await assert.rejects(fs.lstat(file), { code: 'ENOENT' });

  const other = await listenOn(net.createServer(), `unix:${file}`, { user: process.getuid?.() === 0 ? 'nobody' : null, group: process.getuid?.() === 0 ? 'nogroup' : null, mode: 0o600 });
  const st2 = await fs.lstat(file);
  assert.equal(st2.mode & 0o777, 0o600);
  if (process.getuid?.() === 0) {
    const nobody = (await fs.readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('nobody:'))!.split(':');
    assert.equal(st2.uid, Number(nobody[2]));
  }
  await other.close();
});

test('a stale socket (its server was killed) is replaced; a live one, or a file that is not a socket, is refused', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'lmtp');
  // A stale socket: bound, then the process "died" without removing it.
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(file, r));
  await fs.link(file, file + '.keep'); // a second name survives the close's unlink, as a killed server's socket does
  await new Promise<void>((r) => dead.close(() => r()));
  await fs.rename(file + '.keep', file);
  assert.ok((await fs.lstat(file)).isSocket());
  assert.equal(await answers(file), false);
  const l = await listenOn(net.createServer(), `unix:${file}`, own);
  assert.ok(await answers(file), 'the new server answers on the old path');
  // Live: another server on that path is not taken over.
  await assert.rejects(listenOn(net.createServer(), `unix:${file}`, own), /in use by another process/);
  assert.ok(await answers(file));
  await l.close();
  await fs.writeFile(file, 'not a socket');
  await assert.rejects(listenOn(net.createServer(), `unix:${file}`, own), /not a socket/);
  assert.equal(await fs.readFile(file, 'utf8'), 'not a socket');
  await assert.rejects(listenOn(net.createServer(), `unix:${path.join(dir, 'x')}`, { ...own, user: 'no-such-user-here' }), /no such user/);
});

test('TCP: HOST:PORT, port 0 picks one', async () => {
  const l = await listenOn(net.createServer(), '127.0.0.1:0', own);
  assert.match(l.name, /^127\.0\.0\.1:\d+$/);
  assert.ok((l.address as net.AddressInfo).port > 0);
  await l.close();
});
