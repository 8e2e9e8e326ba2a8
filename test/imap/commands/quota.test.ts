// QUOTA (RFC 9208): GETQUOTAROOT, GETQUOTA, SETQUOTA, the capabilities, and
// APPEND/COPY past the limit as NO [OVERQUOTA] (MOVE never), on the in-memory
// store; answers shaped as Dovecot 2.3's (quota root "User quota", STORAGE in
// KiB rounded down).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

const MSG = 'Subject: x\r\n\r\n' + 'y'.repeat(3000) + '\r\n'; // 3016 bytes

test('QUOTA capabilities after login', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const caps = await c.run('CAPABILITY');
  for (const cap of ['QUOTA', 'QUOTA=RES-STORAGE', 'QUOTA=RES-MESSAGE', 'STATUS=SIZE']) assert.match(caps, new RegExp(` ${cap}( |\\r)`), cap);
  const pre = await h.connect();
  assert.doesNotMatch(await pre.run('CAPABILITY'), / QUOTA/);
  assert.match(await pre.run('GETQUOTAROOT INBOX'), /^T BAD /m);
});

test('GETQUOTAROOT / GETQUOTA with a storage and a message limit (the users default)', async (t) => {
  const h = await harness(t, { quotaDefaultStorage: 10240, quotaDefaultMessages: 3 });
  const c = await h.session(null);
  assert.equal(await c.run('GETQUOTAROOT INBOX'), '* QUOTAROOT INBOX "User quota"\r\n* QUOTA "User quota" (STORAGE 0 10 MESSAGE 0 3)\r\nT OK Getquotaroot completed\r\n');
  for (let i = 0; i < 3; i++) assert.match(await c.run(`APPEND INBOX {${MSG.length}+}\r\n${MSG}`), /^T OK \[APPENDUID /m);
  assert.equal(await c.run('GETQUOTA "User quota"'), `* QUOTA "User quota" (STORAGE ${Math.floor((3 * MSG.length) / 1024)} 10 MESSAGE 3 3)\r\nT OK Getquota completed\r\n`);
  // Any folder name, existing or not, is under the one root (as Dovecot answers).
  assert.match(await c.run('GETQUOTAROOT Nope'), /^\* QUOTAROOT Nope "User quota"\r\n\* QUOTA /);
  assert.match(await c.run('GETQUOTAROOT "My Stuff"'), /^\* QUOTAROOT "My Stuff" "User quota"\r\n/);
  assert.equal(await c.run('GETQUOTA ""'), "T NO Quota root doesn't exist\r\n");
  assert.equal(await c.run('GETQUOTA other'), "T NO Quota root doesn't exist\r\n");
  assert.match(await c.run('GETQUOTA'), /^T BAD /m);
  assert.match(await c.run('GETQUOTAROOT'), /^T BAD /m);
  assert.match(await c.run('GETQUOTAROOT INBOX extra'), /^T BAD /m);
});

test('a user without limits: QUOTAROOT without a root, no root to GETQUOTA', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  assert.equal(await c.run('GETQUOTAROOT INBOX'), '* QUOTAROOT INBOX\r\nT OK No quota\r\n');
  assert.equal(await c.run('GETQUOTA "User quota"'), "T NO Quota root doesn't exist\r\n");
  assert.match(await c.run(`APPEND INBOX {${MSG.length}+}\r\n${MSG}`), /^T OK /m);
});

test('only one limit: only that resource is listed', async (t) => {
  const h = await harness(t, { quotaDefaultMessages: 100 });
  const c = await h.session(null);
  assert.match(await c.run('GETQUOTA "User quota"'), /^\* QUOTA "User quota" \(MESSAGE 0 100\)\r\n/);
  h.mail.limits = { storage: 1024 * 1024, messages: null };
  assert.match(await c.run('GETQUOTA "User quota"'), /^\* QUOTA "User quota" \(STORAGE 0 1024\)\r\n/);
});

