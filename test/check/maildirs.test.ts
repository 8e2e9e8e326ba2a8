import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkMaildirs, type StatFn, type StatInfo } from '../../src/check/maildirs.js';
import type { UserEntry } from '../../src/auth/passwd-file.js';

const user = (name: string, home: string | null = null): UserEntry => ({ name, scheme: 'PLAIN', secret: 'x', uid: null, gid: null, home, quota: {} });
const me = { name: 'me', uid: process.getuid!(), gid: process.getgid!() };
const realStat: StatFn = (p) => {
  try {
    const st = statSync(p);
    return { isDirectory: st.isDirectory(), uid: st.uid, gid: st.gid, mode: st.mode };
  } catch {
    return null;
  }
};

test('Maildirs on disk: missing Maildir, missing tmp/, a good one', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'check-md-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  for (const s of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, 'bob', 'Maildir', s), { recursive: true });
  for (const s of ['cur', 'new']) await fs.mkdir(path.join(dir, 'alice', 'Maildir', s), { recursive: true });
  const res = checkMaildirs([user('bob'), user('alice'), user('carol')], path.join(dir, '%n', 'Maildir'), me, realStat);
  const msgs = res.problems.map((p) => p.message);
  assert.deepEqual(msgs, [
    `user alice: ${path.join(dir, 'alice/Maildir/tmp')} is missing (a Maildir has cur/, new/ and tmp/)`,
    `user carol: Maildir ${path.join(dir, 'carol/Maildir')} does not exist`,
  ]);
  assert.match(res.problems[1].fix, /^install -d -o me /);
  assert.deepEqual(res.passed, [`1 Maildir with cur/ new/ tmp/, owned and writable by me (uid ${me.uid})`]);
});

test('Maildirs: wrong owner, read-only, untraversable parent, ~ without home (fake stat)', () => {
  const vmail = { name: 'vmail', uid: 999, gid: 995 };
  const d = (uid: number, mode: number): StatInfo => ({ isDirectory: true, uid, gid: uid, mode: 0o40000 | mode });
  const tree: Record<string, StatInfo> = { '/': d(0, 0o755), '/m': d(0, 0o755), '/m/bob': d(999, 0o700), '/m/alice': d(999, 0o700), '/m/x': d(0, 0o700) };
  for (const s of ['', '/cur', '/new', '/tmp']) {
    tree[`/m/bob/Maildir${s}`] = d(0, 0o700); // root's: Postfix would have made it vmail's
    tree[`/m/alice/Maildir${s}`] = d(999, s === '/new' ? 0o500 : 0o700);
    tree[`/m/x/carol/Maildir${s}`] = d(999, 0o700);
  }
  const stat: StatFn = (p) => tree[p] ?? null;
  const res = checkMaildirs([user('bob', '/m/bob'), user('alice', '/m/alice'), user('carol', '/m/x/carol'), user('dave')], '~/Maildir', vmail, stat);
  assert.deepEqual(
    res.problems.map((p) => [p.message, p.fix]),
    [
      ['user bob: /m/bob/Maildir belongs to uid 0, not to vmail (uid 999) who serves the mail', 'chown -R vmail: /m/bob/Maildir'],
      ['user alice: /m/alice/Maildir/new is not writable by its owner vmail (mode 500)', 'chmod u+rwx /m/alice/Maildir/new'],
      ['user carol: vmail cannot enter /m/x (mode 700), so cannot reach /m/x/carol/Maildir', 'chmod o+x /m/x  (or make vmail its owner or group)'],
      ['user dave: user dave has no home in the users file, but the Maildir template starts with ~', "give dave a home field (the 6th) in the users file, or use a template without ~"],
    ],
  );
  assert.deepEqual(res.passed, []);
});

test('a template that gives several users one Maildir is an error unless mail.shared_maildir (issue "Hostile input", E.18)', () => {
  const none: StatFn = () => null;
  const shared = checkMaildirs([user('bob'), user('alice'), user('carol')], '/var/mail/Maildir', me, none);
  assert.match(shared.problems[0].message, /^users bob, alice, carol all get the Maildir \/var\/mail\/Maildir from mail\.maildir = "\/var\/mail\/Maildir": they would read each other's mail/);
  assert.match(shared.problems[0].fix, /mail\.shared_maildir = true/);
  // %n alone: the same local part in two domains collides too.
  const twoDomains = checkMaildirs([user('bob@a.org'), user('bob@b.org'), user('eve@a.org')], '/m/%n', me, none);
  assert.match(twoDomains.problems[0].message, /^users bob@a\.org, bob@b\.org all get the Maildir \/m\/bob /);
  assert.equal(twoDomains.problems.filter((p) => /all get the Maildir/.test(p.message)).length, 1);
  const perUser = checkMaildirs([user('bob@a.org'), user('bob@b.org')], '/m/%d/%n', me, none);
  assert.ok(!perUser.problems.some((p) => /all get the Maildir/.test(p.message)));
  const allowed = checkMaildirs([user('bob'), user('alice')], '/var/mail/Maildir', me, none, { sharedAllowed: true });
  assert.ok(!allowed.problems.some((p) => /all get the Maildir/.test(p.message)));
});

test('symbolic links in a Maildir (issue "Hostile input", D.15): linked folders, message files, cur/ are named as warnings; a clean Maildir passes', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'check-md-links-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const bob = path.join(dir, 'bob', 'Maildir');
  const alice = path.join(dir, 'alice', 'Maildir');
  for (const m of [bob, alice]) for (const s of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(m, s), { recursive: true });
  await fs.writeFile(path.join(alice, 'new', '1.a.host'), 'x');
  await fs.symlink(alice, path.join(bob, '.Evil'));
  await fs.mkdir(path.join(bob, '.Real', 'cur'), { recursive: true });
  await fs.symlink(path.join(alice, 'new'), path.join(bob, '.Real', 'new'));
  for (let i = 0; i < 5; i++) await fs.symlink('/etc/passwd', path.join(bob, 'new', `170000000${i}.M${i}.planted`));
  const entries = (d: string) => {
    try {
      return readdirSync(d, { withFileTypes: true }).map((e) => ({ name: e.name, symlink: e.isSymbolicLink(), directory: e.isDirectory() }));
    } catch {
      return null;
    }
  };
  const res = checkMaildirs([user('bob'), user('alice')], path.join(dir, '%n', 'Maildir'), me, realStat, { entries });
  const msgs = res.problems.map((p) => `${p.severity} ${p.message}`);
  assert.deepEqual(msgs.sort(), [
    `warn user bob: ${bob}/.Real/new is a symbolic link: the folder is not served`,
    `warn user bob: 5 message files are symbolic links in ${bob}/new (1700000000.M0.planted, 1700000001.M1.planted, 1700000002.M2.planted …): never served`,
    `warn user bob: folder ${bob}/.Evil is a symbolic link: not served (a link could lead into another user's mail)`,
  ]);
  assert.ok(!res.passed.some((p) => p.includes('no symbolic links')));
  for (const f of await fs.readdir(path.join(bob, 'new'))) await fs.rm(path.join(bob, 'new', f));
  await fs.rm(path.join(bob, '.Evil'));
  await fs.rm(path.join(bob, '.Real'), { recursive: true });
  const clean = checkMaildirs([user('bob'), user('alice')], path.join(dir, '%n', 'Maildir'), me, realStat, { entries });
  assert.deepEqual(clean.problems, []);
  assert.ok(clean.passed.includes('no symbolic links among the folders and message files'));
});
