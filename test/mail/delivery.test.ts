// The Maildir store's delivery (LMTP's way in): what lands on disk (virtual(8)'s
// trace header fields, LF endings, new/ with ,S=/,W=), the push to a session
// that has the folder open (EXISTS and \Recent before deliver() resolves),
// +detail folders, several recipients from one spool, a new user's first
// mail, and failures that leave nothing half-written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { MailStore, MailboxRegistry } from '../../src/mail/store.js';
import { MailError } from '../../src/mail/api.js';
import type { MessageSpool } from '../../src/mail/spool.js';
import { MailboxView } from '../../src/imap/tracker.js';

const log = pino({ level: 'silent' });

async function setup(t: test.TestContext): Promise<{ dir: string; registry: MailboxRegistry; store: (user: string) => MailStore; root: (user: string) => string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-deliver-'));
  const registry = new MailboxRegistry(log, 60_000);
  const root = (user: string) => path.join(dir, user, 'Maildir');
  for (const u of ['bob', 'alice']) for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root(u), sub), { recursive: true });
  t.after(async () => {
    await registry.closeAll();
    await fs.rm(dir, { recursive: true, force: true });
  });
  return { dir, registry, root, store: (user) => new MailStore(root(user), registry, undefined, false) };
}

/** A message spooled as LMTP spools it: CRLF in, LF on disk. */
function spoolOf(store: MailStore, crlf: string | Buffer): MessageSpool {
  const spool = store.openSpool();
  spool.write(Buffer.isBuffer(crlf) ? crlf : Buffer.from(crlf));
  spool.finish();
  return spool;
}

/** Files in a Maildir directory other than dot files (the dotlock's templates live in tmp/). */
const messageFiles = async (dir: string) => (await fs.readdir(dir)).filter((n) => !n.startsWith('.'));

const MESSAGE = 'From: Carol <carol@example.org>\r\nSubject: hello\r\n\r\nbody\r\n.dot line\r\n';
const env = (to: string, extra: Partial<{ originalTo: string; returnPath: string }> = {}) => ({ returnPath: 'carol@example.org', deliveredTo: to, ...extra });

test('a delivery is written as virtual(8) writes one, and a session with INBOX open hears EXISTS and RECENT before deliver() resolves', async (t) => {
  const { store, root } = await setup(t);
  const bob = store('bob');
  const inbox = (await bob.mailbox('INBOX'))!;
  const view = await MailboxView.open(inbox, false);
  const spool = spoolOf(bob, MESSAGE);
  const { folder, uid } = await bob.deliver(spool, env('bob@example.org', { originalTo: 'robert@example.org' }));
  spool.discard();
  assert.equal(folder, 'INBOX');
  assert.equal(uid, 1);
  // No wait for the watcher: the updates are there the moment deliver() has resolved.
  assert.ok(view.hasPending, 'the session has something to say at once');
  assert.deepEqual(view.flush(true), [{ kind: 'exists', count: 1 }, { kind: 'recent', count: 1 }]);
  // The session claimed it: new/ → cur/, as for a Postfix delivery.
  assert.deepEqual(await fs.readdir(path.join(root('bob'), 'new')), []);
  await new Promise((r) => setTimeout(r, 20)); // discard() unlinks in the background
  assert.deepEqual(await messageFiles(path.join(root('bob'), 'tmp')), [], 'the spool was removed and no temp file is left');
  const [name] = await fs.readdir(path.join(root('bob'), 'cur'));
  const text = await fs.readFile(path.join(root('bob'), 'cur', name), 'utf8');
  assert.equal(
    text,
    'Return-Path: <carol@example.org>\nX-Original-To: robert@example.org\nDelivered-To: bob@example.org\nFrom: Carol <carol@example.org>\nSubject: hello\n\nbody\n.dot line\n',
  );
  const crlfSize = Buffer.byteLength(text.replace(/\n/g, '\r\n'));
  assert.match(name, new RegExp(`,S=${Buffer.byteLength(text)},W=${crlfSize}:2,$`));
  assert.equal(await inbox.vsizeOf(inbox.byUid(1)!), crlfSize);
  assert.equal(((await fs.stat(path.join(root('bob'), 'cur', name))).mode & 0o777), 0o600);
});

