// COMPRESS=DEFLATE (RFC 4978) against the real server process: imapflow (which
// compresses whenever the server offers it) over plain TCP and inside implicit
// TLS, IDLE pushes arriving compressed as fast as plain ones, and a
// decompression bomb that leaves the server's memory where it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { serveTree, deliver, freePort, makeMailTree, startServer } from '../support/server.js';
import { performance } from 'node:perf_hooks';
import { DeflateClient } from '../support/deflate-client.js';

const run = promisify(execFile);

const compressing = (c: ImapFlow) => Boolean((c as unknown as { _deflate?: unknown })._deflate);

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** A raw session logged in as bob, COMPRESS on, INBOX selected, IDLE running. */
async function compressedIdle(port: number): Promise<DeflateClient> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  const until = (re: RegExp) =>
    new Promise<void>((resolve) => {
      const on = (d: Buffer) => {
        text += d.toString('latin1');
        if (re.test(text)) (socket.off('data', on), resolve());
      };
      socket.on('data', on);
    });
  const loggedIn = until(/l1 OK [^\r]*\r\n/);
  socket.write('l1 LOGIN bob bob-pass\r\n');
  await loggedIn;
  const z = await DeflateClient.start(socket, 'z1');
  assert.match(await z.command('s1', 'SELECT INBOX'), /^s1 OK /m);
  z.send('i1 IDLE\r\n');
  await z.readUntil(/^\+ [^\r]*\r\n/m);
  return z;
}

test('imapflow negotiates COMPRESS=DEFLATE and works through it: APPEND and FETCH of a 300 KB message byte for byte, LIST, IDLE push (RFC 4978)', async (t) => {
  const { tree, server } = await serveTree(t);
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true });
  await client.connect();
  t.after(() => client.logout().catch(() => undefined));
  assert.ok(compressing(client), 'imapflow compresses once the server offers it');
  const body = Array.from({ length: 6000 }, (_, i) => `line ${i} of a long and repetitive body\r\n`).join('');
  const message = `From: a@example.org\r\nSubject: big\r\n\r\n${body}`;
  await client.append('INBOX', message);
  const lock = await client.getMailboxLock('INBOX');
  try {
    const got = await client.fetchOne('1', { source: true });
    assert.ok(got);
    assert.equal(got.source!.toString('latin1'), message);
    const exists = new Promise<number>((resolve) => client.on('exists', (e: { count: number }) => resolve(e.count)));
    const idle = client.idle();
    await new Promise((r) => setTimeout(r, 200));
    await deliver(tree.maildir('bob'), 'Subject: pushed\r\n\r\nhi\r\n');
    assert.equal(await exists, 2);
    void idle;
  } finally {
    lock.release();
  }
  assert.ok((await client.list()).some((m) => m.path === 'INBOX'));
});

