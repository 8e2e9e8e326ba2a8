// A real Postfix accepts SMTP on 127.0.0.1 and delivers with virtual(8) into
// the Maildirs maildir-imapd serves; two idling imapflow clients — one over
// implicit TLS, one over STARTTLS — hear every delivery, and the message is
// fetched as Postfix wrote it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ImapFlow } from 'imapflow';
import { makeMailTree, startServer, freePort } from '../support/server.js';
import { postfixAvailable, startPostfix, sendMail } from '../support/postfix.js';

const DELIVERIES = 20;

test('Postfix delivers 20 messages over SMTP; idling clients over TLS and STARTTLS hear each one', { skip: !postfixAvailable() && !process.env.CI && 'needs root and Debian postfix (CI installs it)' }, async (t) => {
  const tree = await makeMailTree();
  await fs.chmod(tree.dir, 0o711); // virtual(8) runs as vmail and must reach the Maildirs
  const cert = path.join(tree.dir, 'cert.pem');
  const key = path.join(tree.dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const postfix = await startPostfix({ mailRoot: path.join(tree.dir, 'mail'), stateDir: path.join(tree.dir, 'postfix'), users: ['bob', 'alice'] });
  const tlsPort = await freePort();
  const server = await startServer(tree, ['--tls-listen', `127.0.0.1:${tlsPort}`, '--tls-cert', cert, '--tls-key', key]);
  const common = { host: '127.0.0.1', auth: { user: 'bob', pass: 'bob-pass' }, logger: false as const, disableAutoIdle: true, tls: { rejectUnauthorized: false } };
  const viaTls = new ImapFlow({ ...common, port: tlsPort, secure: true });
  const viaStartTls = new ImapFlow({ ...common, port: server.port, secure: false, doSTARTTLS: true });
  t.after(async () => {
    await viaTls.logout().catch(() => undefined);
    await viaStartTls.logout().catch(() => undefined);
    await server.stop();
    await postfix.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const heard = new Map<ImapFlow, number[]>();
  for (const c of [viaTls, viaStartTls]) {
    await c.connect();
    await c.mailboxOpen('INBOX');
    heard.set(c, []);
    c.on('exists', (d: { count: number }) => heard.get(c)!.push(d.count));
    void c.idle();
  }
  assert.ok(viaTls.secureConnection, 'implicit TLS');
  assert.ok(viaStartTls.secureConnection, 'upgraded by STARTTLS');

  for (let i = 1; i <= DELIVERIES; i++) {
    await sendMail(postfix.port, 'carol@example.org', 'bob@localdomain', `From: Carol <carol@example.org>\nTo: bob@localdomain\nSubject: delivery ${i}\n\nbody ${i}\n.leading dot\n`);
    const until = Date.now() + 10_000;
    while (![...heard.values()].every((counts) => counts.includes(i))) {
      if (Date.now() > until) assert.fail(`delivery ${i} not heard: TLS ${heard.get(viaTls)}, STARTTLS ${heard.get(viaStartTls)}\n${await postfix.log()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  for (const counts of heard.values()) assert.deepEqual(counts, Array.from({ length: DELIVERIES }, (_, i) => i + 1), 'one EXISTS per delivery, in order');

  const last = await viaTls.fetchOne(String(DELIVERIES), { source: true, uid: true });
  assert.ok(last && last.source);
  const text = last.source.toString();
  assert.equal(last.uid, DELIVERIES);
  assert.match(text, /^Return-Path: <carol@example.org>\r\nX-Original-To: bob@localdomain\r\nDelivered-To: bob@localdomain\r\n/);
  assert.match(text, /\r\nSubject: delivery 20\r\n/);
  assert.match(text, /\r\n\r\nbody 20\r\n\.leading dot\r\n$/);
  assert.ok(!/[^\r]\n/.test(text), 'every line ends in CRLF on the wire');
  const onDisk = await fs.readdir(path.join(tree.maildir('bob'), 'cur'));
  assert.equal(onDisk.length, DELIVERIES);
});