test('the null sender is Return-Path: <>; no X-Original-To without an original recipient', async (t) => {
  const { store, root } = await setup(t);
  const bob = store('bob');
  const spool = spoolOf(bob, MESSAGE);
  const res = await bob.deliver(spool, env('bob@example.org', { returnPath: '' }));
  spool.discard();
  // Nobody has INBOX open: the file waits in new/, as a virtual(8) delivery does, and has no UID yet.
  assert.deepEqual(res, { folder: 'INBOX', uid: null });
  const [name] = await fs.readdir(path.join(root('bob'), 'new'));
  assert.ok(!name.includes(':2,'), 'a name in new/ has no info part');
  const text = await fs.readFile(path.join(root('bob'), 'new', name), 'utf8');
  assert.ok(text.startsWith('Return-Path: <>\nDelivered-To: bob@example.org\nFrom: '), text);
  // The next session to open INBOX finds it, with UID 1 and \Recent.
  const inbox = (await bob.mailbox('INBOX'))!;
  const view = await MailboxView.open(inbox, false);
  assert.deepEqual(inbox.all.map((m) => m.uid), [1]);
  assert.ok(view.isRecent(1));
  assert.equal(inbox.recentCount, 0, 'claimed by that session');
});

test('one spool, several recipients: each gets its own copy with its own Delivered-To, and the spool is read, not consumed', async (t) => {
  const { store, root } = await setup(t);
  const bob = store('bob');
  const alice = store('alice');
  const spool = spoolOf(bob, MESSAGE);
  await bob.deliver(spool, env('bob@example.org'));
  await alice.deliver(spool, env('alice@example.org'));
  await bob.deliver(spool, env('bob+x@example.org')); // a second RCPT of the same user: another copy
  assert.ok((await fs.stat(spool.file)).isFile(), 'the spool is still there until the transaction ends');
  spool.discard();
  const read = async (user: string) =>
    Promise.all((await fs.readdir(path.join(root(user), 'new'))).sort().map((n) => fs.readFile(path.join(root(user), 'new', n), 'utf8')));
  const bobs = await read('bob');
  const alices = await read('alice');
  assert.equal(bobs.length, 2);
  assert.equal(alices.length, 1);
  const deliveredTo = (texts: string[]) => texts.map((x) => /^Return-Path: <carol@example.org>\nDelivered-To: (.*)\nFrom:/.exec(x)?.[1]).sort();
  assert.deepEqual(deliveredTo(bobs), ['bob+x@example.org', 'bob@example.org']);
  assert.deepEqual(deliveredTo(alices), ['alice@example.org']);
  for (const text of [...bobs, ...alices]) assert.ok(text.endsWith('\n\nbody\n.dot line\n'));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await messageFiles(path.join(root('bob'), 'tmp')), []);
});

test('+detail: into the folder when it exists (open or not), else INBOX; a name that could leave the Maildir goes to INBOX', async (t) => {
  const { store, root } = await setup(t);
  const bob = store('bob');
  await bob.create('Lists');
  await bob.create('Lists.Node');
  const lists = (await bob.mailbox('Lists.Node'))!;
  const view = await MailboxView.open(lists, false);
  const spool = spoolOf(bob, MESSAGE);
  assert.deepEqual(await bob.deliver(spool, env('bob+Lists.Node@example.org'), 'Lists.Node'), { folder: 'Lists.Node', uid: 1 });
  assert.deepEqual(view.flush(true), [{ kind: 'exists', count: 1 }, { kind: 'recent', count: 1 }]);
  assert.equal((await bob.deliver(spool, env('bob+Lists@example.org'), 'Lists')).folder, 'Lists');
  assert.equal((await bob.deliver(spool, env('bob+inbox@example.org'), 'inbox')).folder, 'INBOX');
  for (const nope of ['Nope', 'lists', '../alice/Maildir', '.Lists', 'Lists/../..', 'a\nb', ''])
    assert.equal((await bob.deliver(spool, env(`bob@example.org`), nope)).folder, 'INBOX', JSON.stringify(nope));
  spool.discard();
  assert.equal((await fs.readdir(path.join(root('bob'), '.Lists', 'new'))).length, 1);
  assert.equal((await fs.readdir(path.join(root('bob'), '.Lists.Node', 'cur'))).length, 1);
  assert.equal((await fs.readdir(path.join(root('bob'), 'new'))).length, 8);
  assert.deepEqual(await fs.readdir(path.join(root('alice'), 'new')), []);
});

test("a new user's first mail: the spool and the delivery make the Maildir", async (t) => {
  const { store, root } = await setup(t);
  const carol = store('carol');
  const spool = carol.openSpool();
  spool.write(Buffer.from(MESSAGE));
  spool.finish();
  await carol.deliver(spool, env('carol@example.org'));
  spool.discard();
  assert.equal((await fs.readdir(path.join(root('carol'), 'new'))).length, 1);
  assert.ok((await fs.stat(path.join(root('carol'), 'cur'))).isDirectory());
});

