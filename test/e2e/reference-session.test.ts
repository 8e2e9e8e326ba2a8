// The product's reference session, replayed byte for byte over a raw socket:
// 8 messages in INBOX, the client idles, a Postfix-style delivery lands, and
// the client fetches it the way Thunderbird does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeMailTree, startServer, deliver } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/seed-notify.eml');

function filler(i: number): string {
  return `From: Sender ${i} <s${i}@example.org>\nTo: bob@localdomain\nSubject: old ${i}\nDate: Mon, 02 Mar 2026 09:1${i}:00 +0100\nMessage-ID: <old${i}@example.org>\n\nbody ${i}\n`;
}

test('reference session: IDLE push, then Thunderbird-style fetches, byte-exact', async (t) => {
  const tree = await makeMailTree();
  const inbox = tree.maildir('bob');
  for (let i = 1; i <= 8; i++) await fs.writeFile(path.join(inbox, 'cur', `17000000${i}0.M${i}P1.host:2,S`), filler(i));
  const server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });

  const raw = await fs.readFile(FIXTURE);
  assert.equal(raw.length, 606, 'fixture is the 606-byte LF file');
  const crlf = Buffer.from(raw.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
  assert.equal(crlf.length, 625);

  const c = await RawImap.connect(server.port);
  t.after(() => c.close());
  assert.match(await c.command('L1', 'LOGIN bob bob-pass'), /L1 OK/);
  const sel = await c.command('S1', 'SELECT INBOX');
  assert.match(sel, /\* 8 EXISTS\r\n\* 0 RECENT\r\n/);
  assert.match(sel, /S1 OK \[READ-WRITE\]/);

  c.send('I1 IDLE\r\n');
  assert.equal(await c.readUntil('\r\n'), '+ idling\r\n');
  const name = await deliver(inbox, raw);
  // EXISTS and RECENT arrive together, and nothing else.
  assert.equal(await c.readUntil('* 1 RECENT\r\n'), '* 9 EXISTS\r\n* 1 RECENT\r\n');
  c.send('DONE\r\n');
  assert.match(await c.readUntil('\r\n'), /^I1 OK /);
  assert.match(await c.command('N1', 'NOOP'), /^N1 OK/);

  assert.equal(await c.command('F1', 'UID fetch 9:* (FLAGS)'), '* 9 FETCH (UID 9 FLAGS (\\Recent))\r\nF1 OK UID FETCH completed\r\n');

  const fields = 'From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To';
  const headerFields =
    'Message-ID: <71e34fa0-a5b4-40d9-9e18-b665443751ff@localdomain>\r\n' +
    'Date: Sun, 29 Jun 2025 15:47:17 -1000\r\n' +
    'To: bob@localdomain\r\n' +
    'From: alice <alice@localdomain>\r\n' +
    'Subject: notify\r\n' +
    'Content-Type: text/plain; charset=UTF-8; format=flowed\r\n\r\n';
  assert.equal(Buffer.byteLength(headerFields), 232);
  assert.equal(
    await c.command('F2', `UID fetch 9 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (${fields})])`),
    `* 9 FETCH (UID 9 RFC822.SIZE 625 FLAGS (\\Recent) BODY[HEADER.FIELDS (${fields.toUpperCase()})] {232}\r\n${headerFields})\r\nF2 OK UID FETCH completed\r\n`,
  );

  assert.equal(
    await c.command('F3', 'UID fetch 9 (UID RFC822.SIZE BODY.PEEK[])'),
    `* 9 FETCH (UID 9 RFC822.SIZE 625 BODY[] {625}\r\n${crlf.toString('latin1')})\r\nF3 OK UID FETCH completed\r\n`,
  );

  const ct = 'Content-Type: text/plain; charset=UTF-8; format=flowed\r\nContent-Transfer-Encoding: 7bit\r\n\r\n';
  assert.equal(Buffer.byteLength(ct), 91);
  assert.equal(
    await c.command('F4', 'UID fetch 9 (UID BODY.PEEK[HEADER.FIELDS (Content-Type Content-Transfer-Encoding)] BODY.PEEK[TEXT]<0.2048>)'),
    `* 9 FETCH (UID 9 BODY[HEADER.FIELDS (CONTENT-TYPE CONTENT-TRANSFER-ENCODING)] {91}\r\n${ct} BODY[TEXT]<0> {10}\r\nnotify\r\n\r\n)\r\nF4 OK UID FETCH completed\r\n`,
  );

  // PEEK left \Seen unset.
  assert.equal(await c.command('F5', 'UID FETCH 9 (FLAGS)'), '* 9 FETCH (UID 9 FLAGS (\\Recent))\r\nF5 OK UID FETCH completed\r\n');

  c.send('I2 IDLE\r\n');
  assert.equal(await c.readUntil('\r\n'), '+ idling\r\n');
  c.send('DONE\r\n');
  assert.match(await c.readUntil('\r\n'), /^I2 OK /);

  // On disk: the session that claimed \Recent moved it to cur/ with empty flags, and UID 9 is in the uidlist —
  // with its CRLF size only when the file was older than the settle time (issue 13 C.11: a file that may
  // still be being written gets no W that could be wrong; it is whole at once if its ctime passed its mtime).
  const cur = await fs.readdir(path.join(inbox, 'cur'));
  assert.ok(cur.includes(`${name}:2,`), `cur/ holds ${name}:2,`);
  assert.deepEqual(await fs.readdir(path.join(inbox, 'new')), []);
  const uidlist = await fs.readFile(path.join(inbox, 'dovecot-uidlist'), 'utf8');
  assert.match(uidlist, new RegExp(`^9 (W625 )?:${name.replace(/\./g, '\\.')}$`, 'm'));

  // A plain BODY[] (no PEEK) now sets \Seen and says so.
  const f6 = await c.command('F6', 'UID FETCH 9 (BODY[TEXT])');
  assert.match(f6, /FLAGS \(\\Seen \\Recent\)/);
  assert.ok((await fs.readdir(path.join(inbox, 'cur'))).includes(`${name}:2,S`));
  await c.command('L2', 'LOGOUT');
});
