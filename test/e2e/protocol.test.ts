// Protocol behaviour a client relies on, over a raw socket against the real
// process: pipelining after DONE, a command instead of DONE, limits, bad
// input, folders, AUTHENTICATE, and a graceful SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer, deliver, type MailTree, type RunningServer } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

async function setup(t: test.TestContext): Promise<{ tree: MailTree; server: RunningServer; c: RawImap }> {
  const tree = await makeMailTree();
  await deliver(tree.maildir('bob'), 'Subject: one\n\nfirst\n');
  const server = await startServer(tree);
  const c = await RawImap.connect(server.port);
  t.after(async () => {
    c.close();
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  return { tree, server, c };
}

test('DONE and the next command in one packet (as iOS sends them) are both answered', async (t) => {
  const { c } = await setup(t);
  await c.command('a', 'LOGIN bob bob-pass');
  await c.command('b', 'SELECT INBOX');
  c.send('c IDLE\r\n');
  await c.readUntil('+ idling\r\n');
  c.send('DONE\r\nd NOOP\r\n');
  assert.match(await c.readUntil(/d OK[^\r]*\r\n/), /^c OK [^\r]*\r\nd OK/);
});

test('a tagged command sent instead of DONE ends IDLE and is answered', async (t) => {
  const { c } = await setup(t);
  await c.command('a', 'LOGIN bob bob-pass');
  await c.command('b', 'SELECT INBOX');
  c.send('c IDLE\r\n');
  await c.readUntil('+ idling\r\n');
  c.send('d UID FETCH 1 (FLAGS)\r\n');
  const out = await c.readUntil(/d OK[^\r]*\r\n/);
  assert.match(out, /^c OK [^\r]*\r\n\* 1 FETCH \(UID 1 FLAGS \(\\Recent\)\)\r\nd OK/);
});

test('bad input gets BAD or NO and the connection stays usable', async (t) => {
  const { c } = await setup(t);
  assert.match(await c.command('a', 'FROB'), /^a BAD /);
  assert.match(await c.command('b', 'SELECT INBOX'), /^b BAD .*before login/);
  assert.match(await c.command('c', 'LOGIN "bob" "unterminated'), /^c BAD /);
  c.send('d NOOP ' + 'x'.repeat(70_000) + '\r\n');
  assert.match(await c.readUntil('\r\n'), /^d BAD Command line too long/);
  c.send('e LOGIN {5000000}\r\n');
  assert.match(await c.readUntil('\r\n'), /^e NO \[TOOBIG\]/);
  c.send('f LOGIN "a\\qb" x\r\n');
  assert.match(await c.readUntil('\r\n'), /^f BAD /);
  assert.match(await c.command('g', 'LOGIN bob bob-pass'), /^g OK/);
  await c.command('h', 'SELECT INBOX');
  assert.match(await c.command('i', 'FETCH 5 (FLAGS)'), /^i BAD .*out of range/m);
  assert.match(await c.command('j', 'FETCH 1 (BODY[1.0])'), /^j BAD /m);
  assert.match(await c.command('k', 'STORE 1 +FLAGS (\\Bogus)'), /^k BAD /m);
  assert.match(await c.command('l', 'NOOP'), /^l OK/);
});

test('a wrong password is refused with AUTHENTICATIONFAILED, logged with IP and user, and never the password', async (t) => {
  const { c, server } = await setup(t);
  assert.match(await c.command('a', 'LOGIN bob secret-guess'), /^a NO \[AUTHENTICATIONFAILED\]/);
  assert.match(await c.command('b', 'AUTHENTICATE PLAIN ' + Buffer.from('\0bob\0bob-pass').toString('base64')), /^b OK \[CAPABILITY /);
  // The log line travels through the server's stdout pipe: it may land just after the reply.
  const parse = () => server.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  let failed = parse().find((l) => l.msg === 'login failed');
  for (let i = 0; !failed && i < 40; i++) {
    await new Promise((r) => setTimeout(r, 50));
    failed = parse().find((l) => l.msg === 'login failed');
  }
  assert.ok(failed, 'a login failed line');
  assert.equal(failed.ip, '127.0.0.1');
  assert.equal(failed.user, 'bob');
  assert.ok(!server.stdout().includes('secret-guess') && !server.stdout().includes('bob-pass'));
});

test('AUTHENTICATE PLAIN with a continuation instead of an initial response', async (t) => {
  const { c } = await setup(t);
  c.send('a AUTHENTICATE PLAIN\r\n');
  assert.equal(await c.readUntil('\r\n'), '+ \r\n');
  c.send(Buffer.from('\0bob\0bob-pass').toString('base64') + '\r\n');
  assert.match(await c.readUntil('\r\n'), /^a OK /);
});

test('LIST shows INBOX and the Maildir++ folders on disk; each can be selected', async (t) => {
  const { tree, c } = await setup(t);
  const root = tree.maildir('bob');
  for (const f of ['.Sent', '.Archive', '.Archive.2024']) for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, f, sub), { recursive: true });
  await fs.writeFile(path.join(root, 'subscriptions'), 'V\t2\n\nSent\n');
  await c.command('a', 'LOGIN bob bob-pass');
  assert.equal(
    await c.command('b', 'LIST "" "*"'),
    // Drafts, Junk and Trash: the special-use folders created on first use (Sent and Archive were there).
    '* LIST (\\HasNoChildren) "." INBOX\r\n* LIST (\\HasChildren \\Archive) "." Archive\r\n* LIST (\\HasNoChildren) "." Archive.2024\r\n' +
      '* LIST (\\HasNoChildren \\Drafts) "." Drafts\r\n* LIST (\\HasNoChildren \\Junk) "." Junk\r\n* LIST (\\HasNoChildren \\Sent) "." Sent\r\n* LIST (\\HasNoChildren \\Trash) "." Trash\r\nb OK LIST completed\r\n',
  );
  assert.equal(await c.command('c', 'LIST "" "S%"'), '* LIST (\\HasNoChildren \\Sent) "." Sent\r\nc OK LIST completed\r\n');
  assert.equal(await c.command('c2', 'LIST "" "A%"'), '* LIST (\\HasChildren \\Archive) "." Archive\r\nc2 OK LIST completed\r\n');
  assert.equal(await c.command('d', 'LIST "" ""'), '* LIST (\\Noselect) "." ""\r\nd OK LIST completed\r\n');
  // Sent was subscribed already; the created special-use folders are subscribed with their creation.
  assert.equal(
    await c.command('e', 'LSUB "" "*"'),
    '* LSUB () "." INBOX\r\n* LSUB () "." Drafts\r\n* LSUB () "." Junk\r\n* LSUB () "." Sent\r\n* LSUB () "." Trash\r\ne OK LSUB completed\r\n',
  );
  assert.match(await c.command('f', 'SELECT Archive.2024'), /\* 0 EXISTS[\s\S]*f OK \[READ-WRITE\]/);
  assert.match(await c.command('g', 'STATUS INBOX (MESSAGES UNSEEN UIDNEXT)'), /\* STATUS INBOX \(MESSAGES 1 UNSEEN 1 UIDNEXT 2\)/);
  assert.match(await c.command('h', 'SELECT Nope'), /^h NO \[NONEXISTENT\]/m);
  assert.match(await c.command('i', 'SELECT "../../etc"'), /^i NO /m);
  assert.match(await c.command('j', 'SELECT "Sent/../.."'), /^j NO /m);
});

test('SIGTERM says BYE to every client and exits 0', async (t) => {
  const { server, c } = await setup(t);
  await c.command('a', 'LOGIN bob bob-pass');
  await c.command('b', 'SELECT INBOX');
  c.send('c IDLE\r\n');
  await c.readUntil('+ idling\r\n');
  const code = server.stop();
  assert.match(await c.readUntil('\r\n'), /^\* BYE /);
  assert.equal(await code, 0);
});

test('after login CAPABILITY lists every extension the product promises', async (t) => {
  const { c } = await setup(t);
  await c.command('a', 'LOGIN bob bob-pass');
  const line = (await c.command('b', 'CAPABILITY')).split('\r\n')[0];
  const caps = new Set(line.replace(/^\* CAPABILITY /, '').split(' '));
  const promised =
    'IMAP4rev1 IDLE UIDPLUS LITERAL+ SORT THREAD=REFERENCES THREAD=ORDEREDSUBJECT NAMESPACE ID ENABLE UNSELECT MOVE CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS ESEARCH CONDSTORE QRESYNC SASL-IR AUTH=PLAIN AUTH=LOGIN';
  for (const cap of promised.split(' ')) assert.ok(caps.has(cap), `${cap} in ${line}`);
  // AUTHENTICATE after login is a state error, whatever is listed (RFC 3501 §6.2.2).
  assert.match(await c.command('c', 'AUTHENTICATE PLAIN'), /^c BAD /m);
});
