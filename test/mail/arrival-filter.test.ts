// The Maildir store's side of filtering mail that Postfix's virtual(8) wrote
// straight into INBOX's new/ (the watcher path of Sieve, issue 11): the
// filter sees each such file before any session hears of it, and the file
// is moved by rename within the Maildir; INBOX's sessions never see it and
// its uidlist never lists it; a file that has a UID, or that our LMTP marked
// as filtered, is never filtered; files found at load (delivered while the
// server was down) are filtered then; discard waits for the side effects; a
// crash between the link into one folder and the rename into the other
// leaves one copy in each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { MailService, type ArrivalFilter, type FilterDecision } from '../../src/mail/api.js';
import { DEFAULT_SPECIAL_USE } from '../../src/mail/special-use.js';
import { MailboxView } from '../../src/imap/tracker.js';
import { deliver } from '../support/server.js';
import type { Mailbox } from '../../src/mail/mailbox.js';

const log = pino({ level: 'silent' });

interface Setup {
  root: string;
  service: MailService;
  seen: string[];
}

/** A filter by Subject: "junk" → Junk, "seen" → INBOX with \Seen and $Label, "drop" → nowhere, "both" → A and B, else keep. */
const bySubject = (seen: string[], after: () => Promise<boolean> = async () => true): ArrivalFilter => {
  return async (_root, read): Promise<FilterDecision | null> => {
    const bytes = await read();
    const subject = /^Subject: (.*)$/m.exec(bytes.toString())?.[1] ?? '';
    seen.push(subject);
    const d = (targets: FilterDecision['targets']): FilterDecision => ({ targets, after, summary: subject });
    if (subject === 'junk') return d([{ folder: 'Junk', flags: [], create: false }]);
    if (subject === 'seen') return d([{ folder: 'INBOX', flags: ['\\Seen', '$Label'], create: false }]);
    if (subject === 'drop') return d([]);
    if (subject === 'both') return d([{ folder: 'A', flags: [], create: true }, { folder: 'B', flags: ['\\Flagged'], create: true }]);
    if (subject === 'nowhere') return d([{ folder: 'Missing', flags: [], create: false }]);
    return null;
  };
};

async function setup(t: test.TestContext, filter: (seen: string[]) => ArrivalFilter = (seen) => bySubject(seen), root?: string): Promise<Setup> {
  let dir: string | null = null;
  if (!root) {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-arrival-'));
    root = path.join(dir, 'Maildir');
    for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, sub), { recursive: true });
  }
  const seen: string[] = [];
  const service = new MailService({ log, rescanMs: 60_000, specialUse: DEFAULT_SPECIAL_USE, createSpecialFolders: true, arrivalFilter: filter(seen) });
  t.after(async () => {
    await service.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });
  return { root, service, seen };
}

const message = (subject: string) => `Return-Path: <carol@example.org>\nDelivered-To: bob@example.org\nFrom: carol@example.org\nSubject: ${subject}\n\nbody\n`;

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const uidlistNames = async (dir: string) =>
  (await fs.readFile(path.join(dir, 'dovecot-uidlist'), 'utf8').catch(() => ''))
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => l.slice(l.indexOf(' :') + 2));

test('a message filed into Junk by the filter: Junk hears EXISTS, INBOX hears nothing and never lists it', async (t) => {
  const { root, service } = await setup(t);
  const user = service.userStore(root);
  const inbox = (await user.mailbox('INBOX'))!;
  const junk = (await user.mailbox('Junk'))!;
  const inboxView = await MailboxView.open(inbox, false);
  const junkView = await MailboxView.open(junk, false);
  const name = await deliver(root, message('junk'));
  await until('Junk to hear of it', () => junkView.hasPending);
  assert.deepEqual(junkView.flush(true), [{ kind: 'exists', count: 1 }, { kind: 'recent', count: 1 }]);
  // Another delivery that stays: INBOX's first and only message is that one.
  await deliver(root, message('hello'));
  await until('INBOX to hear of the second', () => inboxView.hasPending);
  assert.deepEqual(inboxView.flush(true), [{ kind: 'exists', count: 1 }, { kind: 'recent', count: 1 }]);
  assert.equal(inbox.count, 1);
  assert.equal(inbox.all[0].uid, 1, 'the filed message never took an INBOX UID');
  assert.ok(!(await uidlistNames(root)).includes(name), "INBOX's uidlist never listed the filed message");
  assert.deepEqual(await uidlistNames(path.join(root, '.Junk')), [name]);
  assert.equal(junk.count, 1);
  const junkFiles = await fs.readdir(path.join(root, '.Junk', 'cur'));
  assert.equal(junkFiles.length, 1, 'claimed by the read-write session: in cur/');
  assert.ok(junkFiles[0].startsWith(name));
  await assert.rejects(fs.access(path.join(root, 'new', name)));
});

