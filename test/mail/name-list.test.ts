// The persisted name list (issue 14): an open after a close (a restart, a
// dropped folder) skips the readdir only when new/, cur/ and the uidlist are
// provably as listed; a change (also one that did not move the stamps, in
// the same tick), a damaged or foreign file, or kill -9 during the write
// all end in a full scan with the same UIDs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Mailbox, settleOptions } from '../../src/mail/mailbox.js';
import { Maildir } from '../../src/mail/maildir.js';
import { NAME_LIST_FILE, nameListOptions, parseNameList, formatNameList, unchangedSince } from '../../src/mail/name-list.js';

settleOptions.ms = 0;
nameListOptions.dirtyMs = 40;
const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function folder(t: test.TestContext, count = 5): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'name-list-'));
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, sub));
  for (let i = 1; i <= count; i++) await fs.writeFile(path.join(dir, 'cur', `17000000${String(i).padStart(2, '0')}.m${i}.host:2,S`), `Subject: ${i}\n\nbody ${i}\n`);
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The folder as a fresh Mailbox opens it: uid → file, and how many readdirs that took. */
async function reopen(dir: string): Promise<{ files: Map<number, string>; scans: number; uidNext: number }> {
  const original = Maildir.prototype.scan;
  let scans = 0;
  Maildir.prototype.scan = function (this: Maildir) {
    scans++;
    return original.call(this);
  };
  const box = new Mailbox('INBOX', dir, log, 60_000);
  try {
    await box.load();
  } finally {
    Maildir.prototype.scan = original;
  }
  const files = new Map(box.all.map((m) => [m.uid, `${m.sub}/${m.filename}`]));
  const uidNext = box.uidNext;
  await box.close();
  return { files, scans, uidNext };
}

/** Opens and closes once (writing the list), then waits past the dirty window. */
async function settle(dir: string): Promise<Map<number, string>> {
  await sleep(nameListOptions.dirtyMs + 20);
  const { files } = await reopen(dir);
  return files;
}

test('unchanged folder: the next open takes the list and reads neither directory; same UIDs and names', async (t) => {
  const dir = await folder(t);
  const before = await settle(dir);
  assert.ok((await fs.readFile(path.join(dir, NAME_LIST_FILE), 'utf8')).startsWith('maildir-imapd-names 1\n'));
  const after = await reopen(dir);
  assert.equal(after.scans, 0);
  assert.deepEqual(after.files, before);
  assert.equal(after.uidNext, 6);
});

test('changes made while closed are found: a delivery, a flag rename, an rm', async (t) => {
  const dir = await folder(t);
  const before = await settle(dir);
  await fs.writeFile(path.join(dir, 'new', '1700000099.new.host'), 'Subject: new\n\nx\n');
  await fs.rename(path.join(dir, 'cur', '1700000002.m2.host:2,S'), path.join(dir, 'cur', '1700000002.m2.host:2,FS'));
  await fs.unlink(path.join(dir, 'cur', '1700000003.m3.host:2,S'));
  const after = await reopen(dir);
  assert.ok(after.scans > 0);
  const expected = new Map(before);
  expected.set(2, 'cur/1700000002.m2.host:2,FS');
  expected.delete(3);
  expected.set(6, 'new/1700000099.new.host');
  assert.deepEqual(after.files, expected);
  // And the list written at that close is the new state: trusted once it is old enough.
  await sleep(nameListOptions.dirtyMs + 20);
  const third = await reopen(dir);
  assert.deepEqual(third.files, expected);
});

test('a change in the same tick as the listed stamp (the stamps did not move) is found: a recent mtime is never trusted', async (t) => {
  const dir = await folder(t);
  await settle(dir);
  await fs.writeFile(path.join(dir, 'new', '1700000099.late.host'), 'Subject: late\n\nx\n');
  // Stand-in for a change the directory's stamps could not show (same clock tick): the list
  // claims the current stamps, but its scan is older than their mtime/ctime.
  const file = path.join(dir, NAME_LIST_FILE);
  const list = parseNameList(await fs.readFile(file, 'utf8'))!;
  list.dirStamp = await new Maildir(dir).dirStamp();
  await fs.writeFile(file, formatNameList(list)!);
  const after = await reopen(dir);
  assert.ok(after.scans > 0);
  assert.equal(after.files.get(6), 'new/1700000099.late.host');
});

