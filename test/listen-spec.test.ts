// The shared "listen on unix:PATH or HOST:PORT" helper: socket mode and owner,
// a stale socket replaced, a live one or a non-socket refused, removal on close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { listenOn, parseListenSpec, isListenSpec } from '../src/listen-spec.js';
import { lookupGroup, lookupUser } from '../src/privileges.js';

async function tmp(t: test.TestContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lspec-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

const echo = () => net.createServer((s) => s.on('error', () => undefined).end('hello\n'));
const hello = (p: string) =>
  new Promise<string>((resolve, reject) => {
    const c = net.connect(p);
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('end', () => resolve(got));
    c.on('error', reject);
  });

test('specs: unix:/absolute/path or HOST:PORT, [v6]:PORT; anything else is refused with the reason', () => {
  assert.deepEqual(parseListenSpec('unix:/var/spool/postfix/private/auth'), { kind: 'unix', path: '/var/spool/postfix/private/auth' });
  assert.deepEqual(parseListenSpec('127.0.0.1:12345'), { kind: 'tcp', host: '127.0.0.1', port: 12345 });
  assert.deepEqual(parseListenSpec('[::1]:24'), { kind: 'tcp', host: '::1', port: 24 });
  assert.throws(() => parseListenSpec('unix:private/auth'), /absolute/);
  assert.throws(() => parseListenSpec('unix:/' + 'a'.repeat(200)), /longer than 107 bytes/);
  assert.ok(!isListenSpec('localhost'));
  assert.ok(!isListenSpec('127.0.0.1:70000'));
});

test('a unix socket is created 0660 (or as asked), works, and is removed on close', async (t) => {
  const dir = await tmp(t);
  const p = path.join(dir, 'auth');
  const old = process.umask(0);
  t.after(() => void process.umask(old));
  const l = await listenOn(echo(), `unix:${p}`);
  assert.equal(l.where, `unix:${p}`);
  assert.equal(l.port, null);
  assert.equal((await fs.stat(p)).mode & 0o777, 0o660, 'default 0660 even with umask 0');
  assert.equal(await hello(p), 'hello\n');
  await l.close();
  await assert.rejects(fs.lstat(p), { code: 'ENOENT' });
  const l2 = await listenOn(echo(), `unix:${p}`, { mode: 0o600 });
  assert.equal((await fs.stat(p)).mode & 0o777, 0o600);
  await l2.close();
});

test('a stale socket (nobody listening) is replaced; a live one, or a file that is not a socket, is refused', async (t) => {
  const dir = await tmp(t);
  const p = path.join(dir, 'auth');
  // A socket left behind by a killed server: bound, never listening, then the process "dies".
  const { execFileSync } = await import('node:child_process');
  execFileSync('python3', ['-c', `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(p)})`]);
  assert.ok((await fs.lstat(p)).isSocket());
  const l = await listenOn(echo(), `unix:${p}`);
  assert.equal(await hello(p), 'hello\n', 'the new server answers on the old path');
  await assert.rejects(listenOn(echo(), `unix:${p}`), /in use by another running server/);
  assert.equal(await hello(p), 'hello\n', 'the running one keeps its socket');
  await l.close();
  const file = path.join(dir, 'notes');
  await fs.writeFile(file, 'keep me');
  await assert.rejects(listenOn(echo(), `unix:${file}`), /exists and is not a socket/);
  assert.equal(await fs.readFile(file, 'utf8'), 'keep me');
});

test('owner and group are applied (as root), unknown names name the key', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async (t) => {
  const dir = await tmp(t);
  const p = path.join(dir, 'auth');
  const user = lookupUser('nobody')!;
  const group = lookupGroup('nogroup') ?? lookupGroup('nobody')!;
  const l = await listenOn(echo(), `unix:${p}`, { owner: 'nobody', group: group.name });
  const st = await fs.stat(p);
  assert.equal(st.uid, user.uid);
  assert.equal(st.gid, group.gid);
  await l.close();
  await assert.rejects(listenOn(echo(), `unix:${p}`, { owner: 'no-such-user-x', keys: { owner: 'sasl.socket_owner', group: 'sasl.socket_group' }, source: '/etc/x.toml' }), /\/etc\/x\.toml: sasl\.socket_owner = "no-such-user-x": no such user/);
  await assert.rejects(fs.lstat(p), { code: 'ENOENT' }, 'nothing left behind by the refusal');
});

test('TCP: the real port is reported when 0 is asked for', async () => {
  const l = await listenOn(echo(), '127.0.0.1:0');
  assert.ok(l.port! > 0);
  assert.equal(l.where, `127.0.0.1:${l.port}`);
  await l.close();
});
