// AUTHENTICATE (RFC 3501 §6.2.2) with SASL-IR (RFC 4959), PLAIN (RFC 4616) and LOGIN, in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';
import { UserDb } from '../../../src/auth/users.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('AUTHENTICATE PLAIN with an initial response (RFC 4959 §3): OK [CAPABILITY …], authenticated', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  assert.match(await c.run(`AUTHENTICATE PLAIN ${b64('\0bob\0bob-pass')}`), /^T OK \[CAPABILITY IMAP4rev1 [^\]]*\] /);
  assert.match(await c.run('SELECT INBOX'), /^T OK /m);
  assert.match(await c.run(`AUTHENTICATE PLAIN ${b64('\0bob\0bob-pass')}`), /^T BAD AUTHENTICATE is not allowed /m, '§6.2.2: not authenticated state only');
});

test('AUTHENTICATE PLAIN without one: an empty "+ " challenge, then the response (§6.2.2)', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  c.send('A1 authenticate plain\r\n');
  assert.equal(await c.readUntil('\r\n'), '+ \r\n');
  c.send(`${b64('bob\0bob\0bob-pass')}\r\n`);
  assert.match(await c.readUntil(/A1 [^\r]*\r\n/), /^A1 OK \[CAPABILITY /);
});

test('AUTHENTICATE LOGIN: "Username:" and "Password:" challenges in base64', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  c.send('A1 AUTHENTICATE LOGIN\r\n');
  assert.equal(await c.readUntil('\r\n'), `+ ${b64('Username:')}\r\n`);
  c.send(`${b64('bob')}\r\n`);
  assert.equal(await c.readUntil('\r\n'), `+ ${b64('Password:')}\r\n`);
  c.send(`${b64('bob-pass')}\r\n`);
  assert.match(await c.readUntil(/A1 [^\r]*\r\n/), /^A1 OK /);
});

test('AUTHENTICATE: "*" cancels with BAD (§6.2.2), bad base64 is BAD, and the state stays', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  c.send('A1 AUTHENTICATE PLAIN\r\n');
  await c.readUntil('+ \r\n');
  c.send('*\r\n');
  assert.match(await c.readUntil(/A1 [^\r]*\r\n/), /^A1 BAD /);
  assert.match(await c.run('AUTHENTICATE PLAIN !!!notbase64'), /^T BAD /m);
  assert.match(await c.run(`AUTHENTICATE PLAIN ${b64('just-one-field')}`), /^T BAD /m, 'RFC 4616: authzid NUL authcid NUL passwd');
  assert.match(await c.run('NAMESPACE'), /^T BAD NAMESPACE is not allowed before login/m);
  assert.match(await c.run(`AUTHENTICATE PLAIN ${b64('\0bob\0bob-pass')}`), /^T OK /m);
});

test('AUTHENTICATE: argument errors BAD; unknown mechanism, wrong password, other authzid NO', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  for (const bad of ['AUTHENTICATE', `AUTHENTICATE PLAIN ${b64('\0bob\0bob-pass')} extra`, 'AUTHENTICATE (PLAIN)'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
  assert.match(await c.run('AUTHENTICATE X-UNKNOWN'), /^T NO /m, '§6.2.2: NO - unsupported authentication mechanism');
  assert.match(await c.run(`AUTHENTICATE PLAIN ${b64('\0bob\0wrong')}`), /^T NO \[AUTHENTICATIONFAILED\] /m);
  assert.match(await c.run(`AUTHENTICATE PLAIN ${b64('alice\0bob\0bob-pass')}`), /^T NO \[AUTHORIZATIONFAILED\] /m, 'RFC 5530');
  assert.match(await c.run(`AUTHENTICATE PLAIN ${b64('bob\0bob\0bob-pass')}`), /^T OK /m, 'authzid = authcid is fine');
});

test('AUTHENTICATE where passwords may not cross in clear: NO [PRIVACYREQUIRED], no challenge', async (t) => {
  const h = await harness(t, { plaintextNetworks: [] });
  const c = await h.connect();
  assert.match(await c.run('AUTHENTICATE PLAIN'), /^T NO \[PRIVACYREQUIRED\] [^\r]*\r\n$/);
});

test('AUTHENTICATE: a user database bug is NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  const m = t.mock.method(UserDb.prototype, 'authenticate', async () => {
    throw new TypeError('a bug');
  });
  assert.match(await c.run(`AUTHENTICATE PLAIN ${b64('\0bob\0bob-pass')}`), /^T NO \[SERVERBUG\] /m);
  m.mock.restore();
  assert.match(await c.run(`AUTHENTICATE PLAIN ${b64('\0bob\0bob-pass')}`), /^T OK /m);
});
