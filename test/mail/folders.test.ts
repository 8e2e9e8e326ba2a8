// MailStore folder operations on a temp Maildir: names, CREATE/DELETE/RENAME,
// subscriptions, UIDVALIDITY allocation, APPEND and COPY on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { MailStore, MailboxRegistry, checkName, normalizeName } from '../../src/mail/store.js';
import { MailError } from '../../src/mail/api.js';
import { nextUidValidity } from '../../src/mail/uidvalidity.js';
import { parseUidlist } from '../../src/mail/uidlist.js';

async function setup(t: test.TestContext, autoCreate = false): Promise<{ root: string; store: MailStore; registry: MailboxRegistry }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-folders-'));
  const root = path.join(dir, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, sub), { recursive: true });
  const registry = new MailboxRegistry(pino({ level: 'silent' }), 60_000);
  const store = new MailStore(root, registry, undefined, autoCreate);
  t.after(async () => {
    await registry.closeAll();
    await fs.rm(dir, { recursive: true, force: true });
  });
  return { root, store, registry };
}

const uidValidityOf = async (dir: string) => parseUidlist(await fs.readFile(path.join(dir, 'dovecot-uidlist'), 'utf8'))!.uidValidity;

test('names: what may reach the disk', () => {
  for (const ok of ['Sent', 'A.B.C', 'Gr&APw-n', 'a b', 'x-y_z', 'INBOX.sub']) assert.doesNotThrow(() => checkName(ok), ok);
  for (const bad of ['', '.x', 'x..y', 'x.', '../etc', 'a/b', 'a\\b', 'a\x00b', 'a\x7fb', 'a\nb', 'Grün', 'bad&', '&AGE-', '~x', 'a.~b', 'a*', 'b%c', '*', '%'])
    assert.throws(() => checkName(bad), (e: unknown) => e instanceof MailError && e.kind === 'invalid', JSON.stringify(bad));
  // The name is one directory name on disk (".A.B"): at most 254 bytes of it.
  assert.doesNotThrow(() => checkName('x'.repeat(254)));
  for (const long of ['x'.repeat(255), 'x'.repeat(600), 'ü'.repeat(128)])
    assert.throws(() => checkName(long), (e: unknown) => e instanceof MailError && e.kind === 'limit', `${long.length} characters`);
  assert.equal(normalizeName('inbox'), 'INBOX');
  assert.equal(normalizeName('Inbox.Sub'), 'INBOX.Sub');
  assert.equal(normalizeName('Inboxes'), 'Inboxes');
});

test('CREATE makes a Dovecot-style folder; a virtual parent is \\Noselect; DELETE of a parent keeps its children', async (t) => {
  const { root, store } = await setup(t);
  await store.create('A.B');
  const dir = path.join(root, '.A.B');
  for (const sub of ['cur', 'new', 'tmp']) assert.equal((await fs.stat(path.join(dir, sub))).mode & 0o777, 0o700);
  assert.equal((await fs.stat(dir)).mode & 0o777, 0o700);
  assert.ok((await fs.stat(path.join(dir, 'maildirfolder'))).isFile());
  assert.ok((await uidValidityOf(dir)) > 0);
  await store.create('A.B.C.'); // trailing separator: declares children, ignored
  await assert.rejects(store.create('A.B'), (e: unknown) => e instanceof MailError && e.kind === 'exists');
  await assert.rejects(store.create('inbox'), (e: unknown) => e instanceof MailError && e.kind === 'exists');
  let folders = await store.folders();
  assert.deepEqual(
    folders.map((f) => [f.name, f.noselect, f.hasChildren]),
    [['INBOX', false, false], ['A', true, true], ['A.B', false, true], ['A.B.C', false, false]],
  );
  await store.delete('A.B');
  folders = await store.folders();
  assert.deepEqual(folders.map((f) => [f.name, f.noselect, f.hasChildren]), [['INBOX', false, false], ['A', true, true], ['A.B', true, true], ['A.B.C', false, false]]);
  await assert.rejects(store.delete('A.B'), (e: unknown) => e instanceof MailError && e.kind === 'notfound');
  await assert.rejects(store.delete('INBOX'), MailError);
  assert.deepEqual((await fs.readdir(root)).filter((e) => e.startsWith('..')), [], 'no trash left behind');
});

