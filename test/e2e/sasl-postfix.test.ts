// A real Postfix authenticates SMTP AUTH through maildir-imapd
// (smtpd_sasl_type = dovecot), over TCP (smtpd_sasl_path = inet:127.0.0.1:PORT)
// and over a unix socket handed to postfix: PLAIN with and without an initial
// response and LOGIN with and without the user name in the first line succeed
// and may relay; a wrong password and an unknown user get 535; no AUTH gets
// "Relay access denied". swaks is the SMTP client where it can say what is
// meant; the exact forms it does not send go over a raw SMTP dialog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { makeMailTree, startServer, freePort } from '../support/server.js';
import { postfixAvailable, startPostfix, smtpDialog } from '../support/postfix.js';

const run = promisify(execFile);
const b64 = (s: string) => Buffer.from(s).toString('base64');
const haveSwaks = (() => {
  try {
    execFileSync('swaks', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function swaks(port: number, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(port), '--from', 'bob@localdomain', '--to', 'carol@elsewhere.example', '--timeout', '20', ...args]);
    return { code: 0, out: r.stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

test('Postfix SMTP AUTH through maildir-imapd over TCP and a unix socket', { skip: !postfixAvailable() && !process.env.CI && 'needs root and Debian postfix (CI installs it)' }, async (t) => {
  const tree = await makeMailTree();
  await fs.chmod(tree.dir, 0o711);
  // The socket's directory: the service user (vmail) may create and remove in it, postfix may reach it.
  const sockDir = path.join(tree.dir, 'sasl');
  await fs.mkdir(sockDir);
  await run('chown', ['vmail:postfix', sockDir]).catch(() => run('chown', ['root:postfix', sockDir]));
  await fs.chmod(sockDir, 0o750);
  const socket = path.join(sockDir, 'auth');
  const saslPort = await freePort();
  const server = await startServer(tree, ['--sasl-listen', `127.0.0.1:${saslPort}`, '--sasl-listen', `unix:${socket}`, '--sasl-socket-owner', 'postfix', '--sasl-socket-group', 'postfix']);
  let stopped = false;
  const viaUnix = await freePort();
  const postfix = await startPostfix({
    mailRoot: path.join(tree.dir, 'mail'),
    stateDir: path.join(tree.dir, 'postfix'),
    users: ['bob', 'alice'],
    extraMain: [
      'smtpd_sasl_auth_enable = yes',
      'smtpd_sasl_type = dovecot',
      `smtpd_sasl_path = inet:127.0.0.1:${saslPort}`,
      'smtpd_relay_restrictions = permit_sasl_authenticated reject_unauth_destination',
      // Relayed mail is accepted and thrown away (the stock test Postfix refuses it at RCPT time).
      'default_transport = discard:relayed in a test',
      'relay_transport = discard:relayed in a test',
    ],
    extraServices: [`127.0.0.1:${viaUnix} inet n - n - - smtpd -o smtpd_sasl_path=${socket}`],
  });
  t.after(async () => {
    if (!stopped) await server.stop();
    await postfix.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });

  const st = await fs.stat(socket);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.uid, Number(execFileSync('id', ['-u', 'postfix']).toString()));

  for (const [label, port] of [['inet', postfix.port], ['unix', viaUnix]] as const) {
    await t.test(`${label}: EHLO offers AUTH PLAIN LOGIN; every form of PLAIN and LOGIN logs in and may relay`, async () => {
      const ehlo = await smtpDialog(port, ['EHLO client.example', 'QUIT']);
      assert.match(ehlo[1], /\n250-AUTH PLAIN LOGIN\n/, ehlo.join(' | '));
      const forms: Array<[string, string[]]> = [
        ['PLAIN with initial response', [`AUTH PLAIN ${b64('\0bob\0bob-pass')}`]],
        ['PLAIN without initial response', ['AUTH PLAIN', b64('\0bob\0bob-pass')]],
        ['LOGIN with the user name in the first line', [`AUTH LOGIN ${b64('alice')}`, b64('alice-pass')]],
        ['LOGIN without', ['AUTH LOGIN', b64('alice'), b64('alice-pass')]],
      ];
      for (const [what, auth] of forms) {
        const r = await smtpDialog(port, ['EHLO client.example', ...auth, 'MAIL FROM:<bob@localdomain>', 'RCPT TO:<carol@elsewhere.example>', 'QUIT']);
        const authReplies = r.slice(2, 2 + auth.length);
        assert.deepEqual(authReplies.map((x) => x.slice(0, 3)), [...auth.slice(1).map(() => '334'), '235'], `${what}: ${r.join(' | ')}`);
        assert.match(r[2 + auth.length + 1], /^250 2\.1\.5 Ok/, `${what}: relay allowed after AUTH: ${r.join(' | ')}`);
      }
      const wrong = await smtpDialog(port, ['EHLO client.example', `AUTH PLAIN ${b64('\0bob\0wrong')}`, 'QUIT']);
      assert.match(wrong[2], /^535 5\.7\.8 /, wrong.join(' | '));
      const unknown = await smtpDialog(port, ['EHLO client.example', 'AUTH LOGIN', b64('mallory'), b64('bob-pass'), 'QUIT']);
      assert.match(unknown[4], /^535 5\.7\.8 /, unknown.join(' | '));
      const noAuth = await smtpDialog(port, ['EHLO client.example', 'MAIL FROM:<bob@localdomain>', 'RCPT TO:<carol@elsewhere.example>', 'QUIT']);
      assert.match(noAuth[3], /^554 5\.7\.1 <carol@elsewhere\.example>: Relay access denied/, noAuth.join(' | '));
    });
  }

  await t.test('swaks: AUTH PLAIN and LOGIN send a relayed message; a wrong password fails with 535', { skip: !haveSwaks && 'swaks not installed (apt-get install swaks)' }, async () => {
    for (const mech of ['PLAIN', 'LOGIN']) {
      const ok = await swaks(postfix.port, ['--auth', mech, '--auth-user', 'bob', '--auth-password', 'bob-pass']);
      assert.equal(ok.code, 0, ok.out);
      assert.match(ok.out, /<-\s+235 2\.7\.0 Authentication successful/);
      assert.match(ok.out, /<-\s+250 2\.0\.0 Ok: queued as/);
    }
    const bad = await swaks(viaUnix, ['--auth', 'LOGIN', '--auth-user', 'bob', '--auth-password', 'nope']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.out, /<\*\*\s+535 5\.7\.8 Error: authentication failed/);
  });

  // The penalty and the log: the failures above are the fail2ban lines, with the SMTP client's address.
  const failed = server.stdout().split('\n').filter((l) => l.includes('"msg":"login failed"'));
  assert.ok(failed.length >= 4, server.stdout());
  for (const l of failed) assert.match(l, /"proto":"sasl","ip":"127\.0\.0\.1","user":"(bob|mallory)","msg":"login failed"/);
  assert.match(server.stdout(), /"user":"alice","msg":"login"/);

  stopped = true;
  assert.equal(await server.stop(), 0);
  await assert.rejects(fs.lstat(socket), { code: 'ENOENT' }, 'the socket is removed on exit');
});

