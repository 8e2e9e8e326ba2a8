// TLS against the real server process: implicit TLS and STARTTLS with
// imapflow, TLS 1.1 refused, input pipelined after STARTTLS dropped, the
// handshake timeout, LOGINDISABLED for clients on the network, and a
// certificate replaced the way certbot does it while a client stays connected.
// Certificates are throwaway ones made with the openssl CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { ImapFlow } from 'imapflow';
import { makeMailTree, startServer, deliver, freePort, type MailTree, type RunningServer } from '../support/server.js';

const HANDSHAKE_MS = 1500;
// Read by the server at start (an internal knob): keeps the timeout test short.
process.env.MAILDIR_IMAPD_TLS_HANDSHAKE_MS = String(HANDSHAKE_MS);

const run = promisify(execFile);
const HOST = 'mail.example.test';

interface TlsSetup {
  tree: MailTree;
  server: RunningServer;
  tlsPort: number;
  /** live/HOST/fullchain.pem and privkey.pem, symlinks into ../../archive/HOST/ as Let's Encrypt lays them out. */
  live: string;
  /** Re-points the live/ symlinks at certificate n, by rename as certbot does; returns its fingerprint. */
  usePair(n: number): Promise<string>;
  fingerprint(n: number): Promise<string>;
}

async function setup(t: test.TestContext, extraArgs: string[] = []): Promise<TlsSetup> {
  const tree = await makeMailTree('mimapd-tls-');
  const archive = path.join(tree.dir, 'tls', 'archive', HOST);
  const live = path.join(tree.dir, 'tls', 'live', HOST);
  await fs.mkdir(archive, { recursive: true });
  await fs.mkdir(live, { recursive: true });
  // Both pairs exist before start: the test harness hands the tree to the service user then.
  for (const n of [1, 2]) {
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${HOST} ${n}`,
      '-keyout', path.join(archive, `privkey${n}.pem`), '-out', path.join(archive, `fullchain${n}.pem`)]);
  }
  const link = async (name: string, n: number) => {
    const tmp = path.join(live, `${name}.tmp`);
    await fs.symlink(`../../archive/${HOST}/${name}${n}.pem`, tmp);
    await fs.rename(tmp, path.join(live, `${name}.pem`));
  };
  const fingerprint = async (n: number) => new X509Certificate(await fs.readFile(path.join(archive, `fullchain${n}.pem`))).fingerprint256;
  const usePair = async (n: number) => {
    await link('fullchain', n);
    await link('privkey', n);
    return fingerprint(n);
  };
  await usePair(1);
  const tlsPort = await freePort();
  const server = await startServer(tree, [
    '--tls-listen', `127.0.0.1:${tlsPort}`,
    '--tls-cert', path.join(live, 'fullchain.pem'),
    '--tls-key', path.join(live, 'privkey.pem'),
    ...extraArgs,
  ]);
  // The service user reloads the files after dropping root, as an operator allows with chgrp/chmod.
  if (process.getuid?.() === 0) await run('chown', ['-R', 'vmail:vmail', path.join(tree.dir, 'tls')]);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  return { tree, server, tlsPort, live, usePair, fingerprint };
}

/** Reads lines from a plain or TLS socket. */
class Lines {
  text = '';
  private waiters: Array<() => void> = [];
  closed = false;
  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('error', () => undefined);
  }

  /** Everything up to and including the first match of `re`, which is consumed. */
  async until(re: RegExp, ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.text);
      if (m) {
        const out = this.text.slice(0, m.index + m[0].length);
        this.text = this.text.slice(m.index + m[0].length);
        return out;
      }
      if (this.closed || Date.now() > deadline) throw new Error(`no ${re} (${this.closed ? 'closed' : 'timeout'}); have ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async command(tag: string, text: string): Promise<string> {
    this.socket.write(`${tag} ${text}\r\n`);
    return this.until(new RegExp(`(?:^|\\r\\n)${tag} (?:OK|NO|BAD)[^\\r]*\\r\\n`));
  }
}

async function plain(port: number, host = '127.0.0.1'): Promise<Lines> {
  const socket = net.connect(port, host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const c = new Lines(socket);
  await c.until(/\r\n/);
  return c;
}

async function secure(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  const socket = tls.connect({ rejectUnauthorized: false, ...options });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  return socket;
}

/** STARTTLS on a connected plain client; returns a reader on the TLS side. */
async function startTls(c: Lines): Promise<{ lines: Lines; socket: tls.TLSSocket }> {
  assert.match(await c.command('s', 'STARTTLS'), /^s OK /);
  const socket = await secure({ socket: c.socket });
  return { lines: new Lines(socket), socket };
}

function flow(port: number, how: { secure: boolean; doSTARTTLS?: boolean }): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port, ...how, tls: { rejectUnauthorized: false }, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true });
}