test('SETQUOTA is refused (limits are the operator\'s); malformed is BAD', async (t) => {
  const h = await harness(t, { quotaDefaultStorage: 10240 });
  const c = await h.session(null);
  assert.equal(await c.run('SETQUOTA "User quota" (STORAGE 100)'), 'T NO [NOPERM] Quota can be changed only by admin\r\n');
  assert.equal(await c.run('SETQUOTA "" ()'), 'T NO [NOPERM] Quota can be changed only by admin\r\n');
  assert.match(await c.run('SETQUOTA "User quota" (STORAGE)'), /^T BAD /m);
  assert.match(await c.run('SETQUOTA "User quota" (STORAGE x)'), /^T BAD /m);
  assert.match(await c.run('SETQUOTA "User quota"'), /^T BAD /m);
});

test('APPEND and COPY past the limit are NO [OVERQUOTA] and save nothing; MOVE is allowed at the limit; EXPUNGE frees', async (t) => {
  const h = await harness(t, { quotaDefaultMessages: 3 });
  const c = await h.session();
  for (let i = 0; i < 3; i++) assert.match(await c.run(`APPEND INBOX {${MSG.length}+}\r\n${MSG}`), /^T OK /m);
  assert.match(await c.run(`APPEND INBOX {${MSG.length}+}\r\n${MSG}`), /^T NO \[OVERQUOTA\] Quota exceeded/m);
  assert.match(await c.run('COPY 1 INBOX'), /^T NO \[OVERQUOTA\] /m);
  assert.equal((await h.box()).count, 3);
  await c.run('CREATE Archive');
  assert.match(await c.run('MOVE 1:2 Archive'), /^T OK /m);
  assert.match(await c.run('GETQUOTA "User quota"'), /\(MESSAGE 3 3\)/);
  await c.run('STORE 1 +FLAGS (\\Deleted)');
  assert.match(await c.run('EXPUNGE'), /^T OK /m);
  assert.match(await c.run('GETQUOTA "User quota"'), /\(MESSAGE 2 3\)/);
  await c.run('SELECT Archive');
  assert.match(await c.run('COPY 1 Archive'), /^T OK /m);
  assert.match(await c.run('COPY 1 Archive'), /^T NO \[OVERQUOTA\] /m);
});

test('a per-user rule in the users file wins over the default', async (t) => {
  const h = await harness(t, { quotaDefaultStorage: 1024 * 1024 });
  const users = (await import('node:fs')).promises;
  await users.writeFile(`${h.dir}/users`, 'bob:{PLAIN}bob-pass::::::userdb_quota_rule=*:storage=5K userdb_quota_rule2=*:messages=7\nalice:{PLAIN}alice-pass\n');
  // The server reloads the users file when it changes.
  const until = Date.now() + 5000;
  let out = '';
  while (Date.now() < until) {
    const c = await h.session(null);
    out = await c.run('GETQUOTAROOT INBOX');
    c.close();
    if (out.includes('STORAGE 0 5 ')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(out, /\* QUOTA "User quota" \(STORAGE 0 5 MESSAGE 0 7\)/);
});

test('STATUS SIZE (RFC 8438), DELETED and DELETED-STORAGE (RFC 9208)', async (t) => {
  const h = await harness(t);
  const box = await h.box();
  box.add(MSG);
  box.add(MSG, ['\\Deleted']);
  box.add('Subject: small\r\n\r\nhi\r\n', ['\\Deleted', '\\Seen']);
  const c = await h.session(null);
  const small = 'Subject: small\r\n\r\nhi\r\n'.length;
  assert.equal(
    await c.run('STATUS INBOX (MESSAGES SIZE DELETED DELETED-STORAGE)'),
    `* STATUS INBOX (MESSAGES 3 SIZE ${2 * MSG.length + small} DELETED 2 DELETED-STORAGE ${Math.floor((MSG.length + small) / 1024)})\r\nT OK STATUS completed\r\n`,
  );
  assert.match(await c.run('LIST "" INBOX RETURN (STATUS (SIZE DELETED))'), new RegExp(`\\* STATUS INBOX \\(SIZE ${2 * MSG.length + small} DELETED 2\\)`));
});
