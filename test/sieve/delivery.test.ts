// Sieve at delivery (issue 11): where the scripts are (user-scripts.ts), how
// the before / personal / after scripts combine into targets (filter.ts),
// redirect and vacation through a fake sendmail that records its arguments
// and input, vacation's §4.5 rules and :days memory (vacation.ts), and the
// LMTP path on a real socket into the in-memory store: fileinto, :create,
// flags, discard, reject as 550 5.7.1 beside a 250 for another recipient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { SieveFilter, envelopeFromHeader, type FilterEnvelope } from '../../src/sieve/filter.js';
import { ScriptCache, expandSievePath, userSievePaths } from '../../src/sieve/user-scripts.js';
import { MemoryMail, MemoryUser } from '../support/memory-store.js';
import { LmtpService } from '../../src/lmtp/server.js';

const log = pino({ level: 'silent' });
const SPECIAL = { '\\Drafts': 'Drafts', '\\Sent': 'Sent', '\\Trash': 'Trash', '\\Junk': 'Junk', '\\Archive': 'Archive' } as const;

interface World {
  dir: string;
  home: string;
  maildir: string;
  /** Calls of the fake sendmail: its arguments and what it read. */
  sent(): Promise<Array<{ args: string[]; input: string }>>;
  sendmail: string;
  user: MemoryUser;
  filter(opts?: { before?: string[]; after?: string[]; sendmail?: string; globalDir?: string }): SieveFilter;
  script(text: string, name?: string): Promise<void>;
}

async function world(t: test.TestContext): Promise<World> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-sieve-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const home = path.join(dir, 'bob');
  const maildir = path.join(home, 'Maildir');
  await fs.mkdir(maildir, { recursive: true });
  const calls = path.join(dir, 'sendmail-calls');
  await fs.mkdir(calls);
  const sendmail = path.join(dir, 'sendmail');
  // One directory per call: its arguments, one a line, and the message it read.
  await fs.writeFile(
    sendmail,
    `#!/bin/sh\nd=${calls}/$(date +%s%N)-$$\nmkdir "$d"\nprintf '%s\\n' "$@" > "$d/args"\ncat > "$d/input"\n`,
    { mode: 0o755 },
  );
  const mail = new MemoryMail({ specialUse: SPECIAL, createSpecialFolders: true });
  const user = mail.userStore(maildir);
  await user.folders(); // the special-use folders (Junk …)
  return {
    dir,
    home,
    maildir,
    sendmail,
    user,
    sent: async () =>
      Promise.all(
        (await fs.readdir(calls)).sort().map(async (c) => ({
          args: (await fs.readFile(path.join(calls, c, 'args'), 'utf8')).split('\n').slice(0, -1),
          input: await fs.readFile(path.join(calls, c, 'input'), 'utf8'),
        })),
      ),
    filter: (opts = {}) =>
      new SieveFilter({
        log,
        locations: { dir: '~/sieve', active: '~/.dovecot.sieve' },
        before: opts.before ?? [],
        after: opts.after ?? [],
        sendmail: opts.sendmail ?? sendmail,
        separator: '+',
        globalDir: opts.globalDir,
      }),
    script: async (text, name = 'main') => {
      await fs.mkdir(path.join(home, 'sieve'), { recursive: true });
      await fs.writeFile(path.join(home, 'sieve', `${name}.sieve`), text);
      await fs.rm(path.join(home, '.dovecot.sieve'), { force: true });
      await fs.symlink(`sieve/${name}.sieve`, path.join(home, '.dovecot.sieve'));
    },
  };
}

const bob = (w: World) => ({ name: 'bob@example.org', home: null, maildir: w.maildir, store: w.user });
const ENV: FilterEnvelope = { from: 'carol@example.org', to: 'bob@example.org' };
const msg = (headers: string, body = 'Hello Bob\n') =>
  Buffer.from(`Return-Path: <carol@example.org>\nDelivered-To: bob@example.org\nFrom: Carol <carol@example.org>\nTo: Bob <bob@example.org>\nMessage-ID: <m1@example.org>\n${headers}\n${body}`);

