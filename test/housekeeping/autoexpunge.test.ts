// Autoexpunge on both stores: what came into a folder before the limit goes
// (in batches, sessions told), nothing younger is touched, and the Maildir
// store judges by the file's ctime (the move into the folder), not its mtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { MailService, DEFAULT_SPECIAL_USE, type MailboxListener, type MessageRef } from '../../src/mail/api.js';
import { Autoexpunger, autoexpungeRules, foldersToExpunge } from '../../src/housekeeping/autoexpunge.js';
import { expungeArrivedBefore } from '../../src/housekeeping/expunge-old.js';
import { MemoryMail } from '../support/memory-store.js';
import { parseAge } from '../../src/config.js';
import { settleOptions } from '../../src/mail/mailbox.js';

const DAY = 86_400_000;

/** A session's view reduced to what it hears of expunges. */
function listener(): MailboxListener & { expunged: number[][] } {
  return {
    readOnly: false,
    expunged: [],
    init() {},
    onAdded() {},
    onExpunged(metas: MessageRef[]) {
      this.expunged.push(metas.map((m) => m.uid));
    },
    onFlags() {},
    claimRecent() {},
    onRenumbered() {},
  };
}

/** A pino logger whose lines a test can read. */
function capture(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

test('ages: Dovecot time units; 0 is never; anything else undefined', () => {
  assert.equal(parseAge('30d'), 30 * DAY);
  assert.equal(parseAge('2 weeks'), 14 * DAY);
  assert.equal(parseAge('90s'), 90_000);
  assert.equal(parseAge('12h'), 12 * 3_600_000);
  assert.equal(parseAge('0'), null);
  for (const bad of ['30', '30x', '-1d', '', 30, '1.5d']) assert.equal(parseAge(bad), undefined, String(bad));
});

test('memory store: old messages in \\Trash and a named folder go in batches, sessions hear it, younger ones stay', async () => {
  const mail = new MemoryMail({ specialUse: DEFAULT_SPECIAL_USE, createSpecialFolders: true });
  const user = mail.userStore('/u/bob');
  await user.create('Old');
  const trash = (await user.mailbox('Trash'))!;
  const old = (await user.mailbox('Old'))!;
  const inTrash = [1, 2, 3, 4, 5].map((i) => trash.add(`Subject: t${i}\n\nx\n`));
  for (const m of inTrash.slice(0, 4)) trash.age(m.uid, 31 * DAY);
  trash.age(inTrash[4].uid, 29 * DAY); // younger than the limit: stays
  old.add('Subject: o\n\nx\n');
  old.age(1, 3 * DAY);
  const junk = (await user.mailbox('Junk'))!;
  junk.add('Subject: j\n\nx\n');
  junk.age(1, 365 * DAY); // no rule for Junk
  const session = await trash.attach(listener());
  const { log, lines } = capture();
  const rules = autoexpungeRules({ autoexpungeTrash: 30 * DAY, autoexpungeJunk: null, autoexpungeFolders: { Old: 2 * DAY } });
  const ae = new Autoexpunger({ rules, intervalMs: 3_600_000, batch: 3, log, users: () => [{ name: 'bob', store: () => user }] });
  await ae.runOnce();
  assert.deepEqual(trash.all.map((m) => m.uid), [5]);
  assert.equal(old.count, 0);
  assert.equal(junk.count, 1);
  // Batches of 3: the session heard 1-3, then 4.
  assert.deepEqual(session.expunged, [[1, 2, 3], [4]]);
  const byFolder = Object.fromEntries(lines.filter((l) => l.msg === 'autoexpunge').map((l) => [l.folder, [l.examined, l.expunged]]));
  assert.deepEqual(byFolder, { Trash: [5, 4], Old: [1, 1] });
});

test('a folder named by two rules keeps the shorter limit', async () => {
  const mail = new MemoryMail({ specialUse: DEFAULT_SPECIAL_USE, createSpecialFolders: true });
  const user = mail.userStore('/u/x');
  const rules = autoexpungeRules({ autoexpungeTrash: 30 * DAY, autoexpungeJunk: 60 * DAY, autoexpungeFolders: { Trash: 7 * DAY } });
  const got = await foldersToExpunge(user, rules);
  assert.deepEqual([...got], [['Junk', 60 * DAY], ['Trash', 7 * DAY]]);
});

test('a dry run lists and removes nothing', async () => {
  const mail = new MemoryMail({ specialUse: DEFAULT_SPECIAL_USE, createSpecialFolders: true });
  const trash = (await mail.userStore('/u/y').mailbox('Trash'))!;
  trash.add('a\n');
  trash.add('b\n');
  trash.age(1, 10 * DAY);
  const r = await expungeArrivedBefore(trash, Date.now() - DAY, { batch: 10, dryRun: true });
  assert.equal(r.expunged, 1);
  assert.deepEqual(r.listed.map((l) => l.uid), [1]);
  assert.equal(trash.count, 2);
});

test('Maildir store: judged by the file ctime (arrival in the folder), not the mtime (INTERNALDATE); sessions hear it', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'autoexpunge-'));
  const root = path.join(dir, 'Maildir');
  const mail = new MailService({ log: pino({ level: 'silent' }), rescanMs: 60_000, specialUse: DEFAULT_SPECIAL_USE, createSpecialFolders: true });
  t.after(async () => {
    await mail.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const user = mail.userStore(root);
  await user.folders(); // first use: the special folders are made
  const cur = path.join(root, '.Trash', 'cur');
  const longAgo = new Date('2020-01-01T00:00:00Z');
  // Three messages delivered years ago (mtime 2020) that came into Trash now.
  for (const n of [1, 2, 3]) {
    const f = path.join(cur, `170000000${n}.m${n}.host:2,S`);
    await fs.writeFile(f, `Subject: ${n}\n\nbody\n`);
    await fs.utimes(f, longAgo, longAgo);
  }
  const trash = (await user.mailbox('Trash'))!;
  const session = await trash.attach(listener());
  assert.equal(trash.count, 3);
  // 30 days: an mtime of 2020 does not make them old.
  const young = await expungeArrivedBefore(trash, Date.now() - 30 * DAY, { batch: 2 });
  assert.deepEqual([young.examined, young.expunged, trash.count], [3, 0, 3]);
  assert.ok((await trash.arrivedAt(trash.all[0])) > longAgo.getTime() + DAY);
  // Time passes; message 2 is flagged (a rename: ctime now), so it counts as younger than the cutoff.
  await new Promise((r) => setTimeout(r, 30));
  const cutoff = Date.now();
  await new Promise((r) => setTimeout(r, 30));
  await trash.setFlags([trash.byUid(2)!], 'add', ['\\Flagged'], null);
  const r = await expungeArrivedBefore(trash, cutoff, { batch: 2 });
  assert.deepEqual([r.examined, r.expunged], [3, 2]);
  assert.deepEqual(trash.all.map((m) => m.uid), [2]);
  assert.deepEqual(session.expunged.flat(), [1, 3]);
  assert.deepEqual((await fs.readdir(cur)).length, 1);
  const q = await user.quota();
  assert.equal(q.messages, 0); // no limits set: nothing tracked, and nothing broke
});

