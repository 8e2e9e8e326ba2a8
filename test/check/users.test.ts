import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUsersText } from '../../src/check/users.js';

test('users file: every broken line reported with file:line, unsupported schemes named', () => {
  const text = ['# comment', 'bob:{PLAIN}bob-pass', 'brokenline', 'carol:{MD5-CRYPT}$1$abc', 'dave:$6$salt$hash', 'erin:{SHA512-CRYPT}$6$x$y', 'frank:{MD5-CRYPT}$1$def', ''].join('\n');
  const { users, result } = checkUsersText(text, '/etc/u');
  assert.deepEqual(users.map((u) => u.name), ['bob', 'carol', 'dave', 'erin', 'frank']);
  const msgs = result.problems.map((p) => p.message);
  assert.ok(msgs.some((m) => m.startsWith('/etc/u:3: expected name:{SCHEME}password')), msgs.join('\n'));
  assert.ok(msgs.some((m) => m.startsWith('/etc/u:4, /etc/u:7: password scheme {MD5-CRYPT} is not supported')), msgs.join('\n'));
  assert.ok(msgs.some((m) => m.includes('/etc/u:5: password scheme {CRYPT} (no {SCHEME} prefix means CRYPT')), msgs.join('\n'));
  assert.ok(result.problems.every((p) => p.fix.length > 0));
  assert.deepEqual(result.passed, []);
});

test('users file: supported schemes pass; a duplicate is a warning', () => {
  const text = 'bob:{PLAIN}x\nalice:{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA\nbob:{BLF-CRYPT}$2y$05$abc\n';
  const { users, result } = checkUsersText(text, 'u');
  assert.equal(users.length, 2);
  assert.deepEqual(result.problems.map((p) => [p.severity, p.message]), [['warn', 'u:3: user bob is also on line 1; the later line wins']]);
  assert.deepEqual(result.passed, ['u: 3 users, every password scheme supported']);
});
