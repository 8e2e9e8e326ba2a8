// LOGIN (RFC 3501 §6.2.3) with the RFC 5530 response codes, in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, errnoError } from '../../support/command-harness.js';
import { UserDb } from '../../../src/auth/users.js';

test('LOGIN: OK [CAPABILITY …] and the authenticated state; quoted and literal strings (§6.2.3, §7.1)', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  assert.match(await c.run('SELECT INBOX'), /^T BAD SELECT is not allowed before login/m);
  assert.match(await c.run('LOGIN "bob" {8+}\r\nbob-pass'), /^T OK \[CAPABILITY IMAP4rev1 [^\]]*\] Logged in\r\n$/);
  assert.match(await c.run('SELECT INBOX'), /^T OK \[READ-WRITE\] /m);
  assert.match(await c.run('LOGIN bob bob-pass'), /^T BAD LOGIN is not allowed /m, 'only in the not authenticated state');
  assert.ok(h.logs().some((l) => l.msg === 'login' && l.user === 'bob'));
});

test('LOGIN: a wrong password is NO [AUTHENTICATIONFAILED] and the state stays; the third one is BYE', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  assert.match(await c.run('LOGIN bob wrong'), /^T NO \[AUTHENTICATIONFAILED\] /m);
  assert.match(await c.run('LOGIN nobody bob-pass'), /^T NO \[AUTHENTICATIONFAILED\] /m);
  assert.match(await c.run('NAMESPACE'), /^T BAD NAMESPACE is not allowed before login/m);
  const failed = h.logs().filter((l) => l.msg === 'login failed');
  assert.deepEqual(failed.map((l) => l.user), ['bob', 'nobody']);
  c.send('x LOGIN bob wrong-again\r\n');
  assert.match(await c.readUntil('\r\n'), /^\* BYE /);
  assert.equal(await c.closed(), true);
});

test('LOGIN: missing, extra or malformed arguments are BAD (§9: login = "LOGIN" SP userid SP password)', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  for (const bad of ['LOGIN', 'LOGIN bob', 'LOGIN bob bob-pass extra', 'LOGIN (bob) bob-pass'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
  assert.match(await c.run('LOGIN bob bob-pass'), /^T OK /m, 'none of them counted as a failed login');
});

test('LOGIN where passwords may not cross in clear: * BAD [ALERT], NO [PRIVACYREQUIRED] (§6.2.3 LOGINDISABLED)', async (t) => {
  const h = await harness(t, { plaintextNetworks: [] });
  const c = await h.connect();
  const out = await c.run('LOGIN bob bob-pass');
  assert.match(out, /^\* BAD \[ALERT\] /m);
  assert.match(out, /^T NO \[PRIVACYREQUIRED\] /m);
  assert.match(await c.run('NAMESPACE'), /^T BAD /m, 'not logged in');
});

test('LOGIN: a user database fault is NO [UNAVAILABLE], a bug NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  const m = t.mock.method(UserDb.prototype, 'authenticate', async () => {
    throw errnoError('EIO', 'EIO: i/o error, read');
  });
  assert.match(await c.run('LOGIN bob bob-pass'), /^T NO \[UNAVAILABLE\] /m);
  m.mock.mockImplementation(async () => {
    throw new TypeError('a bug');
  });
  assert.match(await c.run('LOGIN bob bob-pass'), /^T NO \[SERVERBUG\] /m);
  assert.equal(h.logs().find((l) => l.msg === 'unexpected error in a command')?.command, 'LOGIN');
  m.mock.restore();
  assert.match(await c.run('LOGIN bob bob-pass'), /^T OK /m);
});

test('LOGIN: a success as another user from the same IP does not reset the escalation that guesses on other connections built; each failure is logged', async (t) => {
  const h = await harness(t); // failed-login pause: 50 ms, doubling to 375 ms
  const a = await h.connect();
  assert.match(await a.run('LOGIN bob guess1'), /^T NO \[AUTHENTICATIONFAILED\] /m); // 50 ms
  assert.match(await a.run('LOGIN bob guess2'), /^T NO \[AUTHENTICATIONFAILED\] /m); // 100 ms
  const b = await h.connect();
  assert.match(await b.run('LOGIN alice alice-pass'), /^T OK /m, 'an account of the guesser’s own');
  const c = await h.connect();
  const t0 = Date.now();
  assert.match(await c.run('LOGIN bob guess3'), /^T NO \[AUTHENTICATIONFAILED\] /m);
  const took = Date.now() - t0;
  // The third failure from this IP costs 200 ms; after a reset it cost 50.
  assert.ok(took >= 190, `third guess answered after ${took} ms`);
  assert.equal(h.logs().filter((l) => l.msg === 'login failed' && l.user === 'bob').length, 3, 'one fail2ban line per failure');
  // bob's own success (his password: nothing left to guess) forgives the failures made for bob.
  const d = await h.connect();
  assert.match(await d.run('LOGIN bob bob-pass'), /^T OK /m);
  const e = await h.connect();
  const t1 = Date.now();
  assert.match(await e.run('LOGIN alice typo'), /^T NO /m);
  assert.ok(Date.now() - t1 < 150, 'a first failure after that costs the first delay again');
});