test('the paths: ~ is the home from the users file, else the Maildir\'s parent; %n %d; the active script is found through its link and recompiled when it changes', async (t) => {
  assert.equal(expandSievePath('~/.dovecot.sieve', { name: 'bob@example.org', home: '/home/bob', maildir: '/var/mail/x/Maildir' }), '/home/bob/.dovecot.sieve');
  assert.equal(expandSievePath('~/sieve', { name: 'bob@example.org', home: null, maildir: '/var/mail/example.org/bob/Maildir' }), '/var/mail/example.org/bob/sieve');
  assert.equal(expandSievePath('/srv/sieve/%d/%n.sieve', { name: 'bob@example.org', home: null, maildir: '/m' }), '/srv/sieve/example.org/bob.sieve');
  const w = await world(t);
  const paths = userSievePaths({ dir: '~/sieve', active: '~/.dovecot.sieve' }, { name: 'bob', home: null, maildir: w.maildir });
  assert.equal(paths.active, path.join(w.home, '.dovecot.sieve'));
  assert.equal(paths.vacation, path.join(w.home, '.maildir-imapd-vacation'));
  const cache = new ScriptCache();
  assert.equal(await cache.load(paths.active), null, 'no script: null');
  await w.script('require "fileinto"; fileinto "A";', 'one');
  const first = await cache.load(paths.active);
  assert.ok(first?.ok);
  assert.equal(first.name, 'one');
  assert.equal(await cache.load(paths.active), first, 'unchanged: the cached compile');
  await w.script('keep', 'two'); // switched (as ManageSieve's SETACTIVE does), and broken
  const second = await cache.load(paths.active);
  assert.equal(second?.name, 'two');
  assert.ok(second && !second.ok && /line 1/.test(`line ${second.errors[0].line}`));
});

test('fileinto with flags, :create, discard; a compile error is skipped, a runtime error keeps in INBOX', async (t) => {
  const w = await world(t);
  const f = w.filter();
  await w.script('require ["fileinto", "imap4flags", "mailbox"];\nif header :contains "subject" "list" { fileinto :create :flags "\\\\Seen $Lists" "Lists"; stop; }\nif header :is "subject" "bye" { discard; }\n');
  let out = await f.run(bob(w), msg('Subject: the list'), ENV, 'lmtp');
  assert.ok(out.filtered);
  assert.deepEqual(out.targets, [{ folder: 'Lists', flags: ['\\Seen', '$Lists'], create: true }]);
  out = await f.run(bob(w), msg('Subject: bye'), ENV, 'lmtp');
  assert.deepEqual(out.targets, []);
  out = await f.run(bob(w), msg('Subject: hi'), ENV, 'lmtp');
  assert.deepEqual(out.targets, [{ folder: 'INBOX', flags: [], create: false }]);
  // Non-ASCII folder names are stored in modified UTF-7, as on the wire.
  await w.script('require "fileinto"; fileinto "Entwürfe";');
  out = await f.run(bob(w), msg('Subject: x'), ENV, 'lmtp');
  assert.deepEqual(out.targets.map((x) => x.folder), ['Entw&APw-rfe']);
  await w.script('require "fileinto"; fileinto "A"'); // missing ';'
  out = await f.run(bob(w), msg('Subject: x'), ENV, 'lmtp');
  assert.equal(out.filtered, false, 'the broken script is skipped: plain delivery');
  await w.script('require ["variables", "fileinto"]; set "a" "x"; redirect "not an address ${a}";');
  out = await f.run(bob(w), msg('Subject: x'), ENV, 'lmtp');
  assert.deepEqual(out.targets, [{ folder: 'INBOX', flags: [], create: false }], 'a runtime error: INBOX');
  assert.equal(out.reject, null);
});