test('a folder deleted and created again within the same second gets a new UIDVALIDITY', async (t) => {
  const { root, store } = await setup(t);
  await store.create('X');
  const first = await uidValidityOf(path.join(root, '.X'));
  await store.delete('X');
  await store.create('X');
  const second = await uidValidityOf(path.join(root, '.X'));
  assert.ok(second > first, `${second} > ${first}`);
  // Dovecot's files: the last value in hex, and its marker.
  const hex = (await fs.readFile(path.join(root, 'dovecot-uidvalidity'), 'utf8')).trim();
  assert.equal(parseInt(hex, 16), second);
  assert.ok((await fs.readdir(root)).includes(`dovecot-uidvalidity.${hex}`));
  // Concurrent allocations never collide.
  const many = await Promise.all(Array.from({ length: 20 }, () => nextUidValidity(root)));
  assert.equal(new Set(many).size, 20);
  assert.deepEqual((await fs.readdir(root)).filter((f) => f.endsWith('.tmp')), [], 'no temp file left behind');
});

test('RENAME moves children along and keeps UIDVALIDITY; RENAME INBOX moves its messages and leaves INBOX', async (t) => {
  const { root, store } = await setup(t);
  await store.create('A');
  await store.create('A.B');
  const uv = await uidValidityOf(path.join(root, '.A.B'));
  await store.rename('A', 'Z');
  assert.deepEqual((await store.folders()).map((f) => f.name), ['INBOX', 'Z', 'Z.B']);
  assert.equal(await uidValidityOf(path.join(root, '.Z.B')), uv);
  await assert.rejects(store.rename('Nope', 'Q'), (e: unknown) => e instanceof MailError && e.kind === 'notfound');
  await assert.rejects(store.rename('Z', 'Z.B.C'), MailError);
  await store.create('Y');
  await assert.rejects(store.rename('Z', 'Y'), (e: unknown) => e instanceof MailError && e.kind === 'exists');

  await fs.writeFile(path.join(root, 'new', '1700000000.M1P1.test'), 'Subject: a\n\nx\n');
  await fs.writeFile(path.join(root, 'cur', '1700000001.M1P1.test:2,S'), 'Subject: b\n\ny\n');
  await store.rename('INBOX', 'Old');
  const old = (await store.mailbox('Old'))!;
  assert.equal(old.count, 2);
  assert.deepEqual(old.all.map((m) => old.flagsOf(m)), [[], ['\\Seen']]);
  const inbox = (await store.mailbox('INBOX'))!;
  assert.equal(inbox.count, 0);
});

test('subscriptions: Dovecot format (V 2 header, TAB between levels), atomic rewrite', async (t) => {
  const { root, store } = await setup(t);
  await store.create('A.B');
  await store.create('Sent');
  await store.subscribe('A.B', true);
  await store.subscribe('Sent', true);
  await store.subscribe('Sent', true);
  assert.equal(await fs.readFile(path.join(root, 'subscriptions'), 'utf8'), 'V\t2\n\nA\tB\nSent\n');
  assert.deepEqual([...(await store.subscriptions())], ['A.B', 'Sent']);
  await store.subscribe('A.B', false);
  assert.equal(await fs.readFile(path.join(root, 'subscriptions'), 'utf8'), 'V\t2\n\nSent\n');
  await assert.rejects(store.subscribe('Gone', true), MailError);
  await store.subscribe('Gone', false); // unsubscribing a name that is not there is fine
});

test('special-use folders are created and subscribed on first use when missing', async (t) => {
  const { root, store } = await setup(t, true);
  const folders = await store.folders();
  assert.deepEqual(
    folders.filter((f) => f.specialUse.length).map((f) => [f.name, f.specialUse.join()]),
    [['Archive', '\\Archive'], ['Drafts', '\\Drafts'], ['Junk', '\\Junk'], ['Sent', '\\Sent'], ['Trash', '\\Trash']],
  );
  assert.deepEqual([...(await store.subscriptions())].sort(), ['Archive', 'Drafts', 'Junk', 'Sent', 'Trash']);
  assert.ok((await fs.stat(path.join(root, '.Sent', 'maildirfolder'))).isFile());
});