test('COMPRESS inside implicit TLS with imapflow (RFC 4978 §6: TLS first, compression within it)', async (t) => {
  const tree = await makeMailTree('mimapd-compress-tls-');
  const certDir = path.join(tree.dir, 'tls');
  await fs.mkdir(certDir);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem')]);
  if (process.getuid?.() === 0) await run('chown', ['-R', 'vmail:vmail', certDir]);
  const tlsPort = await freePort();
  const server = await startServer(tree, ['--tls-listen', `127.0.0.1:${tlsPort}`, '--tls-cert', path.join(certDir, 'cert.pem'), '--tls-key', path.join(certDir, 'key.pem')]);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  await deliver(tree.maildir('bob'), 'Subject: over tls\r\n\r\nsecret body\r\n');
  const client = new ImapFlow({ host: '127.0.0.1', port: tlsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true });
  await client.connect();
  t.after(() => client.logout().catch(() => undefined));
  assert.ok(compressing(client));
  const lock = await client.getMailboxLock('INBOX');
  try {
    const got = await client.fetchOne('1', { source: true, envelope: true });
    assert.ok(got);
    assert.equal(got.envelope?.subject, 'over tls');
    assert.match(got.source!.toString(), /secret body/);
  } finally {
    lock.release();
  }
  // Many whole messages at once: the server sends them as views of its loader's shared memory,
  // through deflate and TLS here, through TLS alone below. Every byte must arrive as it is.
  const bodies = new Map<string, string>();
  for (let i = 0; i < 40; i++) {
    const text = `From: a@example.org\nSubject: many ${i}\n\n${`line ${i} of message ${i}, long enough to be sent as it is\n`.repeat(100 + i * 40)}`;
    bodies.set(`many ${i}`, text.replace(/\n/g, '\r\n'));
    await deliver(tree.maildir('bob'), text);
  }
  for (const compress of [true, false]) {
    const c = compress ? client : new ImapFlow({ host: '127.0.0.1', port: tlsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true, disableCompression: true });
    if (!compress) {
      await c.connect();
      t.after(() => c.logout().catch(() => undefined));
      assert.ok(!compressing(c));
    }
    const l = await c.getMailboxLock('INBOX');
    try {
      // Until every delivery is announced.
      for (const until = Date.now() + 10_000; (c.mailbox as { exists: number }).exists < 41 && Date.now() < until; ) await c.noop();
      let seen = 0;
      for await (const m of c.fetch('2:*', { source: true, envelope: true })) {
        assert.equal(m.source!.toString('latin1'), bodies.get(m.envelope!.subject!), `${m.envelope!.subject} ${compress ? 'compressed' : 'plain'} over TLS`);
        seen++;
      }
      assert.equal(seen, 40);
    } finally {
      l.release();
    }
  }
});

test('IDLE push latency: compressed as quick as plain (p50 over 15 deliveries each)', async (t) => {
  const { tree, server } = await serveTree(t);
  const z = await compressedIdle(server.port);
  const plain = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true, disableCompression: true });
  await plain.connect();
  t.after(() => plain.logout().catch(() => undefined));
  assert.ok(!compressing(plain));
  const lock = await plain.getMailboxLock('INBOX');
  const plainCounts: Array<(n: number) => void> = [];
  plain.on('exists', (e: { count: number }) => plainCounts.shift()?.(e.count));
  void plain.idle();
  await new Promise((r) => setTimeout(r, 200));
  const zMs: number[] = [];
  const pMs: number[] = [];
  for (let n = 1; n <= 15; n++) {
    const plainHeard = new Promise<number>((resolve) => plainCounts.push(resolve));
    const t0 = performance.now();
    await deliver(tree.maildir('bob'), `Subject: ${n}\r\n\r\nx\r\n`);
    const zDone = z.readUntil(`* ${n} EXISTS\r\n`).then(() => zMs.push(performance.now() - t0));
    const pDone = plainHeard.then(() => pMs.push(performance.now() - t0));
    await Promise.all([zDone, pDone]);
  }
  lock.release();
  const p50 = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  t.diagnostic(`push p50: compressed ${p50(zMs).toFixed(2)} ms, plain ${p50(pMs).toFixed(2)} ms`);
  // Both hear the same watcher event; the compressed one pays a zlib round trip, never a wait for more output.
  assert.ok(p50(zMs) < p50(pMs) + 20, `compressed ${p50(zMs)} ms vs plain ${p50(pMs)} ms`);
});

test('a decompression bomb (256 MiB of one line from ~256 KiB) is refused by the line limit; server RSS stays put (RFC 4978 §6)', async (t) => {
  const { server } = await serveTree(t);
  const z = await compressedIdle(server.port);
  z.send('DONE\r\n');
  await z.readUntil(/i1 OK [^\r]*\r\n/);
  const before = rssKiB(server.proc.pid!);
  const piece = Buffer.alloc(1 << 20, 0x61);
  z.deflater.write('b1 NOOP ');
  for (let i = 0; i < 256; i++) z.deflater.write(piece);
  z.send('\r\n');
  assert.match(await z.readUntil(/\r\n/, 60_000), /BAD [^\r]*too long/i);
  assert.match(await z.command('b2', 'NOOP'), /^b2 OK /m, 'the session goes on');
  const grownKiB = rssKiB(server.proc.pid!) - before;
  t.diagnostic(`server RSS grew ${grownKiB} KiB`);
  assert.ok(grownKiB < 64 * 1024, `server RSS grew ${grownKiB} KiB`);
});
