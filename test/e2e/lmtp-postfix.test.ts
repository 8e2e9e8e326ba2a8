// A real Postfix hands its virtual domain to maildir-imapd over LMTP
// (`virtual_transport = lmtp:inet:127.0.0.1:PORT`, then `lmtp:unix:PATH`),
// as the Dovecot guides set it up: an idling IMAP session hears EXISTS and
// RECENT for every SMTP delivery, the messages carry Return-Path and
// Delivered-To, user+detail lands in its folder, one SMTP message to two
// users is two copies, and a user Postfix knows but our users file does not
// is bounced with our 550 5.1.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer, freePort } from '../support/server.js';
import { postfixAvailable, startPostfix, sendMail } from '../support/postfix.js';
import { RawImap } from '../support/raw-imap.js';

const DELIVERIES = 20;

async function waitFor<T>(what: string, fn: () => Promise<T | null | false | undefined>, ms = 15_000, detail?: () => Promise<string>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) assert.fail(`${what}${detail ? `\n${await detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('Postfix delivers over LMTP (inet, then a unix socket): IDLE hears each message, headers, +detail, two recipients, unknown user bounced', { skip: !postfixAvailable() && !process.env.CI && 'needs root and Debian postfix (CI installs it)' }, async (t) => {
  const tree = await makeMailTree();
  await fs.chmod(tree.dir, 0o711); // Postfix's lmtp client (user postfix) must reach the socket
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(tree.maildir('bob'), '.Lists', sub), { recursive: true });
  const lmtpPort = await freePort();
  const socket = path.join(tree.dir, 'lmtp.sock');
  const server = await startServer(tree, [
    '--lmtp-listen', `127.0.0.1:${lmtpPort}`,
    '--lmtp-listen', `unix:${socket}`,
    '--lmtp-socket-user', 'postfix',
    '--lmtp-socket-group', 'postfix',
  ]);
  // ghost is a user Postfix accepts mail for, but not one of ours.
  const postfix = await startPostfix({
    mailRoot: path.join(tree.dir, 'mail'),
    stateDir: path.join(tree.dir, 'postfix'),
    users: ['bob', 'alice', 'ghost'],
    virtualTransport: `lmtp:inet:127.0.0.1:${lmtpPort}`,
    recipientDelimiter: '+',
  });
  const imap = await RawImap.connect(server.port);
  t.after(async () => {
    imap.close();
    await postfix.stop();
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const st = await fs.lstat(socket);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o660);

  await imap.command('a', 'LOGIN bob bob-pass');
  await imap.command('b', 'SELECT INBOX');
  imap.send('c IDLE\r\n');
  await imap.readUntil('+ idling\r\n');

  const deliver = async (i: number) => {
    await sendMail(postfix.port, 'carol@example.org', 'bob@localdomain', `From: Carol <carol@example.org>\nTo: bob@localdomain\nSubject: delivery ${i}\n\nbody ${i}\n.leading dot\n`);
    // Heard while idling: the new count, then \Recent (this session is the first read-write one).
    const heard = await imap.readUntil(`* ${i} RECENT\r\n`, 15_000).catch(async (err: Error) => assert.fail(`${err.message}\n${await postfix.log()}`));
    assert.match(heard, new RegExp(`\\* ${i} EXISTS\\r\\n\\* ${i} RECENT\\r\\n$`), `delivery ${i}`);
  };
  for (let i = 1; i <= DELIVERIES; i++) await deliver(i);
  // The same over the unix socket.
  await postfix.postconf({ virtual_transport: `lmtp:unix:${socket}` });
  for (let i = DELIVERIES + 1; i <= DELIVERIES + 5; i++) await deliver(i);
  const total = DELIVERIES + 5;
  // postlogd writes the log a moment later.
  const log = await waitFor('Postfix logs each one as delivered by LMTP', async () => {
    const l = await postfix.log();
    return (l.match(/status=sent \(250 2\.0\.0 <bob@localdomain> Saved\)/g) ?? []).length === total && l;
  }, 5000, () => postfix.log());
  assert.ok(log.includes(`relay=127.0.0.1[127.0.0.1]:${lmtpPort}`), 'over TCP');
  assert.ok(log.includes(`[${socket}], delay=`), 'over the unix socket');

  // +detail: into bob's Lists folder (nobody has it open: the file waits in new/); INBOX hears nothing.
  await sendMail(postfix.port, 'carol@example.org', 'bob+Lists@localdomain', 'Subject: to the list folder\n\nlist mail\n');
  const listsNew = path.join(tree.maildir('bob'), '.Lists', 'new');
  const [listFile] = await waitFor('the +detail message in .Lists/new', async () => {
    const names = await fs.readdir(listsNew);
    return names.length ? names : null;
  }, 15_000, () => postfix.log());
  const listText = await fs.readFile(path.join(listsNew, listFile), 'utf8');
  assert.ok(listText.startsWith('Return-Path: <carol@example.org>\nDelivered-To: bob+Lists@localdomain\n'), listText);
  assert.match(listFile, /,S=\d+,W=\d+$/);

  // One SMTP message to two of our users and one Postfix knows but we do not.
  await sendMail(postfix.port, 'carol@example.org', ['bob@localdomain', 'alice@localdomain', 'ghost@localdomain'], 'Subject: to three\n\nhello all\n');
  await imap.readUntil(`* ${total + 1} RECENT\r\n`, 15_000);
  const aliceNew = path.join(tree.maildir('alice'), 'new');
  const [aliceFile] = await waitFor('the message in alice/new', async () => {
    const names = await fs.readdir(aliceNew);
    return names.length ? names : null;
  });
  assert.match(await fs.readFile(path.join(aliceNew, aliceFile), 'utf8'), /^Return-Path: <carol@example\.org>\nDelivered-To: alice@localdomain\nReceived: /);
  const bounced = await waitFor('ghost bounced', async () => {
    const l = await postfix.log();
    return /to=<ghost@localdomain>.*status=bounced \(host \S+ said: 550 5\.1\.1 <ghost@localdomain> User doesn't exist \(in reply to RCPT TO command\)\)/.exec(l);
  }, 15_000, () => postfix.log());
  assert.ok(bounced);
  await assert.rejects(fs.readdir(path.join(tree.dir, 'mail', 'ghost', 'Maildir', 'new')), { code: 'ENOENT' }, 'nothing written for ghost');

  // What the client reads: the trace fields virtual(8) would have written, CRLF on the wire.
  imap.send('DONE\r\n');
  await imap.readUntil(/c OK[^\r]*\r\n/);
  const fetched = await imap.command('d', 'FETCH 1 (BODY.PEEK[] RFC822.SIZE)');
  assert.match(fetched, /BODY\[\] \{\d+\}\r\nReturn-Path: <carol@example\.org>\r\nDelivered-To: bob@localdomain\r\nReceived: /);
  assert.match(fetched, /\r\nSubject: delivery 1\r\n/);
  assert.match(fetched, /\r\n\r\nbody 1\r\n\.leading dot\r\n RFC822\.SIZE /);
  const size = Number(/RFC822\.SIZE (\d+)/.exec(fetched)![1]);
  const literal = Number(/BODY\[\] \{(\d+)\}/.exec(fetched)![1]);
  assert.equal(size, literal, 'RFC822.SIZE is the CRLF size');
  const uids = await imap.command('e', 'UID SEARCH ALL');
  assert.match(uids, new RegExp(`\\* SEARCH ${Array.from({ length: total + 1 }, (_, i) => i + 1).join(' ')}\\r\\n`), 'UIDs 1.. in order, none reused');
  // Claimed by the session: all in cur/, none left in new/, no temp file.
  assert.equal((await fs.readdir(path.join(tree.maildir('bob'), 'cur'))).length, total + 1);
  assert.deepEqual(await fs.readdir(path.join(tree.maildir('bob'), 'new')), []);
  assert.deepEqual((await fs.readdir(path.join(tree.maildir('bob'), 'tmp'))).filter((n) => !n.startsWith('.')), []);
});