async function idleHearsDelivery(t: test.TestContext, client: ImapFlow, tree: MailTree): Promise<void> {
  t.after(() => client.logout().catch(() => undefined));
  await client.connect();
  await client.mailboxOpen('INBOX');
  const exists = new Promise<{ count: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no EXISTS within 3 s')), 3000);
    client.once('exists', (d: { count: number }) => {
      clearTimeout(timer);
      resolve(d);
    });
  });
  void client.idle();
  await new Promise((r) => setTimeout(r, 50));
  await deliver(tree.maildir('bob'), 'Subject: over tls\n\nhello\n');
  assert.equal((await exists).count, 2);
}

test('imapflow over implicit TLS logs in, selects INBOX and hears a delivery while idling; the ready line lists imaps://', async (t) => {
  const { tree, server, tlsPort } = await setup(t);
  await deliver(tree.maildir('bob'), 'Subject: one\n\nfirst\n');
  // The banner on stderr (what startServer waits for) can come before the log line on stdout.
  const readyLine = () => server.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; urls?: string[] }).find((l) => l.msg === 'ready');
  for (const end = Date.now() + 10_000; !readyLine() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  const ready = readyLine();
  assert.deepEqual(ready?.urls, [`imap://127.0.0.1:${server.port}`, `imaps://127.0.0.1:${tlsPort}`]);
  await idleHearsDelivery(t, flow(tlsPort, { secure: true }), tree);
});

test('imapflow over STARTTLS does the same, and sees no STARTTLS in the capabilities after it', async (t) => {
  const { tree, server } = await setup(t);
  await deliver(tree.maildir('bob'), 'Subject: one\n\nfirst\n');
  const client = flow(server.port, { secure: false, doSTARTTLS: true });
  await idleHearsDelivery(t, client, tree);
  assert.equal(client.secureConnection, true);
  assert.equal(client.capabilities.has('STARTTLS'), false);
});

test('CAPABILITY offers STARTTLS before TLS and not after; a second STARTTLS is refused', async (t) => {
  const { server, tlsPort } = await setup(t);
  const c = await plain(server.port);
  assert.match(await c.command('a', 'CAPABILITY'), /^\* CAPABILITY IMAP4rev1 .*STARTTLS AUTH=PLAIN AUTH=LOGIN\r\n/);
  const { lines, socket } = await startTls(c);
  const caps = await lines.command('b', 'CAPABILITY');
  assert.doesNotMatch(caps, /STARTTLS|LOGINDISABLED/);
  assert.match(caps, /AUTH=PLAIN/);
  assert.match(await lines.command('c', 'STARTTLS'), /^c BAD /);
  assert.match(await lines.command('d', 'LOGIN bob bob-pass'), /^d OK /);
  socket.destroy();

  const implicit = new Lines(await secure({ port: tlsPort, host: '127.0.0.1' }));
  const greeting = await implicit.until(/\r\n/);
  assert.doesNotMatch(greeting, /STARTTLS/);
  assert.match(await implicit.command('e', 'STARTTLS'), /^e BAD /);
  implicit.socket.destroy();
});

test('TLS 1.1 is refused, on both listeners; TLS 1.2 is accepted', async (t) => {
  const { server, tlsPort } = await setup(t);
  // SECLEVEL=0 lets this client offer TLS 1.1 at all: the refusal must come from the server.
  const old: tls.ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };
  await assert.rejects(secure({ port: tlsPort, host: '127.0.0.1', ...old }), /alert protocol version/);
  const c = await plain(server.port);
  assert.match(await c.command('a', 'STARTTLS'), /^a OK /);
  await assert.rejects(secure({ socket: c.socket, ...old }), /alert protocol version/);

  const ok = await secure({ port: tlsPort, host: '127.0.0.1', maxVersion: 'TLSv1.2' });
  assert.equal(ok.getProtocol(), 'TLSv1.2');
  ok.destroy();
});

test('commands pipelined after STARTTLS in the same packet are discarded, never run after the handshake', async (t) => {
  const { server } = await setup(t);
  const c = await plain(server.port);
  c.socket.write('a STARTTLS\r\nb LOGIN bob bob-pass\r\n');
  assert.equal(await c.until(/^a [^\r]*\r\n/), 'a OK Begin TLS negotiation now\r\n');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(c.text, '', 'nothing more in the clear');
  const s = new Lines(await secure({ socket: c.socket }));
  const caps = await s.command('c', 'CAPABILITY');
  assert.match(await s.command('d', 'SELECT INBOX'), /^d BAD .*before login/);
  await new Promise((r) => setTimeout(r, 100));
  const all = caps + s.text;
  assert.doesNotMatch(all, /(^|\n)b /, 'b was never answered');
  assert.match(await s.command('e', 'LOGIN bob bob-pass'), /^e OK /);
  s.socket.destroy();
});

