// Sieve on the watcher path, end to end (issue 11): the real server, bob's
// script at ~/.dovecot.sieve (a link into ~/sieve/, as Pigeonhole keeps it),
// messages linked into INBOX's new/ as Postfix's virtual(8) delivers. A
// message the script files into Junk is heard by the session idling on Junk
// (EXISTS) and never by the one idling on INBOX; a vacation reply goes out
// through the configured sendmail (a fake one recording its arguments) even
// with nobody logged in, once per sender.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer, deliver, warningLines } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

const SCRIPT = `require ["fileinto", "vacation", "imap4flags"];
if header :contains "subject" "junk" { fileinto "Junk"; stop; }
if header :contains "subject" "seen" { addflag "\\\\Seen"; }
vacation :days 1 :addresses ["bob@example.org"] "Away until Monday.";
`;

const message = (subject: string, from = 'carol@example.org') =>
  `Return-Path: <${from}>\nDelivered-To: bob@example.org\nFrom: ${from}\nTo: bob@example.org\nSubject: ${subject}\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\n\nbody\n`;

async function until(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function idleOn(port: number, folder: string): Promise<RawImap> {
  const c = await RawImap.connect(port);
  await c.command('a', 'LOGIN bob bob-pass');
  await c.command('b', `SELECT ${folder}`);
  c.send('c IDLE\r\n');
  await c.readUntil('+ idling');
  return c;
}

test('a delivery linked into INBOX/new filed into Junk by the script: the Junk IDLE hears EXISTS, the INBOX IDLE hears nothing; vacation through sendmail with nobody logged in', async (t) => {
  const tree = await makeMailTree();
  const home = path.dirname(tree.maildir('bob'));
  await fs.mkdir(path.join(home, 'sieve'));
  await fs.writeFile(path.join(home, 'sieve', 'main.sieve'), SCRIPT);
  await fs.symlink('sieve/main.sieve', path.join(home, '.dovecot.sieve'));
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(tree.maildir('bob'), '.Junk', sub), { recursive: true });
  const calls = path.join(tree.dir, 'sendmail-calls');
  await fs.mkdir(calls);
  await fs.chmod(calls, 0o777); // the server may run as vmail
  const sendmail = path.join(tree.dir, 'sendmail');
  await fs.writeFile(sendmail, `#!/bin/sh\nd=${calls}/$(date +%s%N)-$$\nmkdir "$d"\nprintf '%s\\n' "$@" > "$d/args"\ncat > "$d/input"\n`, { mode: 0o755 });
  const running = await startServer(tree, ['--sieve-sendmail', sendmail]);
  t.after(async () => {
    await running.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const sent = async () => (await fs.readdir(calls)).sort();

  // Nobody logged in: bob's INBOX is watched because he has a script; the vacation reply goes out now.
  const first = await deliver(tree.maildir('bob'), message('hello'));
  await until('the vacation reply', async () => (await sent()).length === 1);
  const [call] = await sent();
  assert.deepEqual((await fs.readFile(path.join(calls, call, 'args'), 'utf8')).trim().split('\n'), ['-i', '-f', '<>', '--', 'carol@example.org']);
  const reply = await fs.readFile(path.join(calls, call, 'input'), 'utf8');
  assert.match(reply, /^From: bob@example.org\nTo: <carol@example.org>\nSubject: Auto: hello\n/);
  assert.match(reply, /\nIn-Reply-To: <hello@example.org>\n/);

  const inbox = await idleOn(running.port, 'INBOX');
  const junk = await idleOn(running.port, 'Junk');
  t.after(() => {
    inbox.close();
    junk.close();
  });
  const filed = await deliver(tree.maildir('bob'), message('cheap junk'));
  const heard = await junk.readUntil(/\* 1 EXISTS\r\n/);
  assert.match(heard, /\* 1 EXISTS/);
  await assert.rejects(inbox.readUntil('EXISTS', 500), /timed out/, 'INBOX never heard of the filed message');
  // A kept one with a flag: INBOX hears it (its second message), Junk nothing more.
  await deliver(tree.maildir('bob'), message('seen it'));
  assert.match(await inbox.readUntil(/\* 2 EXISTS\r\n/), /\* 2 EXISTS/);
  assert.equal((await sent()).length, 1, 'carol was answered once within :days');

  junk.send('DONE\r\n');
  await junk.readUntil(/c OK[^\r]*\r\n/);
  const fetched = await junk.command('d', 'FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  assert.match(fetched, /Subject: cheap junk/);
  inbox.send('DONE\r\n');
  await inbox.readUntil(/c OK[^\r]*\r\n/);
  const flags = await inbox.command('e', 'FETCH 2 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  assert.match(flags, /FLAGS \([^)]*\\Seen[^)]*\)/);
  assert.match(flags, /Subject: seen it/);
  // On disk: the filed message is in Junk under its own name, and INBOX's uidlist never listed it.
  const uidlist = await fs.readFile(path.join(tree.maildir('bob'), 'dovecot-uidlist'), 'utf8');
  assert.ok(uidlist.includes(first));
  assert.ok(!uidlist.includes(filed));
  const junkFiles = [...(await fs.readdir(path.join(tree.maildir('bob'), '.Junk', 'new'))), ...(await fs.readdir(path.join(tree.maildir('bob'), '.Junk', 'cur')))];
  assert.ok(junkFiles.some((f) => f.startsWith(filed)));
  assert.ok(running.stdout().includes('"msg":"filter: delivered"'));
  assert.deepEqual(warningLines(running.stdout()), []);
});
