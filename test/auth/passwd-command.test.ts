// `maildir-imapd passwd` at a real terminal (a pty: no echo, asked twice)
// and from a script (stdin), and its output accepted by us and by Dovecot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyScheme } from '../../src/auth/schemes.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');

// Types the password at a pseudo-terminal and prints all the terminal showed.
const PTY = String.raw`
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:-1])
out = b''
def read_until(s):
    global out
    while s not in out:
        chunk = os.read(fd, 1024)
        if not chunk: return
        out += chunk
for answer in sys.argv[-1].split(','):
    read_until(b'assword: ')
    time.sleep(0.05)
    os.write(fd, answer.encode() + b'\r')
    out = out.replace(b'assword: ', b'assword:_', 1)
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk: break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode())
sys.exit(os.waitstatus_to_exitcode(status))
`;

function atTerminal(answers: string[]): { out: string; code: number | null } {
  const r = spawnSync('python3', ['-c', PTY, process.execPath, CLI, 'passwd', answers.join(',')], { encoding: 'utf8', timeout: 20_000 });
  return { out: r.stdout, code: r.status };
}

function secretOf(out: string): string {
  const m = /\{ARGON2ID\}(\$argon2id\$\S+)/.exec(out);
  assert.ok(m, `an {ARGON2ID} line in ${JSON.stringify(out)}`);
  return m[1];
}

test('at a terminal: asks twice, echoes nothing, prints an {ARGON2ID} line that verifies', async () => {
  const { out, code } = atTerminal(['Tr0ub4dor & 3', 'Tr0ub4dor & 3']);
  assert.equal(code, 0, out);
  assert.ok(!out.includes('Tr0ub4dor'), `password echoed: ${out}`);
  assert.match(out, /Password:_[\s\S]*Repeat password:_/);
  assert.equal(await verifyScheme('ARGON2ID', secretOf(out), 'Tr0ub4dor & 3'), true);
});

test('at a terminal: two different passwords are refused', () => {
  const { out, code } = atTerminal(['one', 'two']);
  assert.equal(code, 2);
  assert.match(out, /do not match/);
  assert.ok(!out.includes('{ARGON2ID}'));
});

test('from stdin (scripts): one line, or two that match; Dovecot accepts the hash', { timeout: 20_000 }, async () => {
  const one = execFileSync(process.execPath, [CLI, 'passwd'], { input: 'pässwörd x\n', encoding: 'utf8' });
  assert.match(one, /^\{ARGON2ID\}\$argon2id\$v=19\$m=47104,t=2,p=1\$[^\n]+\n$/);
  assert.equal(await verifyScheme('ARGON2ID', secretOf(one), 'pässwörd x'), true);
  const two = execFileSync(process.execPath, [CLI, 'passwd'], { input: 'pw\npw\n', encoding: 'utf8' });
  assert.equal(await verifyScheme('ARGON2ID', secretOf(two), 'pw'), true);
  const bad = spawnSync(process.execPath, [CLI, 'passwd'], { input: 'pw\nother\n', encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, '');
  const doveadm = spawnSync('doveadm', ['pw', '-t', one.trim(), '-p', 'pässwörd x'], { encoding: 'utf8' });
  if (doveadm.error) return; // Dovecot not installed here
  assert.match(doveadm.stdout, /\(verified\)/, doveadm.stderr);
});
