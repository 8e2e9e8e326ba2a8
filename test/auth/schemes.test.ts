// Every password scheme against hashes made by Dovecot's doveadm and by
// mkpasswd/openssl, through the users-file parser as an operator's file would be read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { verify as unixcryptVerify } from 'unixcrypt';
import { parseUsersFile, checkPassword } from '../../src/auth/passwd-file.js';
import { hashArgon2id, verifyScheme } from '../../src/auth/schemes.js';
import { DOVEADM, OTHER_TOOLS, UNSUPPORTED, PASSWORD } from './vectors.js';

function entry(secret: string) {
  return parseUsersFile(`u:${secret}:1000:1000::/home/u::\n`, 'test').get('u')!;
}

for (const hash of [...DOVEADM, ...OTHER_TOOLS]) {
  const label = hash.slice(0, 40);
  test(`accepts the right password and refuses a wrong one: ${label}`, async () => {
    const e = entry(hash);
    assert.equal(await checkPassword(e, PASSWORD), 'ok');
    assert.equal(await checkPassword(e, PASSWORD + 'x'), 'bad');
    assert.equal(await checkPassword(e, ''), 'bad');
  });
}

for (const hash of UNSUPPORTED) {
  test(`fails closed on an unsupported scheme: ${hash.slice(0, 24)}`, async () => {
    assert.equal(await checkPassword(entry(hash), PASSWORD), 'unsupported');
  });
}

test('an unknown scheme name is unsupported, never a match', async () => {
  assert.equal(await checkPassword(entry('{NOPE}pässwörd x'), PASSWORD), 'unsupported');
});

test('malformed hashes are refused, not thrown', async () => {
  for (const h of ['{ARGON2ID}$argon2id$v=19$m=1', '{BLF-CRYPT}$2y$05$short', '{SHA512-CRYPT}$6$', '{SHA512-CRYPT}nonsense', '{SSHA512}', '{SHA256}AAAA']) {
    assert.equal(await checkPassword(entry(h), PASSWORD), 'bad', h);
  }
});

test('passwd makes an {ARGON2ID} hash that verifies, with p=1 so Dovecot accepts it', async () => {
  const line = await hashArgon2id(PASSWORD);
  assert.match(line, /^\{ARGON2ID\}\$argon2id\$v=19\$m=47104,t=2,p=1\$/);
  const i = line.indexOf('}');
  assert.equal(await verifyScheme('ARGON2ID', line.slice(i + 1), PASSWORD), true);
  assert.equal(await verifyScheme('ARGON2ID', line.slice(i + 1), 'other'), false);
});

test('checks never block the event loop (SHA-crypt and bcrypt run in worker threads)', async () => {
  // The loop's own busy time (event-loop utilisation), against the same work done inline in the same
  // run: on a loaded machine both grow, but pooled checks keep the loop busy for a fraction of it.
  const sha = [DOVEADM[4], DOVEADM[6]].filter((v) => /^\{SHA(256|512)-CRYPT\}/.test(v));
  assert.equal(sha.length, 2, 'two SHA-crypt vectors');
  const inlineStart = performance.eventLoopUtilization();
  for (const v of sha) assert.equal(unixcryptVerify(PASSWORD, v.slice(v.indexOf('}') + 1)), true);
  const inline = performance.eventLoopUtilization(inlineStart).active / sha.length; // one check, inline
  const start = performance.eventLoopUtilization();
  const work = [];
  for (let i = 0; i < 10; i++) for (const v of [DOVEADM[0], DOVEADM[2], DOVEADM[4], DOVEADM[6]]) work.push(checkPassword(entry(v), PASSWORD));
  assert.ok((await Promise.all(work)).every((r) => r === 'ok'));
  const { active } = performance.eventLoopUtilization(start);
  // 20 SHA-crypt checks among the 40 (and 10 bcrypt): inline they would keep the loop busy for 20 × `inline`.
  assert.ok(active < 10 * inline, `the event loop was busy for ${active.toFixed(0)} ms; one inline check takes ${inline.toFixed(0)} ms`);
});
