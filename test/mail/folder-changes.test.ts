// MailUser.watchFolders (NOTIFY's source of MailboxName and SubscriptionChange):
// the Maildir store and the in-memory store announce the same changes for the
// same operations, to every MailUser of the same mail, once each is done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { MailStore, MailboxRegistry } from '../../src/mail/store.js';
import { DEFAULT_SPECIAL_USE, type FolderChange, type MailboxListener, type MailUser } from '../../src/mail/api.js';
import { MemoryMail } from '../support/memory-store.js';

/** The same operations through `maker` (one MailUser) while `watcher` (another of the same mail) listens. */
async function scenario(maker: MailUser, watcher: MailUser): Promise<FolderChange[]> {
  const heard: FolderChange[] = [];
  const stop = watcher.watchFolders((c) => heard.push(c));
  await maker.create('Top');
  await maker.create('Top.Child');
  await maker.subscribe('Top', true);
  await maker.subscribe('Top', true); // no change: nothing said
  await maker.rename('Top', 'Moved');
  await maker.subscribe('Top', false);
  await maker.delete('Moved.Child');
  await assert.rejects(maker.create('Moved')); // a failure says nothing
  await maker.rename('INBOX', 'Old');
  stop();
  await maker.create('Unheard');
  return heard;
}

const EXPECTED: FolderChange[] = [
  { kind: 'created', name: 'Top' },
  { kind: 'created', name: 'Top.Child' },
  { kind: 'subscribed', name: 'Top' },
  { kind: 'renamed', from: 'Top', name: 'Moved' }, // one change: the child went with it
  { kind: 'unsubscribed', name: 'Top' },
  { kind: 'deleted', name: 'Moved.Child' },
  { kind: 'renamed', from: 'INBOX', name: 'Old' },
];

test('watchFolders: the Maildir store announces CREATE, SUBSCRIBE, RENAME, DELETE to another session of the user', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-fchanges-'));
  const root = path.join(dir, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, sub), { recursive: true });
  const registry = new MailboxRegistry(pino({ level: 'silent' }), 60_000);
  t.after(async () => {
    await registry.closeAll(); // the folders' last writes first, then the tree
    await fs.rm(dir, { recursive: true, force: true });
  });
  const a = new MailStore(root, registry, DEFAULT_SPECIAL_USE, false);
  const b = new MailStore(root, registry, DEFAULT_SPECIAL_USE, false);
  // Another user's changes are not this user's.
  const otherRoot = path.join(dir, 'Other');
  await fs.mkdir(path.join(otherRoot, 'cur'), { recursive: true });
  const strangers: FolderChange[] = [];
  new MailStore(otherRoot, registry, DEFAULT_SPECIAL_USE, false).watchFolders((c) => strangers.push(c));
  assert.deepEqual(await scenario(a, b), EXPECTED);
  assert.deepEqual(strangers, []);
});

test('watchFolders: the in-memory store says the same', async () => {
  const mail = new MemoryMail({ specialUse: DEFAULT_SPECIAL_USE, createSpecialFolders: false });
  const user = mail.userStore('/bob');
  assert.deepEqual(await scenario(user, mail.userStore('/bob', undefined, true)), EXPECTED);
});

test('a read-only listener (what a NOTIFY watch attaches) keeps its folder through the idle-folder sweep and hears a later delivery', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-fwatch-'));
  const root = path.join(dir, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, sub), { recursive: true });
  const registry = new MailboxRegistry(pino({ level: 'silent' }), 60_000);
  t.after(async () => {
    await registry.closeAll(); // the folders' last writes first, then the tree
    await fs.rm(dir, { recursive: true, force: true });
  });
  const store = new MailStore(root, registry, DEFAULT_SPECIAL_USE, false);
  await store.create('Other');
  const mailbox = (await store.mailbox('Other'))!;
  const added: number[] = [];
  let heard: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (heard = resolve));
  const listener: MailboxListener = {
    readOnly: true,
    init: () => undefined,
    onAdded: (metas) => {
      added.push(...metas.map((m) => m.uid));
      heard();
    },
    onExpunged: () => undefined,
    onFlags: () => undefined,
    claimRecent: () => undefined,
    onRenumbered: () => undefined,
  };
  await mailbox.attach(listener);
  registry.sweep(Date.now() + 3_600_000); // an hour on: every folder nobody holds is dropped
  assert.equal(registry.openCount, 1, 'the watched folder stays');
  const name = `${Math.floor(Date.now() / 1000)}.watch-test`;
  await fs.writeFile(path.join(root, '.Other', 'tmp', name), 'Subject: x\n\nbody\n');
  await fs.rename(path.join(root, '.Other', 'tmp', name), path.join(root, '.Other', 'new', name));
  await Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error('no onAdded within 5 s')), 5000))]);
  assert.deepEqual(added, [1]);
  assert.equal(mailbox.recentCount, 1, 'still \\Recent for the next session: the watch claimed nothing');
  mailbox.detach(listener);
  registry.sweep(Date.now() + 3_600_000);
});
