// The live mailbox against outside writers: Postfix-style deliveries, a
// script renaming files (flag changes), rm (expunge), and changes made while
// nobody watched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Mailbox, settleOptions } from '../../src/mail/mailbox.js';
import type { ViewUpdate } from '../../src/imap/tracker.js';
import { MailboxView } from '../../src/imap/tracker.js';

// The fixtures are written just before they are read: what is read of them may be kept at once.
settleOptions.ms = 0;

const log = pino({ level: 'silent' });

async function makeBox(t: test.TestContext, files: Record<string, string> = {}): Promise<{ dir: string; box: Mailbox }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailbox-'));
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, sub));
  for (const [name, body] of Object.entries(files)) await fs.writeFile(path.join(dir, name), body);
  const box = new Mailbox('INBOX', dir, log, 60_000);
  t.after(async () => {
    await box.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  return { dir, box };
}

/** Waits until the view has something to say, then returns it. */
async function updates(view: { hasPending: boolean; flush(a: boolean): ViewUpdate[] }, ms = 2000): Promise<ViewUpdate[]> {
  const until = Date.now() + ms;
  while (!view.hasPending) {
    if (Date.now() > until) throw new Error('no update');
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 20)); // let a rename's two events both land
  return view.flush(true);
}

test('UIDs follow arrival order; a read-write view claims \\Recent and moves new/ to cur/', async (t) => {
  const { dir, box } = await makeBox(t, { 'cur/1700000002.b.host:2,S': 'b\n', 'cur/1700000001.a.host:2,': 'a\n' });
  const view = await MailboxView.open(box, false);
  assert.deepEqual(box.all.map((m) => [m.uid, m.basename]), [[1, '1700000001.a.host'], [2, '1700000002.b.host']]);
  await fs.writeFile(path.join(dir, 'tmp', 'x'), 'Subject: new\n\nhi\n');
  await fs.link(path.join(dir, 'tmp', 'x'), path.join(dir, 'new', '1700000003.c.host'));
  await fs.unlink(path.join(dir, 'tmp', 'x'));
  assert.deepEqual(await updates(view), [{ kind: 'exists', count: 3 }, { kind: 'recent', count: 1 }]);
  assert.ok(view.isRecent(3));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await fs.readdir(path.join(dir, 'new')), []);
  assert.ok((await fs.readdir(path.join(dir, 'cur'))).includes('1700000003.c.host:2,'));
  assert.equal(box.byUid(3)?.vsize, 'Subject: new\r\n\r\nhi\r\n'.length);
});

test('a first open numbers by delivery time (as a number, then by name; names without one last), counts a message in new/ and cur/ at once once, from cur/, and sorts flag letters', async (t) => {
  const { box } = await makeBox(t, {
    'cur/notime.z.host:2,': 'z\n',
    'cur/1000.y.host:2,S': 'y\n',
    'new/1000.y.host': 'y\n',
    'cur/999.x.host:2,SF': 'x\n',
    'cur/1000.a.host:2,': 'a\n',
  });
  await MailboxView.open(box, true);
  assert.deepEqual(
    box.all.map((m) => [m.uid, m.basename, m.sub, m.info]),
    [
      [1, '999.x.host', 'cur', 'FS'],
      [2, '1000.a.host', 'cur', ''],
      [3, '1000.y.host', 'cur', 'S'],
      [4, 'notime.z.host', 'cur', ''],
    ],
  );
});