test('include at delivery: the user\'s scripts and sieve.global_dir\'s, from the active script and from a before script; a missing one keeps the message in INBOX', async (t) => {
  const w = await world(t);
  const global = path.join(w.dir, 'global');
  await fs.mkdir(global);
  await fs.writeFile(path.join(global, 'spam.sieve'), 'require "fileinto"; if header :is "x-spam-flag" "YES" { fileinto "Junk"; }');
  const before = path.join(w.dir, 'before.sieve');
  await fs.writeFile(before, 'require "include"; include :global "spam";');
  await w.script('require "fileinto"; if header :contains "subject" "work" { fileinto "Work"; }', 'work');
  await w.script('require ["include", "fileinto"]; include "work"; include :optional "later";');
  const f = w.filter({ before: [before], globalDir: global });
  let out = await f.run(bob(w), msg('Subject: work\nX-Spam-Flag: YES'), ENV, 'lmtp');
  assert.deepEqual(out.targets, [{ folder: 'Junk', flags: [], create: false }], 'the before script included the global one');
  out = await f.run(bob(w), msg('Subject: work'), ENV, 'watcher');
  assert.deepEqual(out.targets, [{ folder: 'Work', flags: [], create: false }], 'the active script included the personal one');
  // the included script vanishes: the active script no longer loads; the message stays in INBOX
  await fs.rm(path.join(w.home, 'sieve', 'work.sieve'));
  out = await f.run(bob(w), msg('Subject: work'), ENV, 'lmtp');
  assert.deepEqual(out.targets, [{ folder: 'INBOX', flags: [], create: false }]);
});

test('before and after scripts: spam to Junk in a before script ends the sequence; the after script runs only while the message is kept', async (t) => {
  const w = await world(t);
  const before = path.join(w.dir, 'before.sieve');
  const after = path.join(w.dir, 'after.d');
  await fs.writeFile(before, 'require "fileinto"; if header :is "x-spam-flag" "YES" { fileinto "Junk"; }');
  await fs.mkdir(after);
  await fs.writeFile(path.join(after, '10-flag.sieve'), 'require "imap4flags"; addflag "$Checked";');
  await w.script('require "fileinto"; if header :contains "subject" "work" { fileinto "Work"; }');
  const f = w.filter({ before: [before], after: [after] });
  let out = await f.run(bob(w), msg('Subject: work\nX-Spam-Flag: YES'), ENV, 'lmtp');
  assert.deepEqual(out.targets, [{ folder: 'Junk', flags: [], create: false }]);
  out = await f.run(bob(w), msg('Subject: work'), ENV, 'lmtp');
  assert.deepEqual(out.targets, [{ folder: 'Work', flags: [], create: false }], 'the user script filed it: no after script');
  out = await f.run(bob(w), msg('Subject: hello'), ENV, 'lmtp');
  assert.deepEqual(out.targets, [{ folder: 'INBOX', flags: ['$Checked'], create: false }]);
  assert.match(out.summary, /before\+main\+10-flag/);
});

test('reject: a refusal on the LMTP path; on the watcher path the message cannot be refused and is kept', async (t) => {
  const w = await world(t);
  await w.script('require "reject"; reject "I do not want\r\nthis";');
  const f = w.filter();
  const lmtp = await f.run(bob(w), msg('Subject: x'), ENV, 'lmtp');
  assert.equal(lmtp.reject, 'I do not want this');
  assert.deepEqual(lmtp.targets, []);
  const watcher = await f.run(bob(w), msg('Subject: x'), ENV, 'watcher');
  assert.equal(watcher.reject, null);
  assert.deepEqual(watcher.targets, [{ folder: 'INBOX', flags: [], create: false }]);
});