test('APPEND spools CRLF → LF with ,S= ,W= and flags in the name, the date as mtime; COPY hard-links under a new name', async (t) => {
  const { root, store } = await setup(t);
  await store.create('Archive');
  const inbox = (await store.mailbox('INBOX'))!;
  const spool = store.openSpool();
  const msg = Buffer.from('Subject: hi\r\n\r\nline one\r\nline two\r\n');
  // Split inside a CRLF: the CR waits for the next chunk.
  spool.write(msg.subarray(0, 12));
  spool.write(msg.subarray(12));
  const date = new Date('2024-01-05T09:11:12Z');
  const { uid, uidValidity } = await store.append(inbox, spool, ['\\Seen', '$Forwarded', '\\Flagged'], date);
  assert.equal(uid, 1);
  assert.equal(uidValidity, inbox.uidValidity);
  const [name] = await fs.readdir(path.join(root, 'cur'));
  assert.match(name, /^\d+\.M\d+P\d+\.[^,]+,S=31,W=35:2,FSa$/);
  const file = path.join(root, 'cur', name);
  assert.equal(await fs.readFile(file, 'utf8'), 'Subject: hi\n\nline one\nline two\n');
  assert.equal((await fs.stat(file)).mtime.getTime(), date.getTime());
  assert.deepEqual(await fs.readdir(path.join(root, 'tmp')).then((l) => l.filter((n) => !n.startsWith('.'))), []);
  assert.equal(inbox.count, 1, 'the Mailbox knows at once');

  const archive = (await store.mailbox('Archive'))!;
  const { uids } = await store.copy(inbox, [...inbox.all], archive);
  assert.deepEqual(uids, [1]);
  const [copied] = await fs.readdir(path.join(root, '.Archive', 'cur'));
  assert.notEqual(copied.split(',')[0], name.split(',')[0], 'a new base name');
  assert.match(copied, /,S=31,W=35:2,FSa$/);
  assert.equal((await fs.stat(path.join(root, '.Archive', 'cur', copied))).nlink, 2, 'a hard link');
  assert.deepEqual(archive.flagsOf(archive.all[0]).sort(), ['$Forwarded', '\\Flagged', '\\Seen']);
});

test('MULTIAPPEND (RFC 3502) on disk: UIDs in order, one step; a failure midway puts the placed files back, no UID used', async (t) => {
  const { root, store } = await setup(t);
  const inbox = (await store.mailbox('INBOX'))!;
  const spoolOf = (text: string) => {
    const s = store.openSpool();
    s.write(Buffer.from(text));
    s.finish();
    return s;
  };
  const first = [spoolOf('Subject: 1\r\n\r\none\r\n'), spoolOf('Subject: 2\r\n\r\ntwo\r\n')];
  const { uids } = await store.appendMany(inbox, [
    { message: first[0]!, flags: ['\\Seen'], date: null },
    { message: first[1]!, flags: [], date: new Date('2024-01-05T09:11:12Z') },
  ]);
  assert.deepEqual(uids, [1, 2]);
  assert.equal((await fs.readdir(path.join(root, 'cur'))).length, 2);

  // The second spool's file is gone (as a full disk or a cleaner would make it): the first goes back to tmp/.
  const failing = [spoolOf('Subject: 3\r\n\r\nthree\r\n'), spoolOf('Subject: 4\r\n\r\nfour\r\n')];
  await fs.rm(failing[1]!.file);
  await assert.rejects(store.appendMany(inbox, failing.map((message) => ({ message, flags: [], date: null }))));
  assert.equal((await fs.readdir(path.join(root, 'cur'))).length, 2, 'nothing left in cur/');
  assert.ok((await fs.stat(failing[0]!.file)).isFile(), 'the placed message is back in tmp/ for the spool to discard');
  for (const s of failing) s.discard();
  await new Promise((resolve) => setTimeout(resolve, 50)); // discard() unlinks in the background
  assert.deepEqual(await fs.readdir(path.join(root, 'tmp')).then((l) => l.filter((n) => !n.startsWith('.'))), []);
  assert.equal(inbox.count, 2);
  assert.equal(inbox.uidNext, 3, 'no UID used by the failed command');
  const again = await store.appendMany(inbox, [{ message: spoolOf('Subject: 5\r\n\r\nfive\r\n'), flags: [], date: null }]);
  assert.deepEqual(again.uids, [3]);
});
