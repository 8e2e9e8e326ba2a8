// Folders nobody uses are dropped from memory (issue 14): the registry's
// sweep drops them, the next open reads them again with the same UIDs, and
// what keeps a folder in memory (a session, its watcher's linger, a pin,
// \Recent owed to the next session) does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { MailStore, MailboxRegistry } from '../../src/mail/store.js';
import { settleOptions, unloadOptions } from '../../src/mail/mailbox.js';
import { MailboxView } from '../../src/imap/tracker.js';

settleOptions.ms = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(t: test.TestContext): Promise<{ root: string; store: MailStore; registry: MailboxRegistry }> {
  const saved = { ...unloadOptions };
  unloadOptions.lingerMs = 30;
  unloadOptions.idleMs = 30;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-unload-'));
  const root = path.join(dir, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, sub), { recursive: true });
  for (let i = 1; i <= 3; i++) await fs.writeFile(path.join(root, 'cur', `170000000${i}.m${i}.host:2,S`), `Subject: ${i}\n\nbody ${i}\n`);
  const registry = new MailboxRegistry(pino({ level: 'silent' }), 60_000);
  const store = new MailStore(root, registry, undefined, false);
  t.after(async () => {
    Object.assign(unloadOptions, saved);
    await registry.closeAll();
    await fs.rm(dir, { recursive: true, force: true });
  });
  return { root, store, registry };
}

test('a folder opened and left is dropped after idleMs; the next open has the same UIDs and numbers an arrival after them', async (t) => {
  const { root, store, registry } = await setup(t);
  const first = (await store.mailbox('INBOX'))!;
  const uidValidity = first.uidValidity;
  assert.deepEqual(first.all.map((m) => m.uid), [1, 2, 3]);
  registry.sweep();
  assert.equal(registry.openCount, 1, 'just used: kept');
  await sleep(60);
  registry.sweep();
  assert.equal(registry.openCount, 0, 'unused for idleMs: dropped');
  await fs.writeFile(path.join(root, 'new', '1700000004.m4.host'), 'Subject: 4\n\nbody 4\n');
  const again = (await store.mailbox('INBOX'))!;
  assert.notEqual(again, first);
  assert.equal(again.uidValidity, uidValidity);
  assert.deepEqual(
    again.all.map((m) => [m.uid, m.basename]),
    [
      [1, '1700000001.m1.host'],
      [2, '1700000002.m2.host'],
      [3, '1700000003.m3.host'],
      [4, '1700000004.m4.host'],
    ],
  );
});

test('a session keeps its folder; after it leaves, the watcher lingers, then the folder goes', async (t) => {
  const { store, registry } = await setup(t);
  const box = (await store.mailbox('INBOX'))!;
  const view = await MailboxView.open(box, false);
  await sleep(80);
  registry.sweep();
  assert.equal(registry.openCount, 1, 'a session has it open');
  view.close();
  registry.sweep();
  assert.equal(registry.openCount, 1, 'still watched (linger)');
  await sleep(120);
  registry.sweep();
  assert.equal(registry.openCount, 0);
});

test('a pinned INBOX (filtered deliveries) is never dropped', async (t) => {
  const { store, registry } = await setup(t);
  const box = (await store.mailbox('INBOX'))!;
  await box.pin();
  await sleep(80);
  registry.sweep();
  assert.equal(registry.openCount, 1);
});

test('\\Recent owed by a dropped folder goes to its next read-write session', async (t) => {
  const { store, registry } = await setup(t);
  await store.create('Sent');
  const sent = (await store.mailbox('Sent'))!;
  const tmp = path.join(sent.maildir.root, 'tmp', 'x');
  await fs.writeFile(tmp, 'Subject: saved\n\nhi\n');
  await fs.rename(tmp, path.join(sent.maildir.root, 'cur', '1700000009.s.host:2,S'));
  const [meta] = await sent.addOwn([{ sub: 'cur', filename: '1700000009.s.host:2,S' }], true);
  assert.equal(meta.uid, 1);
  await sleep(60);
  registry.sweep();
  assert.equal(registry.peek(sent.maildir.root), undefined);
  const view = await MailboxView.open((await store.mailbox('Sent'))!, false);
  assert.ok(view.isRecent(1));
  view.close();
});