test('keep with flags: the message stays in INBOX, \\Recent, with its flags; a discard removes the file only once the side effects are done', async (t) => {
  const afterCalls: string[] = [];
  let handOn = true;
  const { root, service } = await setup(t, (seen) =>
    bySubject(seen, async () => {
      afterCalls.push('after');
      return handOn;
    }),
  );
  const user = service.userStore(root);
  const inbox = (await user.mailbox('INBOX')) as Mailbox;
  const view = await MailboxView.open(inbox, false);
  await deliver(root, message('seen'));
  await until('INBOX to hear of it', () => view.hasPending);
  assert.deepEqual(view.flush(true), [{ kind: 'exists', count: 1 }, { kind: 'recent', count: 1 }]);
  assert.deepEqual(inbox.flagsOf(inbox.all[0]).sort(), ['$Label', '\\Seen']);
  const dropped = await deliver(root, message('drop'));
  await until('the discard', async () => afterCalls.length === 2 && !(await fs.access(path.join(root, 'new', dropped)).then(() => true, () => false)));
  handOn = false; // a redirect that failed: the message must stay
  const kept = await deliver(root, message('drop'));
  await until('INBOX to hear of the kept one', () => view.hasPending);
  assert.deepEqual(view.flush(true), [{ kind: 'exists', count: 2 }, { kind: 'recent', count: 2 }]);
  assert.ok(inbox.all.some((m) => m.basename === kept));
  assert.equal(inbox.count, 2);
});

test('a folder that does not exist without :create keeps the message in INBOX; :create makes it; a crash after the link into A leaves one copy in A and one in B', async (t) => {
  const { root, service } = await setup(t);
  const user = service.userStore(root);
  const inbox = (await user.mailbox('INBOX'))!;
  const view = await MailboxView.open(inbox, false);
  await deliver(root, message('nowhere'));
  await until('INBOX to hear of it', () => view.hasPending);
  assert.equal(inbox.count, 1);
  // "both": link into A (made by :create), rename into B. Simulate a crash after the link: it is there already.
  await user.create('A');
  const name = `${Math.floor(Date.now() / 1000)}.V801I99M1.crash`;
  await fs.writeFile(path.join(root, 'tmp', name), message('both'));
  await fs.link(path.join(root, 'tmp', name), path.join(root, '.A', 'new', name));
  await fs.rename(path.join(root, 'tmp', name), path.join(root, 'new', name));
  await until('B to be made and filled', async () => (await fs.readdir(path.join(root, '.B', 'new')).catch(() => [])).length === 1);
  assert.deepEqual(await fs.readdir(path.join(root, '.A', 'new')), [name]);
  assert.deepEqual(await fs.readdir(path.join(root, '.B', 'new')), [`${name}:2,F`]);
  assert.equal(inbox.count, 1, 'nothing more in INBOX');
  assert.ok(!(await uidlistNames(root)).includes(name));
});

test('mail that came while the server was down is filtered at the first scan, unless it has a UID; a file our LMTP marked as filtered never is', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-arrival-'));
  const root = path.join(dir, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, sub), { recursive: true });
  // First run: no filter; one "junk" message gets its UID (a session may have seen it).
  const listed = await deliver(root, message('junk'));
  {
    const first = new MailService({ log, rescanMs: 60_000, specialUse: DEFAULT_SPECIAL_USE, createSpecialFolders: true });
    const inbox = (await first.userStore(root).mailbox('INBOX')) as Mailbox;
    assert.equal(inbox.count, 1);
    await first.close();
  }
  // While down: one more "junk", and one our LMTP wrote after filtering (the mark in its name).
  const fresh = await deliver(root, message('junk'));
  const marked = `${Math.floor(Date.now() / 1000)}.M1P1.host,F=1,S=10,W=11`;
  await fs.writeFile(path.join(root, 'new', marked), message('junk'));
  const { service, seen } = await setup(t, undefined, root);
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const user = service.userStore(root);
  const inbox = (await user.mailbox('INBOX')) as Mailbox;
  assert.deepEqual(seen, ['junk'], 'only the unlisted, unmarked one went through the filter');
  assert.deepEqual(inbox.all.map((m) => m.basename).sort(), [listed, marked].sort());
  const junk = (await user.mailbox('Junk')) as Mailbox;
  assert.deepEqual(junk.all.map((m) => m.basename), [fresh]);
});

test('a message found under new/ and cur/ at once at the first open (moved between the two readdirs) is kept from cur/ and never filtered', async (t) => {
  const { root, service, seen } = await setup(t);
  const name = `${Math.floor(Date.now() / 1000)}.M7P7.host`;
  await fs.writeFile(path.join(root, 'new', name), message('junk'));
  await fs.link(path.join(root, 'new', name), path.join(root, 'cur', `${name}:2,S`));
  const inbox = (await service.userStore(root).mailbox('INBOX')) as Mailbox;
  assert.deepEqual(seen, [], 'a message another client has already read is not filtered');
  assert.deepEqual(inbox.all.map((m) => [m.basename, m.sub, m.info]), [[name, 'cur', 'S']]);
});

test('a filter that throws, or a file that cannot be placed, leaves the message in INBOX', async (t) => {
  const { root, service } = await setup(t, () => async () => {
    throw new Error('boom');
  });
  const inbox = (await service.userStore(root).mailbox('INBOX'))!;
  const view = await MailboxView.open(inbox, false);
  await deliver(root, message('junk'));
  await until('INBOX to hear of it', () => view.hasPending);
  assert.equal(inbox.count, 1);
});