test('a message of several MiB is streamed into each copy intact, sizes in the name', async (t) => {
  const { store, root } = await setup(t);
  const bob = store('bob');
  const line = 'x'.repeat(76) + '\r\n';
  const big = Buffer.from('Subject: big\r\n\r\n' + line.repeat(40_000)); // 3.1 MiB
  const spool = spoolOf(bob, big);
  await bob.deliver(spool, env('bob@example.org'));
  await bob.deliver(spool, env('bob@example.org'));
  spool.discard();
  const names = await fs.readdir(path.join(root('bob'), 'new'));
  assert.equal(names.length, 2);
  const expected = 'Return-Path: <carol@example.org>\nDelivered-To: bob@example.org\n' + big.toString().replace(/\r\n/g, '\n');
  for (const n of names) {
    const got = await fs.readFile(path.join(root('bob'), 'new', n), 'utf8');
    assert.equal(got.length, expected.length);
    assert.ok(got === expected, 'content intact');
    assert.match(n, new RegExp(`,S=${expected.length},W=${expected.replace(/\n/g, '\r\n').length}$`));
  }
});

test('an address with a line break cannot write header fields', async (t) => {
  const { store, root } = await setup(t);
  const bob = store('bob');
  const spool = spoolOf(bob, MESSAGE);
  for (const bad of [env('bob@example.org\nX-Evil: 1'), env('bob@example.org', { returnPath: 'a@b>\r\nX-Evil: 1' }), env('bob@example.org', { originalTo: 'x\ny' })])
    await assert.rejects(bob.deliver(spool, bad), (e: unknown) => e instanceof MailError && e.kind === 'invalid');
  spool.discard();
  assert.deepEqual(await fs.readdir(path.join(root('bob'), 'new')), []);
});

test('a Maildir that cannot take the message: MailError temporary, nothing in new/, no temp file left', async (t) => {
  const { store, root } = await setup(t);
  const bob = store('bob');
  const alice = store('alice');
  const spool = spoolOf(bob, MESSAGE);
  // new/ replaced by a file: the copy is written and synced, then the rename fails.
  await fs.rm(path.join(root('alice'), 'new'), { recursive: true });
  await fs.writeFile(path.join(root('alice'), 'new'), '');
  await assert.rejects(alice.deliver(spool, env('alice@example.org')), (e: unknown) => e instanceof MailError && e.kind === 'temporary');
  assert.deepEqual(await messageFiles(path.join(root('alice'), 'tmp')), []);
  // tmp/ not a directory: nothing can be written at all.
  await fs.rm(path.join(root('alice'), 'tmp'), { recursive: true });
  await fs.writeFile(path.join(root('alice'), 'tmp'), '');
  await assert.rejects(alice.deliver(spool, env('alice@example.org')), (e: unknown) => e instanceof MailError && e.kind === 'temporary');
  spool.discard();
});

const canMount = process.getuid?.() === 0 && process.platform === 'linux';

test('a full disk: MailError temporary, nothing in new/, no temp file left; the next delivery after space is freed works', { skip: !canMount && 'needs root to mount a small tmpfs' }, async (t) => {
  const { store } = await setup(t);
  const bob = store('bob');
  const mnt = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
  t.after(async () => {
    execFileSync('umount', ['-l', mnt]);
    await fs.rmdir(mnt);
  });
  const root = path.join(mnt, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, sub), { recursive: true });
  const registry = new MailboxRegistry(log, 60_000);
  t.after(() => registry.closeAll());
  const full = new MailStore(root, registry, undefined, false);
  const big = Buffer.from('Subject: big\r\n\r\n' + ('y'.repeat(998) + '\r\n').repeat(200)); // 200 KB: fits once, not twice
  const spool = spoolOf(bob, big); // spooled on another file system, as LMTP spools with the first recipient
  await full.deliver(spool, env('dave@example.org'));
  await assert.rejects(full.deliver(spool, env('dave@example.org')), (e: unknown) => e instanceof MailError && e.kind === 'temporary' && /disk space/.test(e.message));
  assert.equal((await fs.readdir(path.join(root, 'new'))).length, 1, 'only the copy that fitted');
  assert.deepEqual(await messageFiles(path.join(root, 'tmp')), [], 'the partial copy is gone');
  await fs.rm(path.join(root, 'new', (await fs.readdir(path.join(root, 'new')))[0]));
  await full.deliver(spool, env('dave@example.org'));
  assert.equal((await fs.readdir(path.join(root, 'new'))).length, 1);
  spool.discard();
});
