// The command line's own messages, as a newcomer meets them (issue 15): no
// command, `passwd NAME` printing a users-file line, `check` without a
// listener and the start command it suggests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyScheme } from '../../src/auth/schemes.js';
import { startCommand } from '../../src/check/run.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');
const cli = (args: string[], input?: string) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, timeout: 20_000 });

test('no command: the message names every command', () => {
  const r = cli([]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\nName a command: serve, check, demo, passwd or admin \(maildir-imapd COMMAND --help shows its flags\)\n$/);
  for (const c of ['serve', 'check', 'demo', 'passwd']) assert.match(r.stderr, new RegExp(`^  maildir-imapd ${c}\\b`, 'm'), `${c} listed in the help`);
});

test('passwd NAME prints name:{ARGON2ID}… ready to append to a users file; a name that cannot be one is refused', async () => {
  const r = cli(['passwd', 'bob@example.org'], 'Tr0ub4dor & 3\n');
  assert.equal(r.status, 0, r.stderr);
  const m = /^bob@example\.org:\{ARGON2ID\}(\$argon2id\$\S+)\n$/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(await verifyScheme('ARGON2ID', m[1], 'Tr0ub4dor & 3'), true);

  const bare = cli(['passwd'], 'pw\n');
  assert.match(bare.stdout, /^\{ARGON2ID\}\$argon2id\$\S+\n$/, 'without a name: the secret alone, as before');

  for (const bad of ['bob:x', 'bob smith']) {
    const b = cli(['passwd', bad], 'pw\n');
    assert.equal(b.status, 1);
    assert.equal(b.stdout, '');
    assert.match(b.stderr, /cannot be a login name in a users file \(no ':', spaces or line breaks\)/);
  }
});

test('check without a listener checks the users and Maildirs, warns that serve needs one, and offers no start command', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-check-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.writeFile(path.join(dir, 'users'), 'bob:{PLAIN}bob-pass\n');
  for (const s of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, 'mail', 'bob', 'Maildir', s), { recursive: true });
  const root = process.getuid!() === 0;
  if (root) {
    await fs.chmod(dir, 0o711);
    execFileSync('chown', ['-R', 'nobody:', path.join(dir, 'mail')]);
  }
  // An empty Postfix config directory: postconf fails there, a warning that does not change the outcome.
  const args = ['check', '--users', path.join(dir, 'users'), '--maildir', `${dir}/mail/%n/Maildir`, ...(root ? ['--user', 'nobody'] : []), '--postconf-dir', dir];

  const r = cli(args);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok     users     .*users: 1 user/m);
  assert.match(r.stdout, /^ok     maildirs  /m);
  assert.match(r.stdout, /^WARN   config    command line: no listener \(imap\.listen, imap\.tls_listen\): the users, Maildirs and Postfix are checked, but serve would not start\n {7}fix: {6}to serve, set imap\.listen = \["0\.0\.0\.0:143"\] in the config file or pass --listen 0\.0\.0\.0:143$/m);
  assert.match(r.stdout, /\nAll good: \d+ checks passed, \d+ warnings? \(see above\)\.\n$/);
  assert.doesNotMatch(r.stdout, /Start it/);

  // With a listener: the start command is serve with the same settings (no unit reads them).
  const ok = cli([...args, '--listen', '127.0.0.1:10143']);
  assert.equal(ok.status, 0, ok.stdout);
  const expected = `maildir-imapd serve --listen 127.0.0.1:10143 --users ${dir}/users --maildir ${dir}/mail/%n/Maildir${root ? ' --user nobody' : ''}`;
  assert.ok(ok.stdout.endsWith(`. Start it with: ${expected}\n`), ok.stdout);

  // With a problem: fix it, check again; nothing about starting.
  await fs.appendFile(path.join(dir, 'users'), 'alice:{MD5}x\n');
  const bad = cli([...args, '--listen', '127.0.0.1:10143']);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /\n\d+ problems? \(\d+ errors?, \d+ warnings?\): fix them as shown, then run maildir-imapd check again\.\n$/);
  assert.doesNotMatch(bad.stdout, /Start it/);
});

test('the start command check suggests: the unit for the default config file, serve with the same settings otherwise', () => {
  assert.equal(startCommand({ flags: {}, configFile: undefined }, true), 'systemctl enable --now maildir-imapd');
  assert.equal(startCommand({ flags: {}, configFile: '/etc/maildir-imapd/config.toml' }, true), 'systemctl enable --now maildir-imapd');
  assert.equal(startCommand({ flags: {}, configFile: undefined }, false), 'maildir-imapd serve');
  assert.equal(startCommand({ flags: {}, configFile: '/srv/my config.toml' }, true), "maildir-imapd serve --config '/srv/my config.toml'");
  assert.equal(startCommand({ flags: { listen: ['0.0.0.0:143', '[::]:143'], user: 'vmail' }, configFile: undefined }, true), "maildir-imapd serve --listen 0.0.0.0:143 --listen '[::]:143' --user vmail");
});
