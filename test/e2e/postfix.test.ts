// A real Postfix accepts SMTP on 127.0.0.1 and delivers with virtual(8) into
// the Maildirs maildir-imapd serves; an idling imapflow client hears every
// delivery and fetches it as Postfix wrote it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { makeMailTree, startServer } from '../support/server.js';
import { postfixAvailable, startPostfix, sendMail } from '../support/postfix.js';

const DELIVERIES = 20;

test('Postfix delivers 20 messages over SMTP; the idling client hears each one', { skip: !postfixAvailable() && !process.env.CI && 'needs root and Debian postfix (CI installs it)' }, async (t) => {
  const tree = await makeMailTree();
  await fs.chmod(tree.dir, 0o711); // virtual(8) runs as vmail and must reach the Maildirs
  const postfix = await startPostfix({ mailRoot: path.join(tree.dir, 'mail'), stateDir: path.join(tree.dir, 'postfix'), users: ['bob', 'alice'] });
  const server = await startServer(tree);
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true });
  t.after(async () => {
    await client.logout().catch(() => undefined);
    await server.stop();
    await postfix.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  await client.connect();
  await client.mailboxOpen('INBOX');
  const counts: number[] = [];
  client.on('exists', (d: { count: number }) => counts.push(d.count));
  void client.idle();

  for (let i = 1; i <= DELIVERIES; i++) {
    await sendMail(postfix.port, 'carol@example.org', 'bob@localdomain', `From: Carol <carol@example.org>\nTo: bob@localdomain\nSubject: delivery ${i}\n\nbody ${i}\n.leading dot\n`);
    const until = Date.now() + 10_000;
    while (!counts.includes(i)) {
      if (Date.now() > until) assert.fail(`no EXISTS for delivery ${i}; heard ${counts.join(',')}\n${await postfix.log()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  assert.equal(Math.max(...counts), DELIVERIES);

  const last = await client.fetchOne(String(DELIVERIES), { source: true, uid: true });
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
