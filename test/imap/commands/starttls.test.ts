// STARTTLS (RFC 3501 §6.2.1): OK in the clear, then the handshake; afterwards no STARTTLS in CAPABILITY.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { harness, type Client } from '../../support/command-harness.js';
import type { RawImap } from '../../support/raw-imap.js';

/**
 * A throwaway self-signed pair. Removed once the whole file is done: a test's
 * own after-hooks run before the harness has stopped the server, and removing
 * the directory under the server's certificate watcher first left an fs.watch
 * handle open that kept the test process alive (1 run in 8).
 */
const certDirs: string[] = [];
after(() => Promise.all(certDirs.map((d) => fs.rm(d, { recursive: true, force: true }))));

async function certificate(): Promise<{ tlsCert: string; tlsKey: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-starttls-'));
  certDirs.push(dir);
  const tlsCert = path.join(dir, 'cert.pem');
  const tlsKey = path.join(dir, 'key.pem');
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-keyout', tlsKey, '-out', tlsCert]);
  return { tlsCert, tlsKey };
}

/** Runs the handshake on the client's socket; returns a line reader over TLS. */
async function handshake(t: test.TestContext, c: Client): Promise<(cmd: string) => Promise<string>> {
  const raw = (c as unknown as { raw: RawImap }).raw;
  const socket = tls.connect({ socket: raw.socket, rejectUnauthorized: false, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('TLS handshake timed out')), 5000);
    socket.once('secureConnect', () => (clearTimeout(timer), resolve())).once('error', reject);
  });
  t.after(() => socket.destroy());
  let buf = '';
  socket.on('data', (d: Buffer) => (buf += d.toString('latin1')));
  return async (cmd) => {
    socket.write(`x ${cmd}\r\n`);
    const deadline = Date.now() + 5000;
    while (!/(^|\r\n)x (OK|NO|BAD)[^\r]*\r\n$/.test(buf)) {
      if (Date.now() > deadline) throw new Error(`timed out: ${buf}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const out = buf;
    buf = '';
    return out;
  };
}

test('STARTTLS: state errors; BAD without a certificate (RFC 3501 §6.2.1)', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  assert.doesNotMatch(await c.run('CAPABILITY'), /STARTTLS/, 'not offered without a certificate');
  // The text Dovecot gives, then the hint for a client that tried it unasked (fetchmail by default).
  assert.equal(await c.run('STARTTLS'), "T BAD TLS support isn't enabled: this server has no certificate (tls.cert, tls.key); connect without STARTTLS (fetchmail: sslproto '')\r\n");
  const s = await h.session(null);
  assert.match(await s.run('STARTTLS'), /^T BAD STARTTLS is not allowed /m, 'not after login');
});

test('STARTTLS answers OK in the clear, the handshake follows; afterwards STARTTLS is gone and BAD (RFC 3501 §6.2.1)', async (t) => {
  const h = await harness(t, await certificate());
  const c = await h.connect();
  assert.match(await c.run('CAPABILITY'), /^\* CAPABILITY [^\r]* STARTTLS/m);
  assert.equal(await c.run('STARTTLS'), 'T OK Begin TLS negotiation now\r\n');
  const run = await handshake(t, c);
  const caps = await run('CAPABILITY');
  assert.match(caps, /^\* CAPABILITY IMAP4rev1 /m);
  assert.doesNotMatch(caps, /STARTTLS/);
  assert.match(await run('STARTTLS'), /^x BAD /m);
  assert.match(await run('LOGIN bob bob-pass'), /^x OK /m);
  assert.match(await run('STARTTLS'), /^x BAD STARTTLS is not allowed /m, 'not after login');
});

test('STARTTLS with an argument is BAD: RFC 3501 §6.2.1 "Arguments: none"', async (t) => {
  const h = await harness(t, await certificate());
  const c = await h.connect();
  assert.match(await c.run('STARTTLS now'), /^T BAD /m);
});
