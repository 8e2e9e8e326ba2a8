// AUTHENTICATE LOGIN (draft-murchison-sasl-login-00), as Dovecot offers it for
// Outlook and older mail apps: "+ VXNlcm5hbWU6" ("Username:"), then
// "+ UGFzc3dvcmQ6" ("Password:"), each answered with a base64 line; with
// SASL-IR (RFC 4959) the initial response is the user name. "*" cancels with a
// tagged BAD (RFC 3501 §6.2.2). Driven over a raw socket, by Python's imaplib
// and by imapflow against the real process, and the same dialogue against the
// real Dovecot.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { makeMailTree, startServer, deliver, type MailTree, type RunningServer } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';
import { startDovecot, dovecotAvailable } from '../support/dovecot.js';

const run = promisify(execFile);
const b64 = (s: string) => Buffer.from(s).toString('base64');
const USERNAME = '+ VXNlcm5hbWU6\r\n';
const PASSWORD = '+ UGFzc3dvcmQ6\r\n';

async function setup(t: TestContext, extraArgs: string[] = []): Promise<{ tree: MailTree; server: RunningServer }> {
  const tree = await makeMailTree('mimapd-authlogin-');
  await deliver(tree.maildir('bob'), 'Subject: one\n\nfirst\n');
  const server = await startServer(tree, extraArgs);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  return { tree, server };
}

async function connect(t: TestContext, port: number): Promise<RawImap> {
  const c = await RawImap.connect(port);
  t.after(() => c.close());
  return c;
}

/** The whole exchange without SASL-IR; returns the tagged line. */
async function loginMech(c: RawImap, tag: string, user: string, pass: string): Promise<string> {
  c.send(`${tag} AUTHENTICATE LOGIN\r\n`);
  assert.equal(await c.readUntil('\r\n'), USERNAME);
  c.send(b64(user) + '\r\n');
  assert.equal(await c.readUntil('\r\n'), PASSWORD);
  c.send(b64(pass) + '\r\n');
  return c.readUntil(new RegExp(`${tag} (OK|NO|BAD)[^\\r]*\\r\\n`));
}

test('CAPABILITY offers AUTH=LOGIN after AUTH=PLAIN where passwords are allowed', async (t) => {
  const { server } = await setup(t);
  const c = await connect(t, server.port);
  assert.match(await c.command('a', 'CAPABILITY'), /^\* CAPABILITY [^\r]* AUTH=PLAIN AUTH=LOGIN\r\n/);
});

test('AUTHENTICATE LOGIN: Username: and Password: challenges, then a session that works', async (t) => {
  const { server } = await setup(t);
  const c = await connect(t, server.port);
  assert.match(await loginMech(c, 'a', 'bob', 'bob-pass'), /^a OK \[CAPABILITY IMAP4rev1 [^\]]*\] Logged in\r\n$/);
  assert.match(await c.command('b', 'SELECT INBOX'), /\* 1 EXISTS\r\n[\s\S]*b OK \[READ-WRITE\]/);
  const lines = server.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.some((l) => l.msg === 'login' && l.user === 'bob'), 'the login is logged like any other');
});