test('redirect goes through sendmail -i -f SENDER -- ADDRESS with the message; a sendmail that fails says so', async (t) => {
  const w = await world(t);
  await w.script('redirect "alice@example.net";');
  const out = await w.filter().run(bob(w), msg('Subject: fwd'), ENV, 'lmtp');
  assert.deepEqual(out.targets, []);
  assert.equal(await out.sideEffects(), true);
  const [call] = await w.sent();
  assert.deepEqual(call.args, ['-i', '-f', 'carol@example.org', '--', 'alice@example.net']);
  assert.match(call.input, /^Return-Path: <carol@example.org>\nDelivered-To: bob@example.org\n[^]*Subject: fwd\n/);
  const failing = path.join(w.dir, 'failing-sendmail');
  await fs.writeFile(failing, '#!/bin/sh\necho "queue file write error" >&2\nexit 75\n', { mode: 0o755 });
  const bad = await w.filter({ sendmail: failing }).run(bob(w), msg('Subject: fwd'), ENV, 'lmtp');
  assert.equal(await bad.sideEffects(), false);
});

test('vacation: one reply per sender and period, from the null sender, with Auto-Submitted and In-Reply-To; none to lists, automatic mail, or when the user is not a recipient', async (t) => {
  const w = await world(t);
  await w.script('require "vacation"; vacation :days 3 :subject "Away" :addresses ["bob@example.org"] "I am away until Monday.";');
  const f = w.filter();
  const run = async (headers: string, env = ENV) => {
    const out = await f.run(bob(w), msg(headers), env, 'lmtp');
    assert.deepEqual(out.targets, [{ folder: 'INBOX', flags: [], create: false }], 'vacation keeps the message');
    await out.sideEffects();
    return (await w.sent()).length;
  };
  assert.equal(await run('Subject: hi'), 1);
  const [reply] = await w.sent();
  assert.deepEqual(reply.args, ['-i', '-f', '<>', '--', 'carol@example.org']);
  assert.match(reply.input, /^From: bob@example.org\nTo: <carol@example.org>\nSubject: Away\n/);
  assert.match(reply.input, /\nIn-Reply-To: <m1@example.org>\n/);
  assert.match(reply.input, /\nAuto-Submitted: auto-replied \(vacation\)\n/);
  assert.match(reply.input, /\n\nI am away until Monday.\n$/);
  const memory = await fs.readFile(path.join(w.home, '.maildir-imapd-vacation'), 'utf8');
  assert.match(memory, /^\d+ [0-9a-f]{64}\n$/, 'the :days memory is on disk');
  assert.equal(await run('Subject: again'), 1, 'within :days: no second reply');
  // A fresh filter (a restarted server) reads the memory from disk.
  const again = await w.filter().run(bob(w), msg('Subject: after restart'), ENV, 'lmtp');
  await again.sideEffects();
  assert.equal((await w.sent()).length, 1);
  const other = { from: 'dave@example.org', to: 'bob@example.org' };
  assert.equal(await run('Subject: list\nList-Id: <x.example.org>', other), 1);
  assert.equal(await run('Subject: auto\nAuto-Submitted: auto-generated', other), 1);
  assert.equal(await run('Subject: bulk\nPrecedence: bulk', other), 1);
  assert.equal(await run('Subject: bounce', { from: '', to: 'bob@example.org' }), 1);
  assert.equal(await run('Subject: daemon', { from: 'MAILER-DAEMON@example.org', to: 'bob@example.org' }), 1);
  const bcc = await f.run(bob(w), Buffer.from('From: dave@example.org\nTo: someone@example.net\nSubject: bcc\n\nx\n'), other, 'lmtp');
  await bcc.sideEffects();
  assert.equal((await w.sent()).length, 1, 'bob only in Bcc (not in the header): no reply');
  assert.equal(await run('Subject: to me', other), 2, 'dave gets his reply');
});

test('the envelope of a file Postfix wrote comes from Return-Path and the topmost Delivered-To', () => {
  const env = envelopeFromHeader(Buffer.from('Return-Path: <carol@example.org>\nX-Original-To: robert@example.org\nDelivered-To: bob+x@example.org\nDelivered-To: old@example.org\n\nbody\n'), 'bob');
  assert.deepEqual(env, { from: 'carol@example.org', to: 'bob+x@example.org', originalTo: 'robert@example.org' });
  assert.deepEqual(envelopeFromHeader(Buffer.from('Return-Path: <>\nSubject: x\n\n'), 'bob'), { from: '', to: 'bob', originalTo: null });
});

