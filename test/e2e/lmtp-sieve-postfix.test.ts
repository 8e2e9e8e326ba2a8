// Sieve on the LMTP path with a real Postfix (virtual_transport =
// lmtp:inet:…): bob's script files list mail into Lists with a flag and
// discards spam (250 both, nothing written for the spam), alice's rejects
// offers: Postfix hears 550 5.7.1 with the script's reason for alice alone
// and bounces that recipient, while bob's copy of the same message is saved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer, freePort } from '../support/server.js';
import { postfixAvailable, startPostfix, sendMail } from '../support/postfix.js';

async function waitFor<T>(what: string, fn: () => Promise<T | null | false | undefined>, ms = 15_000, detail?: () => Promise<string>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) assert.fail(`${what}${detail ? `\n${await detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function activate(home: string, text: string): Promise<void> {
  await fs.mkdir(path.join(home, 'sieve'), { recursive: true });
  await fs.writeFile(path.join(home, 'sieve', 'main.sieve'), text);
  await fs.symlink('sieve/main.sieve', path.join(home, '.dovecot.sieve'));
}

test('Postfix over LMTP with Sieve: fileinto with flags, discard, and reject as 550 5.7.1 for one recipient of two', { skip: !postfixAvailable() && !process.env.CI && 'needs root and Debian postfix (CI installs it)' }, async (t) => {
  const tree = await makeMailTree();
  await fs.chmod(tree.dir, 0o711);
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(tree.maildir('bob'), '.Lists', sub), { recursive: true });
  await activate(path.dirname(tree.maildir('bob')), 'require ["fileinto", "imap4flags"];\nif header :contains "subject" "[list]" { fileinto :flags "$List" "Lists"; }\nelsif header :contains "subject" "spam" { discard; }\n');
  await activate(path.dirname(tree.maildir('alice')), 'require "reject";\nif header :contains "subject" "offer" { reject "No offers, thanks"; }\n');
  const lmtpPort = await freePort();
  const server = await startServer(tree, ['--lmtp-listen', `127.0.0.1:${lmtpPort}`]);
  const postfix = await startPostfix({
    mailRoot: path.join(tree.dir, 'mail'),
    stateDir: path.join(tree.dir, 'postfix'),
    users: ['bob', 'alice'],
    virtualTransport: `lmtp:inet:127.0.0.1:${lmtpPort}`,
  });
  t.after(async () => {
    await postfix.stop();
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const files = async (...p: string[]) => (await fs.readdir(path.join(...p)).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));

  await sendMail(postfix.port, 'carol@example.org', 'bob@localdomain', 'From: carol@example.org\nSubject: [list] news\n\nlist mail\n');
  const [listed] = await waitFor('the list message in .Lists/new', async () => {
    const n = await files(tree.maildir('bob'), '.Lists', 'new');
    return n.length ? n : null;
  }, 15_000, () => postfix.log());
  assert.match(listed, /,F=1,S=\d+,W=\d+:2,a$/, 'marked as filtered, with the keyword letter');
  assert.equal(await fs.readFile(path.join(tree.maildir('bob'), '.Lists', 'dovecot-keywords'), 'utf8'), '0 $List\n');

  await sendMail(postfix.port, 'carol@example.org', 'bob@localdomain', 'From: carol@example.org\nSubject: cheap spam\n\nbuy\n');
  await sendMail(postfix.port, 'carol@example.org', ['bob@localdomain', 'alice@localdomain'], 'From: carol@example.org\nSubject: an offer\n\nbuy now\n');
  const log = await waitFor('Postfix logs the three deliveries', async () => {
    const l = await postfix.log();
    return (l.match(/to=<bob@localdomain>.*status=sent \(250 2\.0\.0 <bob@localdomain> (Saved|Discarded by the recipient's filter)\)/g) ?? []).length === 3 && /to=<alice@localdomain>.*status=bounced/.test(l) && l;
  }, 15_000, () => postfix.log());
  assert.match(log, /to=<bob@localdomain>.*status=sent \(250 2\.0\.0 <bob@localdomain> Discarded by the recipient's filter\)/);
  assert.match(log, /to=<alice@localdomain>.*status=bounced \(host \S+ said: 550 5\.7\.1 <alice@localdomain> No offers, thanks \(in reply to end of DATA command\)\)/);
  assert.deepEqual(await files(tree.maildir('alice'), 'new'), [], 'nothing written for alice');
  const inbox = await files(tree.maildir('bob'), 'new');
  assert.equal(inbox.length, 1, 'bob: the offer only; the spam was discarded');
  assert.match(await fs.readFile(path.join(tree.maildir('bob'), 'new', inbox[0]), 'utf8'), /Subject: an offer/);
  assert.ok(server.stdout().includes('"msg":"discarded by sieve"'));
  assert.ok(server.stdout().includes('"msg":"lmtp: rejected by sieve"'));
});
