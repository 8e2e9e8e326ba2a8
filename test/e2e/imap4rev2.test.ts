// IMAP4rev2 (RFC 9051) against the real server process: over a raw socket (the
// test checks the bytes), and through imapflow, which enables IMAP4rev2 itself.
// A rev2 session and a rev1 session side by side on the same Maildir, with
// mail arriving as Postfix delivers it. Dovecot 2.3 does not implement rev2, so
// there is no differential test; go-imap v2's imapserver answers the same way
// (ESEARCH for SEARCH, no RECENT at SELECT once IMAP4rev2 is enabled).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { serveTree, deliver } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';
import { ImapFlow } from 'imapflow';

const MSG = (n: number) => `From: a@example.org\r\nSubject: m${n}\r\n\r\nbody ${n}\r\n`;

test('RFC 9051 end to end: ENABLE IMAP4rev2, SELECT with LIST and no RECENT, new mail without \\Recent while idling, ESEARCH, TRYCREATE; a rev1 session beside it unchanged', async (t) => {
  const { tree, server } = await serveTree(t, async (tr) => {
    await deliver(tr.maildir('bob'), MSG(1));
  });
  const maildir = tree.maildir('bob');
  const v2 = await RawImap.connect(server.port);
  t.after(() => v2.close());
  assert.match(await v2.command('a0', 'CAPABILITY'), /^\* CAPABILITY IMAP4rev1 IMAP4rev2 /m);
  await v2.command('a1', 'LOGIN bob bob-pass');
  assert.match(await v2.command('a2', 'ENABLE IMAP4rev2'), /^\* ENABLED IMAP4rev2\r\na2 OK /m);

  // §6.3.2: FLAGS, EXISTS, LIST; no RECENT and no UNSEEN code. The message is still claimed: new/ → cur/.
  const sel = await v2.command('a3', 'SELECT INBOX');
  assert.match(sel, /^\* 1 EXISTS\r\n\* LIST \(\) "\." INBOX\r\n/m);
  assert.doesNotMatch(sel, /RECENT|UNSEEN/);
  assert.deepEqual(await fs.readdir(path.join(maildir, 'new')), [], 'the rev2 session claimed it as rev1 sessions do');
  assert.match(await v2.command('a4', 'FETCH 1 (FLAGS UID)'), /^\* 1 FETCH \(FLAGS \(\) UID 1\)\r\n/m);

  // A delivery while idling: EXISTS, no RECENT (Appendix E).
  v2.send('a5 IDLE\r\n');
  await v2.readUntil(/^\+ /m);
  await deliver(maildir, MSG(2));
  const pushed = await v2.readUntil('* 2 EXISTS\r\n', 10_000);
  v2.send('DONE\r\n');
  const idleEnd = await v2.readUntil(/^a5 OK[^\r]*\r\n/m);
  assert.doesNotMatch(pushed + idleEnd, /RECENT/);
  assert.match(await v2.command('a6', 'FETCH 2 FLAGS'), /^\* 2 FETCH \(FLAGS \(\)\)\r\n/m);

  // §6.4.4 / §7.3.4: SEARCH answers ESEARCH; NEW finds nothing, as the client sees no \Recent.
  assert.match(await v2.command('a7', 'SEARCH ALL'), /^\* ESEARCH \(TAG "a7"\) ALL 1:2\r\na7 OK /m);
  assert.match(await v2.command('a8', 'UID SEARCH SUBJECT m2'), /^\* ESEARCH \(TAG "a8"\) UID ALL 2\r\n/m);
  assert.match(await v2.command('a9', 'SEARCH NEW'), /^\* ESEARCH \(TAG "a9"\)\r\na9 OK /m);

  // §6.3.11: STATUS SIZE is the CRLF size of the messages; DELETED counts \Deleted.
  await v2.command('b1', 'STORE 1 +FLAGS.SILENT (\\Deleted $Forwarded)');
  const size = MSG(1).length + MSG(2).length;
  assert.match(await v2.command('b2', 'STATUS INBOX (MESSAGES SIZE DELETED)'), new RegExp(`^\\* STATUS INBOX \\(MESSAGES 2 SIZE ${size} DELETED 1\\)\r\n`, 'm'));
  assert.match(await v2.command('b3', 'FETCH 1 FLAGS'), /\(FLAGS \([^)]*\$Forwarded[^)]*\)\)/);

  // §6.3.12: APPEND to a folder that does not exist.
  assert.match(await v2.command('b4', 'APPEND Nowhere {5+}\r\nhello'), /^b4 NO \[TRYCREATE\]/m);
  assert.match(await v2.command('b5', 'CREATE Other'), /^b5 OK /m);
  // §7.1: the old mailbox's responses end with OK [CLOSED].
  assert.match(await v2.command('b6', 'SELECT Other'), /^\* OK \[CLOSED\][^\r]*\r\n\* FLAGS /m);

  // The same folder through a session that never enabled IMAP4rev2: RFC 3501 answers.
  const v1 = await RawImap.connect(server.port);
  t.after(() => v1.close());
  await v1.command('c1', 'LOGIN bob bob-pass');
  assert.match(await v1.command('c2', 'EXAMINE INBOX'), /^\* 2 EXISTS\r\n\* 0 RECENT\r\n/m, 'claimed once, by the rev2 session');
  assert.match(await v1.command('c3', 'SEARCH ALL'), /^\* SEARCH 1 2\r\nc3 OK /m);
  await v1.command('c4', 'LOGOUT');
  await v2.command('b7', 'LOGOUT');
});

test('imapflow (a real rev2 client) enables IMAP4rev2 by itself and syncs: search via ESEARCH, no \\Recent, STATUS without RECENT, LIST with special use', async (t) => {
  const { tree, server } = await serveTree(t, async (tr) => {
    await deliver(tr.maildir('bob'), MSG(1));
  });
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true });
  await client.connect();
  t.after(() => client.logout().catch(() => undefined));
  assert.ok(client.enabled.has('IMAP4REV2'), `enabled: ${[...client.enabled].join(' ')}`);
  const lock = await client.getMailboxLock('INBOX');
  try {
    await deliver(tree.maildir('bob'), MSG(2));
    // The watcher announces the file at the next command after it sees it: on a loaded machine
    // that can be after the first NOOP (full run F), so ask again for a while.
    for (let i = 0; i < 100 && !(client.mailbox && client.mailbox.exists === 2); i++) {
      await client.noop();
      if (!(client.mailbox && client.mailbox.exists === 2)) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(client.mailbox && client.mailbox.exists, 2);
    assert.deepEqual(await client.search({ subject: 'm2' }, { uid: true }), [2], 'a plain SEARCH answered with ESEARCH');
    for await (const m of client.fetch('1:*', { flags: true })) assert.ok(!m.flags?.has('\\Recent'), `message ${m.seq}: ${[...(m.flags ?? [])].join(' ')}`);
    await client.messageFlagsAdd('1', ['$Forwarded']);
    const [first] = await client.fetchAll('1', { flags: true });
    assert.ok(first.flags?.has('$Forwarded'));
  } finally {
    lock.release();
  }
  const status = await client.status('INBOX', { messages: true, unseen: true, uidNext: true });
  assert.ok(status, 'STATUS answered');
  assert.equal(status.messages, 2);
  assert.equal(status.uidNext, 3);
  const sent = (await client.list()).find((m) => m.path === 'Sent');
  assert.equal(sent?.specialUse, '\\Sent');
});
