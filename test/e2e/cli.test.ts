// The command line's own messages, as a newcomer meets them (issue 15): no
// command, `passwd NAME` printing a users-file line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyScheme } from '../../src/auth/schemes.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');
const cli = (args: string[], input?: string) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, timeout: 20_000 });

test('no command: the message names every command', () => {
  const r = cli([]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\nName a command: serve, check, demo or passwd \(maildir-imapd COMMAND --help shows its flags\)\n$/);
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