/** A raw LMTP exchange, pipelined (the session reads the body after its 354): every reply, up to QUIT's. */
async function lmtp(port: number, lines: string[]): Promise<string[]> {
  const sock = net.connect(port, '127.0.0.1');
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (buf += d));
  sock.write(lines.map((l) => l + '\r\n').join(''));
  const end = Date.now() + 5000;
  while (!/^221 /m.test(buf)) {
    if (Date.now() > end) throw new Error(`no reply to QUIT: ${buf}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  sock.end();
  return buf.split('\r\n').filter((l) => /^\d{3} /.test(l));
}

test('LMTP with Sieve: fileinto :create with flags, discard, and reject as 550 5.7.1 for one recipient while the other gets 250', async (t) => {
  const w = await world(t);
  const alice = path.join(w.dir, 'alice');
  await fs.mkdir(path.join(alice, 'sieve'), { recursive: true });
  await fs.writeFile(path.join(alice, 'sieve', 'r.sieve'), 'require "reject"; if header :contains "subject" "offer" { reject "No offers, thanks"; }');
  await fs.symlink('sieve/r.sieve', path.join(alice, '.dovecot.sieve'));
  await w.script('require ["fileinto", "imap4flags", "mailbox"]; if header :contains "subject" "offer" { fileinto :create :flags "\\\\Flagged" "Offers"; } elsif header :contains "subject" "spam" { discard; }');
  const mail = new MemoryMail({ specialUse: SPECIAL, createSpecialFolders: false });
  const users = new Map([
    ['bob', { name: 'bob', home: w.home }],
    ['alice', { name: 'alice', home: alice }],
  ]);
  const sieve = w.filter();
  const service = new LmtpService<{ name: string; home: string }>({
    log,
    users: { lookup: (l) => users.get(l) },
    storeFor: (u) => mail.userStore(u.name),
    filterFor: (u, store) => (bytes, env) => sieve.run({ name: u.name, home: u.home, maildir: path.join(u.home, 'Maildir'), store }, bytes, env, 'lmtp'),
    recipientDelimiter: '+',
    socket: { user: null, group: null, mode: 0o660 },
    hostname: 'lmtp.test',
  });
  const l = await service.listen('127.0.0.1:0');
  service.open();
  t.after(() => service.close(100));
  const port = (l.address as net.AddressInfo).port;
  const send = (subject: string, rcpts: string[]) =>
    lmtp(port, ['LHLO c', 'MAIL FROM:<carol@example.org>', ...rcpts.map((r) => `RCPT TO:<${r}>`), 'DATA', `Subject: ${subject}`, '', 'body', '.', 'QUIT']);
  const r1 = await send('an offer', ['bob@example.org', 'alice@example.org']);
  assert.deepEqual(r1.slice(-3), ['250 2.0.0 <bob@example.org> Saved', '550 5.7.1 <alice@example.org> No offers, thanks', '221 2.0.0 lmtp.test Bye']);
  const bobMail = mail.userStore('bob');
  const offers = (await bobMail.mailbox('Offers'))!;
  assert.equal(offers.count, 1, 'made by :create, and the message is there');
  assert.deepEqual(offers.flagsOf(offers.all[0]), ['\\Flagged']);
  assert.equal((await mail.userStore('alice').mailbox('INBOX'))!.count, 0, 'alice refused it: nothing written');
  const r2 = await send('spam', ['bob@example.org']);
  assert.equal(r2[r2.length - 2], "250 2.0.0 <bob@example.org> Discarded by the recipient's filter");
  const r3 = await send('hello', ['bob@example.org']);
  assert.equal(r3[r3.length - 2], '250 2.0.0 <bob@example.org> Saved');
  const inbox = (await bobMail.mailbox('INBOX'))!;
  assert.equal(inbox.count, 1, 'only the kept one');
  assert.deepEqual(bobMail.delivered.map((d) => [d.folder, d.filtered]), [
    ['Offers', true],
    ['INBOX', true],
  ]);
});
