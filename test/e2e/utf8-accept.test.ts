// UTF8=ACCEPT (RFC 6855) against the real server process: imapflow enables it
// by itself and then speaks UTF-8 folder names; on disk the folders carry the
// mUTF-7 Maildir++ names Dovecot gives the same folders (checked against the
// Dovecot peer: CREATE "Gr&APwA3w-e.&ZeVnLA-" there makes ".Gr&APwA3w-e.&ZeVnLA-"),
// so a switch between the two servers keeps them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { serveTree } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

test('imapflow enables UTF8=ACCEPT and creates, lists, appends to and selects "Grüße.日本"; the Maildir folder is Dovecot\'s mUTF-7 name (RFC 6855 §3, §4)', async (t) => {
  const { tree, server } = await serveTree(t);
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true });
  await client.connect();
  t.after(() => client.logout().catch(() => undefined));
  assert.ok(client.enabled.has('UTF8=ACCEPT'), 'imapflow turned it on');
  await client.mailboxCreate('Grüße.日本');
  const entries = await fs.readdir(tree.maildir('bob'));
  assert.ok(entries.includes('.Gr&APwA3w-e.&ZeVnLA-'), `on disk: ${entries.join(' ')}`);
  const listed = (await client.list()).map((m) => m.path);
  assert.ok(listed.includes('Grüße.日本'), listed.join(' '));
  const message = 'From: Jörg <j@example.org>\r\nSubject: Grüße\r\n\r\nHallo\r\n';
  await client.append('Grüße.日本', message);
  const lock = await client.getMailboxLock('Grüße.日本');
  try {
    const got = await client.fetchOne('1', { source: true });
    assert.ok(got);
    assert.equal(got.source!.toString('utf8'), message);
  } finally {
    lock.release();
  }
  // A session that did not enable it sees the same folder in modified UTF-7.
  const raw = await RawImap.connect(server.port);
  t.after(() => raw.close());
  await raw.command('a1', 'LOGIN bob bob-pass');
  assert.match(await raw.command('a2', 'LIST "" "Gr*"'), /^\* LIST \([^)]*\) "\." Gr&APwA3w-e\.&ZeVnLA-\r\n/m);
  const status = await raw.command('a3', 'STATUS Gr&APwA3w-e.&ZeVnLA- (MESSAGES)');
  assert.match(status, /MESSAGES 1/);
});