test('a file modified within the settle time is served but its size is not kept (uidlist W, meta) until it stays unchanged', async (t) => {
  settleOptions.ms = 300;
  t.after(() => (settleOptions.ms = 0));
  const { dir, box } = await makeBox(t, { 'cur/1700000001.a.host:2,': 'a\n' });
  const view = await MailboxView.open(box, false);
  // Written straight into new/, in two parts.
  const file = path.join(dir, 'new', '1700000002.slow.host');
  await fs.writeFile(file, 'Subject: x\n\n');
  await updates(view);
  const meta = box.byUid(2)!;
  assert.equal(box.settled(meta), false);
  assert.equal(meta.vsize, null, 'no size kept from the first part');
  assert.equal(await box.vsizeOf(meta), 'Subject: x\r\n\r\n'.length, 'asked now: the size now');
  assert.equal(meta.vsize, null);
  const record = (await fs.readFile(path.join(dir, 'dovecot-uidlist'), 'utf8')).split('\n').find((l) => l.endsWith(':1700000002.slow.host'));
  assert.equal(record, '2 :1700000002.slow.host', 'the uidlist record has no W');
  await new Promise((r) => setTimeout(r, 150));
  await fs.appendFile(box.pathOf(meta), 'the rest\n');
  const whole = 'Subject: x\r\n\r\nthe rest\r\n'.length;
  assert.equal(await box.vsizeOf(meta), whole);
  // The check after 300 ms finds it written 150 ms ago: still unsettled; the next one settles it.
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(box.settled(meta), false, 'modified within the settle time at the first check');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(box.settled(meta), true);
  assert.equal(meta.vsize, whole, 'settled: the size of the whole file is kept');
  // An old file found is settled at once, its size kept.
  await fs.writeFile(path.join(dir, 'tmp', 'old'), 'Subject: old\n\n');
  await fs.utimes(path.join(dir, 'tmp', 'old'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  await fs.rename(path.join(dir, 'tmp', 'old'), path.join(dir, 'new', '1700000003.old.host'));
  await updates(view);
  assert.equal(box.settled(box.byUid(3)!), true);
  assert.equal(box.byUid(3)!.vsize, 'Subject: old\r\n\r\n'.length);
});

test('a read-only view leaves new/ alone', async (t) => {
  const { dir, box } = await makeBox(t, { 'new/1700000001.a.host': 'a\n' });
  const view = await MailboxView.open(box, true);
  assert.equal(view.recentCount, 1);
  assert.deepEqual(await fs.readdir(path.join(dir, 'new')), ['1700000001.a.host']);
});

test('a script renaming a file is a flag change; rm is an expunge', async (t) => {
  const { dir, box } = await makeBox(t, { 'cur/1.a.host:2,': 'a\n', 'cur/2.b.host:2,': 'b\n' });
  const view = await MailboxView.open(box, false);
  await fs.rename(path.join(dir, 'cur', '1.a.host:2,'), path.join(dir, 'cur', '1.a.host:2,FS'));
  const [fl] = await updates(view);
  assert.deepEqual(fl, { kind: 'flags', seq: 1, uid: 1, flags: ['\\Flagged', '\\Seen'], modseq: box.byUid(1)!.modseq });
  assert.ok(box.byUid(1)!.modseq > box.byUid(2)!.modseq, 'the renamed message got a new modseq');
  await fs.unlink(path.join(dir, 'cur', '1.a.host:2,FS'));
  assert.deepEqual(await updates(view), [{ kind: 'expunge', seq: 1, uid: 1 }]);
  assert.deepEqual(box.expungedSince(0), [1]);
  assert.equal(view.exists, 1);
  assert.equal(view.uidAt(1), 2);
});

test('expunges wait while not allowed, and sequence numbers hold meanwhile (RFC 3501 §7.4.1)', async (t) => {
  const { dir, box } = await makeBox(t, { 'cur/1.a.host:2,': 'a\n', 'cur/2.b.host:2,': 'b\n' });
  const view = await MailboxView.open(box, false);
  await fs.unlink(path.join(dir, 'cur', '1.a.host:2,'));
  const until = Date.now() + 2000;
  while (!view.hasPending && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
  assert.deepEqual(view.flush(false), []);
  assert.equal(view.seqOf(2), 2);
  assert.ok(view.isExpunged(1));
  assert.deepEqual(view.flush(true), [{ kind: 'expunge', seq: 1, uid: 1 }]);
  assert.equal(view.seqOf(2), 1);
});

test('changes made while no session watched are found on the next open', async (t) => {
  const { dir, box } = await makeBox(t, { 'cur/1.a.host:2,': 'a\n', 'cur/2.b.host:2,': 'b\n' });
  const first = await MailboxView.open(box, false);
  box.detach(first);
  await fs.rename(path.join(dir, 'cur', '2.b.host:2,'), path.join(dir, 'cur', '2.b.host:2,S'));
  await fs.unlink(path.join(dir, 'cur', '1.a.host:2,'));
  await fs.writeFile(path.join(dir, 'new', '3.c.host'), 'c\n');
  const view = await MailboxView.open(box, false);
  assert.deepEqual([...view.uidList], [2, 3]);
  assert.deepEqual(box.flagsOf(box.byUid(2)!), ['\\Seen']);
});

test('STORE renames within cur/, keywords go through dovecot-keywords, other views hear of it', async (t) => {
  const { dir, box } = await makeBox(t, { 'cur/1.a.host:2,S': 'a\n' });
  const a = await MailboxView.open(box, false);
  const b = await MailboxView.open(box, false);
  const changed = await box.setFlags([box.byUid(1)!], 'add', ['\\Flagged', '$Forwarded', 'custom1'], a);
  assert.equal(changed.length, 1);
  assert.deepEqual(await fs.readdir(path.join(dir, 'cur')), ['1.a.host:2,FSab']);
  assert.equal(await fs.readFile(path.join(dir, 'dovecot-keywords'), 'utf8'), '0 $Forwarded\n1 custom1\n');
  assert.deepEqual(b.flush(true), [{ kind: 'flags', seq: 1, uid: 1, flags: ['\\Flagged', '\\Seen', '$Forwarded', 'custom1'], modseq: box.byUid(1)!.modseq }]);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(a.flush(true), [], 'the origin answers its own STORE and is not told again');
});

test('the periodic rescan finds a delivery whose event was lost', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailbox-'));
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, sub));
  const box = new Mailbox('INBOX', dir, log, 100);
  t.after(async () => {
    await box.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const view = await MailboxView.open(box, false);
  // Stand-in for an inotify queue overflow: the watcher hears nothing from here on.
  (box as unknown as { watcher: { close(): void } }).watcher.close();
  await fs.writeFile(path.join(dir, 'new', '1700000001.lost.host'), 'x\n');
  assert.deepEqual(await updates(view, 3000), [{ kind: 'exists', count: 1 }, { kind: 'recent', count: 1 }]);
});

test('\\Recent follows files between new/ and cur/ whoever moves them: renamed, removed, delivered, claimed', async (t) => {
  const { dir, box } = await makeBox(t, { 'new/1700000001.a.host': 'a\n', 'new/1700000002.b.host': 'b\n', 'cur/1700000003.c.host:2,': 'c\n' });
  const recentOf = async () => {
    const v = await MailboxView.open(box, true); // EXAMINE: sees \Recent, claims nothing
    const r = v.uidList.filter((u) => v.isRecent(u));
    v.close();
    return r;
  };
  const watcher = await MailboxView.open(box, true);
  assert.deepEqual(await recentOf(), [1, 2]);
  assert.equal(box.recentCount, 2);
  await fs.rename(path.join(dir, 'new', '1700000001.a.host'), path.join(dir, 'cur', '1700000001.a.host:2,S'));
  await updates(watcher);
  assert.deepEqual(await recentOf(), [2], 'moved to cur/ by someone else');
  assert.equal(box.recentCount, 1);
  await fs.rm(path.join(dir, 'new', '1700000002.b.host'));
  await updates(watcher);
  assert.deepEqual(await recentOf(), []);
  assert.equal(box.recentCount, 0);
  await fs.writeFile(path.join(dir, 'new', '1700000004.d.host'), 'd\n');
  await updates(watcher);
  assert.deepEqual(await recentOf(), [4], 'delivered');
  const owner = await MailboxView.open(box, false);
  assert.deepEqual(owner.uidList.filter((u) => owner.isRecent(u)), [4], 'claimed by the first read-write session');
  assert.deepEqual(await recentOf(), [], 'and moved to cur/');
  assert.deepEqual(await fs.readdir(path.join(dir, 'new')), []);
  owner.close();
  watcher.close();
});