test('a client that connects and never starts the handshake is closed after the timeout', async (t) => {
  const { server, tlsPort } = await setup(t);
  const closedWithin = async (socket: net.Socket) => {
    const start = Date.now();
    await new Promise((resolve) => socket.once('close', resolve));
    return Date.now() - start;
  };
  const raw = net.connect(tlsPort, '127.0.0.1');
  raw.on('error', () => undefined);
  const c = await plain(server.port);
  c.socket.write('a STARTTLS\r\n');
  await c.until(/^a OK[^\r]*\r\n/);
  const [implicit, starttls] = await Promise.all([closedWithin(raw), closedWithin(c.socket)]);
  assert.ok(implicit < HANDSHAKE_MS + 1500, `implicit TLS closed after ${implicit} ms`);
  assert.ok(starttls < HANDSHAKE_MS + 1500, `STARTTLS closed after ${starttls} ms`);
});

test('a certificate replaced as certbot does it is used by new connections; an open one stays up; SIGHUP reloads', async (t) => {
  const { server, tlsPort, usePair, fingerprint } = await setup(t);
  const first = await fingerprint(1);
  const oldSocket = await secure({ port: tlsPort, host: '127.0.0.1' });
  assert.equal(oldSocket.getPeerCertificate().fingerprint256, first);
  const old = new Lines(oldSocket);
  await old.until(/\r\n/);
  assert.match(await old.command('a', 'LOGIN bob bob-pass'), /^a OK /);

  const second = await usePair(2);
  assert.notEqual(second, first);
  const deadline = Date.now() + 5000;
  while (!server.stdout().includes('"msg":"tls certificate reloaded"')) {
    assert.ok(Date.now() < deadline, 'reload logged within 5 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  const fresh = await secure({ port: tlsPort, host: '127.0.0.1' });
  assert.equal(fresh.getPeerCertificate().fingerprint256, second);
  fresh.destroy();
  const viaStartTls = await startTls(await plain(server.port));
  assert.equal(viaStartTls.socket.getPeerCertificate().fingerprint256, second);
  viaStartTls.socket.destroy();
  assert.match(await old.command('b', 'SELECT INBOX'), /^b OK /m);

  // SIGHUP re-reads the files (the server must not die of it: that is SIGHUP's default).
  server.proc.kill('SIGHUP');
  while (!server.stdout().includes('"reason":"SIGHUP"')) {
    assert.ok(Date.now() < deadline + 5000, 'SIGHUP reload logged');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(await old.command('c', 'NOOP'), /^c OK /m);
  old.socket.destroy();
});

// A client "from the network" without leaving loopback: the operator's trusted
// networks are set to exclude 127.0.0.0/8, so our own 127.0.0.1 client is untrusted.
const UNTRUSTED_LOOPBACK = ['--plaintext-networks', '10.0.0.0/8'];

test('a client outside auth.plaintext_networks sees LOGINDISABLED and is refused a password until STARTTLS', async (t) => {
  const { server } = await setup(t, UNTRUSTED_LOOPBACK);
  const c = await plain(server.port);
  const caps = await c.command('a', 'CAPABILITY');
  assert.match(caps, /STARTTLS LOGINDISABLED\r\n/);
  assert.doesNotMatch(caps, /AUTH=/);
  assert.equal(
    await c.command('b', 'LOGIN bob bob-pass'),
    '* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.\r\n' +
      'b NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n',
  );
  assert.match(await c.command('c', 'AUTHENTICATE PLAIN'), /^c NO \[PRIVACYREQUIRED\] /);
  const { lines, socket } = await startTls(c);
  const after = await lines.command('d', 'CAPABILITY');
  assert.match(after, /AUTH=PLAIN/);
  assert.doesNotMatch(after, /LOGINDISABLED|STARTTLS/);
  assert.match(await lines.command('e', 'LOGIN bob bob-pass'), /^e OK /);
  socket.destroy();
});

test('auth.allow_plaintext lets a client from any network log in without TLS', async (t) => {
  const { server } = await setup(t, [...UNTRUSTED_LOOPBACK, '--allow-plaintext']);
  const c = await plain(server.port);
  assert.match(await c.command('a', 'CAPABILITY'), /STARTTLS AUTH=PLAIN AUTH=LOGIN\r\n/);
  assert.match(await c.command('b', 'LOGIN bob bob-pass'), /^b OK /);
  c.socket.destroy();
});
