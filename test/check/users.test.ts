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
  // dave's unprefixed $6$ hash is CRYPT, which LOGIN verifies through crypt(3)'s SHA-512: no problem (E.19).
  assert.ok(!msgs.some((m) => m.includes('/etc/u:5')), msgs.join('\n'));
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

test('users file: check accepts every scheme LOGIN verifies, and refuses what it cannot (issue "Hostile input", E.19)', async () => {
  const { schemeProblem } = await import('../../src/auth/schemes.js');
  const sha512crypt = '$6$saltsalt$' + 'x'.repeat(86);
  const text = [
    'a:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=',
    'b:{SSHA256}' + Buffer.alloc(40, 1).toString('base64'),
    `c:${sha512crypt}`, // no prefix: CRYPT, and crypt(3) reads the $6$
    `d:{SHA512-CRYPT.B64}${Buffer.from(sha512crypt).toString('base64')}`,
    'e:{CRYPT}$1$salt$abcdefghijklmnopqrstuv',
    'f:{MD5}1a79a4d60de6718e8e5b326e338ae533',
  ].join('\n');
  const { result } = checkUsersText(text, 'u');
  const msgs = result.problems.map((p) => p.message);
  assert.deepEqual(msgs, [
    'u:5: password scheme {CRYPT} with a MD5-CRYPT hash is not supported (no {SCHEME} prefix means CRYPT, as in Dovecot), so this user cannot log in',
    'u:6: password scheme {MD5} is not supported, so this user cannot log in',
  ]);
  assert.equal(schemeProblem('CRYPT', '$1$x$y'), 'password scheme {CRYPT} with a MD5-CRYPT hash is not supported');
  assert.equal(schemeProblem('sha256', 'x'), null);
});
