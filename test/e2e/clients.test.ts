// Real clients against the real server process: imapflow (push while idling,
// two sessions seeing each other's changes), Python's imaplib and curl
// (byte-exact bodies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImapFlow } from 'imapflow';
import { serveTree, deliver } from '../support/server.js';
import { bobClient } from '../support/clients.js';

const run = promisify(execFile);
const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/seed-notify.eml');

const setup = (t: test.TestContext) => serveTree(t);
const client = bobClient;

/** Resolves with the first event of that name, or rejects after `ms`. */
function nextEvent<T>(c: ImapFlow, name: string, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} event within ${ms} ms`)), ms);
    c.once(name, (data: T) => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

test('imapflow: idle client hears deliveries, and flag changes and expunges by another session at once', async (t) => {
  const { tree, server } = await setup(t);
  const inbox = tree.maildir('bob');
  await deliver(inbox, 'Subject: first\n\nhello\n');

  const a = client(server.port);
  const b = client(server.port);
  await a.connect();
  await b.connect();
  t.after(async () => {
    await a.logout().catch(() => undefined);
    await b.logout().catch(() => undefined);
  });
  await a.mailboxOpen('INBOX');
  await b.mailboxOpen('INBOX');

  // Delivery while A idles.
  const idling = a.idle();
  const exists = nextEvent<{ count: number; prevCount: number }>(a, 'exists');
  await new Promise((r) => setTimeout(r, 50));
  await deliver(inbox, await fs.readFile(FIXTURE));
  const ev = await exists;
  assert.equal(ev.count, 2);
  assert.equal(ev.prevCount, 1);

  // B flags message 1; A, still idling, is told.
  const flags = nextEvent<{ seq: number; flags: Set<string> }>(a, 'flags');
  await b.noop();
  await b.messageFlagsAdd('1', ['\\Flagged', '$Important']);
  const fl = await flags;
  assert.equal(fl.seq, 1);
  assert.ok(fl.flags.has('\\Flagged') && fl.flags.has('$Important'), `flags: ${[...fl.flags]}`);

  // B deletes message 1 and expunges; A hears EXPUNGE while idling.
  const expunge = nextEvent<{ seq: number }>(a, 'expunge');
  await b.messageDelete('1');
  assert.equal((await expunge).seq, 1);
  void idling;

  // After A stops idling it sees one message, the one delivered second.
  const msg = await b.fetchOne('*', { uid: true, envelope: true });
  assert.ok(msg);
  assert.equal(msg.uid, 2);
  assert.equal(msg.envelope?.subject, 'notify');
});

test('Python imaplib and curl get the delivered message byte-exact', async (t) => {
  const { tree, server } = await setup(t);
  const raw = await fs.readFile(FIXTURE);
  await deliver(tree.maildir('bob'), raw);
  const crlf = raw.toString('latin1').replace(/\n/g, '\r\n');

  const py = [
    'import imaplib, sys',
    `c = imaplib.IMAP4('127.0.0.1', ${server.port})`,
    "c.login('bob', 'bob-pass')",
    "c.select('INBOX')",
    "typ, data = c.uid('FETCH', '1', '(BODY.PEEK[])')",
    'sys.stdout.buffer.write(data[0][1])',
    'c.logout()',
  ].join('\n');
  const { stdout: viaPython } = await run('python3', ['-c', py], { encoding: 'latin1' });
  assert.equal(viaPython, crlf);

  const { stdout: viaCurl } = await run('curl', ['-sS', '--max-time', '10', `imap://127.0.0.1:${server.port}/INBOX;UID=1`, '-u', 'bob:bob-pass'], { encoding: 'latin1' });
  assert.equal(viaCurl, crlf);
});