test('Maildir store: reindex drops and rebuilds the message index (UIDs, flags kept); quota recalc counts the files', async (t) => {
  // The fixtures are written just before: what is read of them may be kept at once.
  settleOptions.ms = 0;
  t.after(() => (settleOptions.ms = 2000));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reindex-'));
  const root = path.join(dir, 'Maildir');
  const mail = new MailService({ log: pino({ level: 'silent' }), rescanMs: 60_000, specialUse: DEFAULT_SPECIAL_USE, createSpecialFolders: false });
  t.after(async () => {
    await mail.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, sub), { recursive: true });
  for (const n of [1, 2, 3]) await fs.writeFile(path.join(root, 'cur', `170000000${n}.r${n}.host:2,${n === 2 ? 'F' : ''}`), `Subject: r${n}\n\nbody ${n}\n`);
  const user = mail.userStore(root, { storage: 1 << 20, messages: null }, true);
  const inbox = (await user.mailbox('INBOX'))!;
  const index = path.join(root, 'maildir-imapd-index');
  // A damaged cache: garbage where the index was.
  await fs.writeFile(index, 'not an index at all');
  const done = await user.reindex(null);
  assert.deepEqual(done, [{ folder: 'INBOX', messages: 3 }]);
  const bytes = await fs.readFile(index);
  assert.equal(bytes.subarray(0, 8).toString(), 'MIMIDX1\n');
  for (const n of [1, 2, 3]) assert.ok(bytes.includes(`170000000${n}.r${n}.host`), `record for message ${n}`);
  assert.deepEqual(inbox.all.map((m) => [m.uid, inbox.flagsOf(m)]), [[1, []], [2, ['\\Flagged']], [3, []]]);
  assert.equal(inbox.all[0].vsize, 'Subject: r1\r\n\r\nbody 1\r\n'.length);
  await assert.rejects(user.reindex('Nope'), /doesn't exist/);
  // A file dropped in by hand into a folder nobody watches: recalc counts it and rewrites maildirsize.
  await fs.writeFile(path.join(root, 'cur', '1700000009.r9.host:2,'), 'Subject: r9\n\nx\n');
  const q = await user.recalculateQuota();
  assert.equal(q.messages, 4);
  assert.match(await fs.readFile(path.join(root, 'maildirsize'), 'utf8'), /^1048576S\n\d+ 4\n$/);
});

test('the housekeeping store creates no folder for a user who never logged in (memory and Maildir stores alike)', async (t) => {
  const memory = new MemoryMail({ specialUse: DEFAULT_SPECIAL_USE, createSpecialFolders: true });
  assert.deepEqual((await memory.userStore('/m/new', undefined, true).folders()).map((f) => f.name), ['INBOX']);
  assert.ok((await memory.userStore('/m/new').folders()).some((f) => f.name === 'Trash'), 'a login creates them');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'housekeeping-'));
  const mail = new MailService({ log: pino({ level: 'silent' }), rescanMs: 60_000, specialUse: DEFAULT_SPECIAL_USE, createSpecialFolders: true });
  t.after(async () => {
    await mail.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const root = path.join(dir, 'Maildir');
  assert.deepEqual((await mail.userStore(root, undefined, true).folders()).map((f) => f.name), ['INBOX']);
  assert.equal(await fs.stat(root).catch(() => null), null, 'not even the Maildir is made');
  assert.ok((await mail.userStore(root).folders()).some((f) => f.name === 'Trash'), 'a login creates them');
});
