import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';

async function file(t: test.TestContext, text: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'config-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const f = path.join(dir, 'config.toml');
  await fs.writeFile(f, text);
  return f;
}

const BASE = '[imap]\nlisten = "127.0.0.1:143"\n[auth]\nusers = "/etc/users"\n[mail]\nmaildir = "/var/mail/%n"\n';

test('the file is read, flags override it, defaults fill the rest', async (t) => {
  const f = await file(t, BASE + 'sent_folder = "Sent Items"\n[log]\nformat = "pretty"\n');
  const cfg = await loadConfig({ 'log-format': 'json', 'max-connections-per-user-ip': 5 }, f);
  assert.deepEqual(cfg.listen, ['127.0.0.1:143']);
  assert.equal(cfg.sentFolder, 'Sent Items');
  assert.equal(cfg.logFormat, 'json', 'the flag wins');
  assert.equal(cfg.maxConnectionsPerUserIp, 5);
  assert.deepEqual(cfg.plaintextNetworks, ['127.0.0.0/8', '::1/128']);
  assert.equal(cfg.source, f);
});

test('mistakes name the key, the file and what was expected', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [BASE + '[imap]\nlisen = 1\n', /not valid TOML|unknown key/],
    [BASE.replace('[auth]', '[auth]\nallow_plaintext = "yes"'), /config\.toml: auth\.allow_plaintext must be true or false, got "yes"/],
    [BASE.replace('listen = "127.0.0.1:143"', 'listen = "localhost"'), /imap\.listen must be a string or a list of strings like \["0\.0\.0\.0:143"\]/],
    [BASE.replace('[auth]', '[auth]\nplaintext_networks = ["10.0.0.0/33"]'), /auth\.plaintext_networks must be a list of networks/],
    [BASE + 'trash_folder = "../etc"\n', /mail\.trash_folder is not a usable folder name/],
    [BASE.replace('[mail]\nmaildir = "/var/mail/%n"\n', ''), /mail\.maildir is not set/],
    [BASE + '[tls]\ncert = "/c.pem"\n', /tls\.cert and tls\.key go together/],
    [BASE + '[imaps]\nx = 1\n', /unknown key imaps\.x/],
  ];
  for (const [text, re] of cases) {
    const f = await file(t, text);
    await assert.rejects(loadConfig({}, f), (err: Error) => {
      assert.match(err.message, re);
      assert.ok(err.message.includes(f) || err.message.includes('command line'), err.message);
      return true;
    });
  }
});

test('serve refuses a Maildir template that gives several users one mailbox, and names the key and the fix', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'shared-md-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.writeFile(path.join(dir, 'users'), 'bob:{PLAIN}x\nalice:{PLAIN}y\n', { mode: 0o644 });
  await fs.chmod(dir, 0o755);
  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli.js');
  // As root, serve must drop to a service user first: nobody can read this users file.
  const asUser = process.getuid?.() === 0 ? ['--user', 'nobody', '--group', 'nogroup'] : [];
  const r = spawnSync(process.execPath, [cli, 'serve', '--listen', '127.0.0.1:0', '--users', path.join(dir, 'users'), '--maildir', path.join(dir, 'Maildir'), ...asUser], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /mail\.maildir = ".*Maildir" \(.*\) gives bob, alice the same Maildir .*: they would read each other's mail\. Put the user in the path/);
});

test('[sasl]: listen takes unix:/path and HOST:PORT; socket_mode is octal text, 0660 by default; mistakes name key and file', async (t) => {
  const f = await file(t, BASE + '[sasl]\nlisten = ["unix:/var/spool/postfix/private/auth", "127.0.0.1:12345"]\nsocket_owner = "postfix"\nsocket_mode = "0666"\n');
  const cfg = await loadConfig({}, f);
  assert.deepEqual(cfg.saslListen, ['unix:/var/spool/postfix/private/auth', '127.0.0.1:12345']);
  assert.equal(cfg.saslSocketOwner, 'postfix');
  assert.equal(cfg.saslSocketGroup, null);
  assert.equal(cfg.saslSocketMode, 0o666);
  const dflt = await loadConfig({ 'sasl-listen': ['unix:/run/auth'] }, await file(t, BASE));
  assert.deepEqual(dflt.saslListen, ['unix:/run/auth'], 'the flag alone');
  assert.equal(dflt.saslSocketMode, 0o660);
  assert.equal((await loadConfig({ 'sasl-socket-mode': '600' }, await file(t, BASE))).saslSocketMode, 0o600);
  const cases: Array<[string, RegExp]> = [
    [BASE + '[sasl]\nlisten = "unix:private/auth"\n', /sasl\.listen must be a list of "unix:\/absolute\/path" or "HOST:PORT"/],
    [BASE + '[sasl]\nlisten = ["localhost"]\n', /sasl\.listen must be/],
    [BASE + `[sasl]\nlisten = "unix:/${'x'.repeat(120)}"\n`, /sasl\.listen must be/],
    [BASE + '[sasl]\nsocket_mode = 660\n', /sasl\.socket_mode must be octal permissions as a string like "0660", got 660/],
    [BASE + '[sasl]\nsocket_mode = "0999"\n', /sasl\.socket_mode must be octal/],
    [BASE + '[sasl]\nsocket_mode = "rw-rw----"\n', /sasl\.socket_mode must be octal/],
  ];
  for (const [text, re] of cases) {
    const bad = await file(t, text);
    await assert.rejects(loadConfig({}, bad), (err: Error) => {
      assert.match(err.message, re);
      assert.ok(err.message.includes(bad), err.message);
      return true;
    });
  }
  await assert.rejects(loadConfig({ 'sasl-listen': ['unix:auth'] }, await file(t, BASE)), /command line: --sasl-listen must be/);
});
