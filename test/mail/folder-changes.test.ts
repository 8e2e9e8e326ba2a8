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
import { DEFAULT_SPECIAL_USE, type FolderChange, type MailUser } from '../../src/mail/api.js';
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
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, sub), { recursive: true });
  const registry = new MailboxRegistry(pino({ level: 'silent' }), 60_000);
  t.after(() => registry.closeAll());
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