test('AUTHENTICATE LOGIN with SASL-IR: the initial response is the user name, only Password: is asked', async (t) => {
  const { server } = await setup(t);
  const c = await connect(t, server.port);
  c.send(`a AUTHENTICATE LOGIN ${b64('bob')}\r\n`);
  assert.equal(await c.readUntil('\r\n'), PASSWORD);
  c.send(b64('bob-pass') + '\r\n');
  assert.match(await c.readUntil('\r\n'), /^a OK \[CAPABILITY /);
  // An empty initial response ("=", RFC 4959 §3) asks for the user name as if there were none.
  const d = await connect(t, server.port);
  d.send('b AUTHENTICATE LOGIN =\r\n');
  assert.equal(await d.readUntil('\r\n'), USERNAME);
  d.send(b64('alice') + '\r\n');
  assert.equal(await d.readUntil('\r\n'), PASSWORD);
  d.send(b64('alice-pass') + '\r\n');
  assert.match(await d.readUntil('\r\n'), /^b OK \[CAPABILITY /);
});

test('"*" cancels AUTHENTICATE LOGIN at either challenge with a tagged BAD; bad base64 is BAD; the connection goes on', async (t) => {
  const { server } = await setup(t);
  const c = await connect(t, server.port);
  c.send('a AUTHENTICATE LOGIN\r\n');
  assert.equal(await c.readUntil('\r\n'), USERNAME);
  c.send('*\r\n');
  assert.match(await c.readUntil('\r\n'), /^a BAD /);
  c.send(`b AUTHENTICATE LOGIN ${b64('bob')}\r\n`);
  assert.equal(await c.readUntil('\r\n'), PASSWORD);
  c.send('*\r\n');
  assert.match(await c.readUntil('\r\n'), /^b BAD /);
  c.send('c AUTHENTICATE LOGIN\r\n');
  assert.equal(await c.readUntil('\r\n'), USERNAME);
  c.send('not base64!\r\n');
  assert.match(await c.readUntil('\r\n'), /^c BAD /);
  assert.match(await c.command('d', 'AUTHENTICATE LOGIN !!'), /^d BAD /);
  assert.match(await c.command('e', 'NOOP'), /^e OK /);
  assert.match(await loginMech(c, 'f', 'bob', 'bob-pass'), /^f OK /);
});

test('a wrong password through AUTHENTICATE LOGIN is AUTHENTICATIONFAILED and logged like LOGIN, never with the password', async (t) => {
  const { server } = await setup(t);
  const c = await connect(t, server.port);
  assert.match(await loginMech(c, 'a', 'bob', 'secret-guess'), /^a NO \[AUTHENTICATIONFAILED\] /);
  // The log line travels through the server's stdout pipe: it may land just after the reply.
  for (let i = 0; i < 100 && !server.stdout().includes('"msg":"login failed"'); i++) await new Promise((r) => setTimeout(r, 50));
  const lines = server.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const failed = lines.find((l) => l.msg === 'login failed');
  assert.ok(failed, 'a login failed line');
  assert.equal(failed.ip, '127.0.0.1');
  assert.equal(failed.user, 'bob');
  assert.ok(!server.stdout().includes('secret-guess') && !server.stdout().includes(b64('secret-guess')));
});

test('outside auth.plaintext_networks AUTHENTICATE LOGIN is refused before any challenge (PRIVACYREQUIRED)', async (t) => {
  const { server } = await setup(t, ['--plaintext-networks', '10.0.0.0/8']);
  const c = await connect(t, server.port);
  const caps = await c.command('a', 'CAPABILITY');
  assert.match(caps, /LOGINDISABLED/);
  assert.doesNotMatch(caps, /AUTH=/);
  assert.equal(await c.command('b', 'AUTHENTICATE LOGIN'), 'b NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n');
  assert.equal(await c.command('c', `AUTHENTICATE LOGIN ${b64('bob')}`), 'c NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n');
});

test("Python imaplib's authenticate('LOGIN', …) and imapflow's AUTH=LOGIN log in", { timeout: 30_000 }, async (t) => {
  const { server } = await setup(t);
  const script = `
import imaplib
M = imaplib.IMAP4('127.0.0.1', ${server.port})
answers = {b'Username:': b'bob', b'Password:': b'bob-pass'}
typ, data = M.authenticate('LOGIN', lambda challenge: answers[challenge])
print(typ, M.state)
print(M.select('INBOX')[1][0].decode())
M.logout()
`;
  const { stdout } = await run('python3', ['-c', script], { timeout: 20_000 });
  assert.equal(stdout, 'OK AUTH\n1\n');

  const client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, auth: { user: 'bob', pass: 'bob-pass', loginMethod: 'AUTH=LOGIN' }, logger: false });
  await client.connect();
  t.after(() => client.logout().catch(() => undefined));
  assert.equal((await client.mailboxOpen('INBOX')).exists, 1);
});

test('Dovecot gives the same AUTHENTICATE LOGIN dialogue (challenges, SASL-IR, cancel)', { timeout: 30_000 }, async (t) => {
  if (!dovecotAvailable()) return t.skip('dovecot is not installed (apt-get install dovecot-imapd)');
  const tree = await makeMailTree('mimapd-authlogin-dc-');
  await fs.chmod(tree.dir, 0o711);
  const peer = await startDovecot({ mailRoot: path.join(tree.dir, 'mail'), stateDir: path.join(tree.dir, 'dovecot') });
  t.after(() => peer.stop());
  const ours = await startServer(tree);
  t.after(() => ours.stop());
  t.after(() => fs.rm(tree.dir, { recursive: true, force: true })); // after the servers (hooks run in order)
  for (const port of [peer.port, ours.port]) {
    const c = await connect(t, port);
    assert.match(await c.command('a', 'CAPABILITY'), /AUTH=PLAIN AUTH=LOGIN\r\n/, `port ${port}`);
    c.send('b AUTHENTICATE LOGIN\r\n');
    assert.equal(await c.readUntil('\r\n'), USERNAME);
    c.send('*\r\n');
    assert.match(await c.readUntil('\r\n'), /^b BAD /);
    c.send(`c AUTHENTICATE LOGIN ${b64('bob')}\r\n`);
    assert.equal(await c.readUntil('\r\n'), PASSWORD);
    c.send(b64('bob-pass') + '\r\n');
    // Dovecot sends the new CAPABILITY untagged first when it is long; we put it in the OK's code.
    assert.match(await c.readUntil(/c (OK|NO|BAD)[^\r]*\r\n/), /(^|\r\n)c OK /, `port ${port}`);
  }
});
