// The Maildir store's quota: usage in Maildir++ maildirsize (one appended line
// per change, recalculated by Dovecot's rules), enforcement on APPEND, COPY and
// delivery, nothing for MOVE, room given back by EXPUNGE and DELETE, changes
// by others seen by the watcher, and no walk of the Maildir per delivery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { MailStore, MailboxRegistry } from '../../src/mail/store.js';
import { MailError, type QuotaLimits } from '../../src/mail/api.js';
import { limitsLine, parseMaildirsize, sizeInName } from '../../src/mail/quota.js';
import type { MessageSpool } from '../../src/mail/spool.js';
import { MailboxView } from '../../src/imap/tracker.js';

const log = pino({ level: 'silent' });

async function setup(t: test.TestContext, limits: QuotaLimits) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-quota-'));
  const registry = new MailboxRegistry(log, 60_000);
  const root = path.join(dir, 'bob', 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, sub), { recursive: true });
  t.after(async () => {
    await registry.closeAll();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const store = (l: QuotaLimits = limits) => new MailStore(root, registry, undefined, false, l);
  return { dir, root, registry, store, file: path.join(root, 'maildirsize') };
}

function spoolOf(store: MailStore, text: string): MessageSpool {
  const spool = store.openSpool();
  spool.write(Buffer.from(text));
  spool.finish();
  return spool;
}

/** A message whose LF form is exactly `size` bytes. */
function message(size: number): string {
  const head = 'Subject: x\r\n\r\n';
  return head + 'y'.repeat(size - 13) + '\r\n'; // on disk (LF): 12 bytes of header, the y's, one LF
}

async function appendOne(store: MailStore, size: number, folder = 'INBOX') {
  const box = (await store.mailbox(folder))!;
  const spool = spoolOf(store, message(size));
  try {
    return await store.append(box, spool, [], null);
  } finally {
    spool.discard();
  }
}

/** Lets the quota's queued appends to maildirsize reach the file. */
const settle = async (store: MailStore) => void (await store.quota());

test('maildirsize: parsed as Dovecot reads it; the limits line as Dovecot writes it', () => {
  assert.equal(limitsLine({ storage: 10240, messages: 3 }), '10240S,3C');
  assert.equal(limitsLine({ storage: 1024, messages: null }), '1024S');
  assert.equal(limitsLine({ storage: null, messages: 5 }), '5C');
  assert.equal(limitsLine({ storage: null, messages: null }), '0S');
  assert.deepEqual(parseMaildirsize('10240S,3C\n9039 3\n-3013 -1\n'), { ok: true, limits: { storage: 10240, messages: 3 }, bytes: 6026, messages: 2, lines: 2 });
  assert.deepEqual(parseMaildirsize('0S\n  12   1\n5 1\npartial'), { ok: true, limits: { storage: null, messages: null }, bytes: 17, messages: 2, lines: 2 }, 'padding allowed, unterminated tail ignored');
  assert.equal(parseMaildirsize('10S\n1 x\n').ok, false);
  assert.equal(parseMaildirsize('10S\n-5 -1\n').ok, false, 'negative total');
  assert.equal(parseMaildirsize('10Q\n1 1\n').ok, false);
  assert.equal(parseMaildirsize('10S\n1 1\0\n').ok, false);
  assert.equal(parseMaildirsize('10S\n').ok, false, 'no usage line');
  assert.equal(sizeInName('123.M1P2.h,S=3013,W=3020:2,S'), 3013);
  assert.equal(sizeInName('123.M1P2.h,S=3013'), 3013);
  assert.equal(sizeInName('123.V1I2M3.host'), null);
});

test('APPEND counts its file size, one line per message; past the limit it is MailError quota and nothing is saved', async (t) => {
  const { store, file, root } = await setup(t, { storage: 10240, messages: null });
  const bob = store();
  await appendOne(bob, 3000);
  await appendOne(bob, 3000);
  await appendOne(bob, 3000);
  await settle(bob);
  const text = await fs.readFile(file, 'utf8');
  // Missing at the first change: recalculated (0 0), then one line per APPEND.
  assert.equal(text, '10240S\n0 0\n3000 1\n3000 1\n3000 1\n');
  assert.deepEqual(await bob.quota(), { limits: { storage: 10240, messages: null }, bytes: 9000, messages: 3 });
  await assert.rejects(appendOne(bob, 3000), (err: Error) => err instanceof MailError && err.kind === 'quota');
  assert.equal((await fs.readdir(path.join(root, 'cur'))).length, 3, 'nothing saved');
  assert.deepEqual((await fs.readdir(path.join(root, 'tmp'))).filter((n) => !n.startsWith('.')), [], 'no spool left (the caller discards it)');
  await appendOne(bob, 1240 - 13 + 13); // exactly at the limit is allowed (Dovecot: used + size > limit is over)
  await assert.rejects(appendOne(bob, 13), (err: Error) => err instanceof MailError && err.kind === 'quota');
});

test('messages= limit; COPY is checked with all its messages, MOVE never fails; EXPUNGE and DELETE give room back', async (t) => {
  const { store, file } = await setup(t, { storage: null, messages: 3 });
  const bob = store();
  await bob.create('Archive');
  await appendOne(bob, 500);
  await appendOne(bob, 600);
  const inbox = (await bob.mailbox('INBOX'))!;
  const archive = (await bob.mailbox('Archive'))!;
  await assert.rejects(bob.copy(inbox, [...inbox.all], archive), (err: Error) => err instanceof MailError && err.kind === 'quota', '2 + 2 > 3');
  assert.equal(archive.count, 0, 'all or nothing');
  await bob.copy(inbox, [inbox.all[0]], archive);
  assert.equal((await bob.quota()).messages, 3);
  await assert.rejects(appendOne(bob, 20), (err: Error) => err instanceof MailError && err.kind === 'quota');
  // At the limit, MOVE still works: it takes no more room (as in Dovecot).
  await bob.move(inbox, [inbox.all[1]], archive);
  assert.deepEqual(await bob.quota(), { limits: { storage: null, messages: 3 }, bytes: 1600, messages: 3 });
  // EXPUNGE frees.
  await archive.setFlags([archive.all[0]], 'add', ['\\Deleted'], null);
  await archive.expunge(null);
  assert.deepEqual((await bob.quota()).messages, 2);
  // DELETE frees what the folder held.
  await bob.delete('Archive');
  assert.deepEqual(await bob.quota(), { limits: { storage: null, messages: 3 }, bytes: 500, messages: 1 });
  const parsed = parseMaildirsize(await fs.readFile(file, 'utf8'));
  assert.ok(parsed.ok && parsed.bytes === 500 && parsed.messages === 1, 'the file says the same');
});

test('a delivery past the limit is MailError quota before a byte is written; one that fits is counted, folder open or not', async (t) => {
  const { store, root } = await setup(t, { storage: 4000, messages: null });
  const bob = store();
  const env = { returnPath: 'carol@example.org', deliveredTo: 'bob@example.org' };
  const spool = spoolOf(bob, message(1500));
  t.after(() => spool.discard());
  await bob.deliver(spool, env); // INBOX not open: counted by the store
  const first = (await bob.quota()).bytes;
  assert.ok(first > 1500 && first < 1700, `header + message: ${first}`);
  const inbox = (await bob.mailbox('INBOX'))!;
  const view = await MailboxView.open(inbox, false);
  await bob.deliver(spool, env); // INBOX open: counted by the mailbox
  assert.equal((await bob.quota()).bytes, 2 * first);
  assert.equal(inbox.count, 2);
  await assert.rejects(bob.deliver(spool, env), (err: Error) => err instanceof MailError && err.kind === 'quota');
  assert.equal((await fs.readdir(path.join(root, 'cur'))).length + (await fs.readdir(path.join(root, 'new'))).length, 2);
  assert.deepEqual((await fs.readdir(path.join(root, 'tmp'))).filter((n) => !n.startsWith('.') && !n.startsWith(spool.base)), []);
  view.close?.();
});

test('recalculated when missing, damaged, of other limits, or 5120 bytes long; never per delivery', async (t) => {
  const { store, file, root, registry } = await setup(t, { storage: 10 * 1024 * 1024, messages: null });
  // 30 messages already there, some without ,S= (virtual(8)'s names): the walk stats those.
  for (let i = 0; i < 30; i++) await fs.writeFile(path.join(root, 'cur', i % 2 ? `17000000${i}.M1P1.h,S=100:2,S` : `17000000${i}.V1I${i}M1.h`), 'x'.repeat(100));
  const bob = store();
  assert.deepEqual((await bob.quota()).bytes, 3000);
  const usage = registry.quotaOf(root);
  assert.equal(usage.recalculations, 1);
  assert.equal(await fs.readFile(file, 'utf8'), '10485760S\n3000 30\n');
  // 200 APPENDs: one line each, no walk — until the file reaches 5120 bytes, then one walk.
  for (let i = 0; i < 200; i++) await appendOne(bob, 100);
  await settle(bob);
  const size = (await fs.stat(file)).size;
  assert.ok(usage.recalculations <= 2, `walks: ${usage.recalculations}`);
  assert.ok(size < 5120 + 20, `file size ${size}`);
  assert.deepEqual((await bob.quota()).messages, 230);
  // Damaged: recalculated on the next look (another process wrote garbage).
  await fs.writeFile(file, '10485760S\n3000 30\nrubbish\n');
  const before = usage.recalculations;
  assert.deepEqual((await bob.quota()).messages, 230);
  assert.equal(usage.recalculations, before + 1);
  // Another writer's line (Dovecot, maildrop) is read, not walked for.
  await fs.appendFile(file, '100 1\n');
  assert.deepEqual((await bob.quota()).messages, 231);
  assert.equal(usage.recalculations, before + 1);
  // Other limits (the users file changed): the header is rewritten by a walk.
  const bigger = store({ storage: 20 * 1024 * 1024, messages: null });
  assert.deepEqual((await bigger.quota()).messages, 230);
  assert.match(await fs.readFile(file, 'utf8'), /^20971520S\n\d+ 230\n$/);
  // Missing: walked again.
  await fs.unlink(file);
  assert.deepEqual((await bigger.quota()).messages, 230);
});

test('over quota with unrecalculated changes is not trusted (Dovecot): walked again, then enforced', async (t) => {
  const { store, file } = await setup(t, { storage: 1000, messages: null });
  const bob = store();
  await appendOne(bob, 400);
  // Someone's bogus lines claim the user is over quota: more than one change line → recalculated.
  await fs.appendFile(file, '5000 1\n');
  assert.equal((await bob.quota()).bytes, 400);
  await appendOne(bob, 500);
  await assert.rejects(appendOne(bob, 200), (err: Error) => err instanceof MailError && err.kind === 'quota');
});

test('messages others put in or take out of an open folder are counted when the watcher sees them', async (t) => {
  const { store, root } = await setup(t, { storage: 1024 * 1024, messages: null });
  const bob = store();
  const inbox = (await bob.mailbox('INBOX'))!;
  const view = await MailboxView.open(inbox, false);
  await appendOne(bob, 1000);
  assert.equal((await bob.quota()).bytes, 1000);
  // virtual(8) delivers: tmp/ then new/ under a name without ,S=.
  const tmp = path.join(root, 'tmp', '1700000000.V1I1M1.host');
  await fs.writeFile(tmp, 'Subject: v\n\n' + 'z'.repeat(488));
  await fs.rename(tmp, path.join(root, 'new', '1700000000.V1I1M1.host'));
  const until = Date.now() + 5000;
  while (inbox.count < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.equal(inbox.count, 2);
  assert.deepEqual(await bob.quota(), { limits: { storage: 1024 * 1024, messages: null }, bytes: 1500, messages: 2 });
  // rm of our APPEND's file.
  const ours = (await fs.readdir(path.join(root, 'cur'))).find((n) => n.includes(',S=1000'))!;
  await fs.unlink(path.join(root, 'cur', ours));
  while (inbox.count > 1 && Date.now() < until + 5000) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual((await bob.quota()).bytes, 500);
  view.close?.();
});

test('no limits: nothing tracked, no maildirsize written, nothing refused', async (t) => {
  const { store, file } = await setup(t, { storage: null, messages: null });
  const bob = store();
  await appendOne(bob, 5000);
  assert.deepEqual(await bob.quota(), { limits: { storage: null, messages: null }, bytes: 0, messages: 0 });
  await assert.rejects(fs.stat(file), { code: 'ENOENT' });
});