test('unchangedSince: other stamps, or an mtime/ctime within dirtyMs of the scan, are not trusted', () => {
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  const scan = 1_000_000;
  const old = `7:${ns(scan - 1000)}:${ns(scan - 1000)}/8:${ns(scan - 500)}:${ns(scan - 500)}`;
  assert.equal(unchangedSince(old, old, scan), true);
  assert.equal(unchangedSince(old, old.replace('7:', '9:'), scan), false);
  const recentCtime = `7:${ns(scan - 1000)}:${ns(scan - 10)}/8:${ns(scan - 500)}:${ns(scan - 500)}`;
  assert.equal(unchangedSince(recentCtime, recentCtime, scan), false);
  const future = `7:${ns(scan + 5)}:${ns(scan + 5)}/-`;
  assert.equal(unchangedSince(future, future, scan), false);
});

test('a truncated, damaged, foreign-version or stale-uidlist list is not used: full scan, same UIDs', async (t) => {
  const dir = await folder(t);
  const before = await settle(dir);
  const file = path.join(dir, NAME_LIST_FILE);
  const good = await fs.readFile(file, 'utf8');
  const damaged = [
    good.slice(0, good.length - 7), // torn
    good.slice(0, good.indexOf('\n2 c') + 1) + good.slice(good.indexOf('\n3 c') + 1), // a line gone (CRC)
    good.replace('\n1 c', '\n4 c'), // a UID changed (CRC)
    good.replace('maildir-imapd-names 1', 'maildir-imapd-names 0'),
    '',
    '\u0000'.repeat(100),
  ];
  for (const text of damaged) {
    await fs.writeFile(file, text);
    await sleep(nameListOptions.dirtyMs + 20);
    const after = await reopen(dir);
    assert.ok(after.scans > 0, JSON.stringify(text.slice(0, 40)));
    assert.deepEqual(after.files, before);
  }
  // A list whose CRC is right but whose uidlist has changed since (another server gave a UID): not used.
  await settle(dir);
  await fs.writeFile(path.join(dir, 'cur', '1700000077.other.host:2,'), 'Subject: other\n\nx\n');
  await fs.appendFile(path.join(dir, 'dovecot-uidlist'), '6 :1700000077.other.host\n');
  const list = parseNameList(await fs.readFile(file, 'utf8'))!;
  list.dirStamp = await new Maildir(dir).dirStamp();
  list.scannedAtMs = Date.now() + 10_000;
  await fs.writeFile(file, formatNameList(list)!);
  const after = await reopen(dir);
  assert.ok(after.scans > 0);
  assert.equal(after.files.get(6), 'cur/1700000077.other.host:2,');
});

test('kill -9 while the list is written: the next open has every message once with its UID', async (t) => {
  const dir = await folder(t, 3000);
  const expected = await settle(dir);
  const child = path.join(path.dirname(new URL(import.meta.url).pathname), 'name-list-writer.js');
  for (let round = 0; round < 6; round++) {
    const proc = spawn(process.execPath, [child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Killed after its first writes have begun (it says "writing" before each).
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
    await sleep(5 + ((round * 37) % 120));
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    const after = await reopen(dir);
    // The writer only renames flags (S <-> empty): each UID keeps its message, none lost or doubled.
    assert.equal(after.files.size, expected.size);
    for (const [uid, file] of expected) assert.equal(after.files.get(uid)?.replace(/:2,.*$/, ''), file.replace(/:2,.*$/, ''), `UID ${uid}`);
    assert.equal(after.uidNext, expected.size + 1);
  }
});
