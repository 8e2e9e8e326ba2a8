// The service user (issue "Hostile input", D.15 and E.20): `check` run as
// root tries the users file and the Maildirs as service.user, and names the
// symbolic links the server will not follow; service.user given while not
// started as root is an error in check and in serve, never ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');
const root = process.getuid!() === 0;

async function setup(t: test.TestContext, users: string[]) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'check-svc-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.chmod(dir, 0o711);
  await fs.writeFile(path.join(dir, 'users'), users.map((u) => `${u}:{PLAIN}pw\n`).join(''));
  for (const u of users) for (const s of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, 'mail', u, 'Maildir', s), { recursive: true });
  const config = path.join(dir, 'config.toml');
  await fs.writeFile(config, `[imap]\nlisten = "127.0.0.1:0"\n[auth]\nusers = "${dir}/users"\n[mail]\nmaildir = "${dir}/mail/%n/Maildir"\n`);
  return { dir, config };
}

test('check as root: the users file and the Maildirs are tried as service.user; symlinked folders and message files are named', async (t) => {
  if (!root) return t.skip('needs root: check tries files as the service user only when it can become it');
  const { dir, config } = await setup(t, ['bob', 'alice']);
  const bob = path.join(dir, 'mail', 'bob', 'Maildir');
  const alice = path.join(dir, 'mail', 'alice', 'Maildir');
  execFileSync('chown', ['-R', 'nobody:', path.join(dir, 'mail')]);
  // As Debian ships /etc/dovecot/users: root's, mode 0640, group dovecot — not readable by the mail owner.
  await fs.chmod(path.join(dir, 'users'), 0o640);
  // A folder of bob's that is a link to alice's Maildir, a message file linked to one of hers, a linked cur/.
  await fs.writeFile(path.join(alice, 'cur', '1700000001.M1P1.host:2,S'), 'Subject: secret\n\nx\n');
  await fs.symlink(alice, path.join(bob, '.Evil'));
  await fs.symlink(path.join(alice, 'cur', '1700000001.M1P1.host:2,S'), path.join(bob, 'cur', '1700000002.M2P1.planted:2,'));
  await fs.mkdir(path.join(bob, '.Sneaky', 'new'), { recursive: true });
  await fs.symlink(path.join(alice, 'cur'), path.join(bob, '.Sneaky', 'cur'));
  execFileSync('chown', ['-hR', 'nobody:', path.join(dir, 'mail')]);
  // Mode bits say alice's Maildir is reachable (its parent is root's, 0755), an ACL there says
  // otherwise: only trying as the user shows it.
  const aliceHome = path.dirname(alice);
  execFileSync('chown', ['root:root', aliceHome]);
  await fs.chmod(aliceHome, 0o755);
  const acl = spawnSync('setfacl', ['-m', 'u:nobody:---', aliceHome]).status === 0;

  const run = () => spawnSync(process.execPath, [CLI, 'check', '--config', config, '--user', 'nobody'], { encoding: 'utf8' });
  const r = run();
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^ERROR  users     users file ${dir}/users: nobody cannot read it \\(EACCES, tried as nobody\\): serve reads it after becoming nobody, and would fail to start\\n {7}fix: {6}chgrp 65534 ${dir}/users && chmod g\\+r`, 'm'));
  assert.match(r.stdout, new RegExp(`^WARN   maildirs  user bob: folder ${bob}/\\.Evil is a symbolic link: not served`, 'm'));
  assert.match(r.stdout, new RegExp(`^WARN   maildirs  user bob: 1 message file is a symbolic link in ${bob}/cur \\(1700000002\\.M2P1\\.planted:2,\\): never served`, 'm'));
  assert.match(r.stdout, new RegExp(`^WARN   maildirs  user bob: ${bob}/\\.Sneaky/cur is a symbolic link: the folder is not served`, 'm'));
  assert.doesNotMatch(r.stdout, /user alice: .*symbolic link/, 'alice has none');
  if (acl) {
    assert.match(r.stdout, new RegExp(`^ERROR  maildirs  user alice: nobody cannot read, write and enter ${alice} \\(EACCES, tried as nobody\\)`, 'm'));
    assert.equal(r.stdout.split('user alice: nobody cannot').length, 2, 'one line for the Maildir, not one per subdirectory');
  }
  else t.diagnostic('setfacl unavailable: the ACL case was not tried');

  // Fixed: the file readable by the service user's group, the links gone, the ACL removed.
  execFileSync('chgrp', ['nogroup', path.join(dir, 'users')]);
  await fs.rm(path.join(bob, '.Evil'));
  await fs.rm(path.join(bob, 'cur', '1700000002.M2P1.planted:2,'));
  await fs.rm(path.join(bob, '.Sneaky'), { recursive: true });
  if (acl) execFileSync('setfacl', ['-b', aliceHome]);
  const ok = run();
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, new RegExp(`^ok     users     users file ${dir}/users is readable by nobody \\(tried as nobody\\)$`, 'm'));
  assert.match(ok.stdout, /^ok     maildirs  2 Maildirs with cur\/ new\/ tmp\/, owned and writable by nobody \(uid 65534\), tried as that user$/m);
  assert.match(ok.stdout, /^ok     maildirs  no symbolic links among the folders and message files$/m);
});

test('service.user while not started as root: check says so, serve refuses to start, naming the user', async (t) => {
  const { dir, config } = await setup(t, ['bob']);
  // As root the commands run as nobody; otherwise as ourselves. Either way service.user is someone else.
  const as = root ? { uid: 65534, gid: 65534 } : {};
  const me = root ? 'nobody' : (spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim() || String(process.getuid!()));
  const other = me === 'daemon' ? 'nobody' : 'daemon';
  if (root) execFileSync('chown', ['-R', 'nobody:', dir]);
  const check = spawnSync(process.execPath, [CLI, 'check', '--config', config, '--user', other], { encoding: 'utf8', cwd: '/', ...as });
  assert.equal(check.status, 1, check.stdout + check.stderr);
  assert.match(check.stdout, new RegExp(`^ERROR  service   .*service\\.user = ${other}, but this runs as ${me} \\(uid \\d+\\), not root: it cannot become ${other}, and serve refuses to start so\\n {7}fix: {6}start maildir-imapd as root`, 'm'));
  const serve = spawnSync(process.execPath, [CLI, 'serve', '--config', config, '--user', other], { encoding: 'utf8', cwd: '/', timeout: 20_000, ...as });
  assert.notEqual(serve.status, 0, 'serve must not start');
  assert.match(serve.stderr, new RegExp(`service\\.user = ${other}, but started as ${me} \\(uid \\d+\\), not root: cannot become ${other}`));
  assert.doesNotMatch(serve.stderr, /ready on/);
  // As that user itself it is fine.
  if (root) {
    const self = spawnSync(process.execPath, [CLI, 'check', '--config', config, '--user', 'nobody'], { encoding: 'utf8', cwd: '/', ...as });
    assert.match(self.stdout, /^ok     service   serves mail as nobody:nogroup \(uid 65534, gid 65534\)$/m);
  }
  void dir;
});
