import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, statSync } from 'node:fs';
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
  const allowed = checkMaildirs([user('bob'), user('alice')], '/var/mail/Maildir', me, none, true);
  assert.ok(!allowed.problems.some((p) => /all get the Maildir/.test(p.message)));
});
