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
    [BASE.replace('listen = "127.0.0.1:143"', 'listen = 143'), /imap\.listen must be a string or a list of strings like \["0\.0\.0\.0:143"\], got 143/],
    [BASE.replace('listen = "127.0.0.1:143"', 'listen = "127.0.0.1"'), /config\.toml: imap\.listen: "127\.0\.0\.1" has no port: write "127\.0\.0\.1:143" \(HOST:PORT\)$/],
    [BASE.replace('listen = "127.0.0.1:143"', 'listen = ["0.0.0.0:143", "localhost"]'), /imap\.listen: "localhost" has no port: write "localhost:143"/],
    [BASE.replace('listen = "127.0.0.1:143"', 'tls_listen = "0.0.0.0"'), /imap\.tls_listen: "0\.0\.0\.0" has no port: write "0\.0\.0\.0:993"/],
    [BASE.replace('listen = "127.0.0.1:143"', 'listen = "::1"'), /imap\.listen: "::1" has no port \(an IPv6 address goes in brackets before it\): write "\[::1\]:143"/],
    [BASE.replace('listen = "127.0.0.1:143"', 'listen = "fe80::1:x:143"'), /imap\.listen: "fe80::1:x:143": an IPv6 address goes in brackets before the port, e.g. "\[::1\]:143"/],
    [BASE.replace('listen = "127.0.0.1:143"', 'listen = "127.0.0.1:99999"'), /imap\.listen: "127\.0\.0\.1:99999": the port must be a number from 1 to 65535, e.g. "127\.0\.0\.1:143"/],
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

test('[lmtp]: listeners (unix:PATH or HOST:PORT), socket owner/group/mode, recipient delimiter; mistakes name the key and file', async (t) => {
  const f = await file(t, BASE + '[lmtp]\nlisten = ["unix:/var/spool/postfix/private/maildir-imapd-lmtp", "127.0.0.1:24"]\nsocket_user = "postfix"\nsocket_group = "postfix"\nsocket_mode = "0600"\nrecipient_delimiter = "+-"\n');
  const cfg = await loadConfig({}, f);
  assert.deepEqual(cfg.lmtpListen, ['unix:/var/spool/postfix/private/maildir-imapd-lmtp', '127.0.0.1:24']);
  assert.equal(cfg.lmtpSocketUser, 'postfix');
  assert.equal(cfg.lmtpSocketMode, 0o600);
  assert.equal(cfg.lmtpRecipientDelimiter, '+-');
  const defaults = await loadConfig({}, await file(t, BASE));
  assert.deepEqual([defaults.lmtpListen, defaults.lmtpSocketMode, defaults.lmtpRecipientDelimiter, defaults.lmtpMaxRecipients], [[], 0o660, '+', 100]);
  assert.equal((await loadConfig({}, await file(t, BASE + '[lmtp]\nsocket_mode = 0o640\nrecipient_delimiter = ""\n'))).lmtpSocketMode, 0o640);
  const flags = await loadConfig({ 'lmtp-listen': ['unix:/run/x/lmtp'], 'lmtp-socket-mode': '0666' }, f);
  assert.deepEqual([flags.lmtpListen, flags.lmtpSocketMode], [['unix:/run/x/lmtp'], 0o666]);
  const cases: Array<[string, RegExp]> = [
    ['listen = ["unix:relative"]', /lmtp\.listen must be a list like/],
    ['listen = "lmtp:inet:127.0.0.1:24"', /lmtp\.listen must be a list like/],
    ['socket_mode = "rw-rw----"', /lmtp\.socket_mode must be an octal mode like "0660"/],
    ['socket_mode = 660', /lmtp\.socket_mode must be an octal mode/],
    ['recipient_delimiter = "@"', /lmtp\.recipient_delimiter must be a string of delimiter characters/],
  ];
  for (const [line, re] of cases) {
    const bad = await file(t, BASE + `[lmtp]\n${line}\n`);
    await assert.rejects(loadConfig({}, bad), (err: Error) => {
      assert.match(err.message, re);
      assert.ok(err.message.includes(bad), err.message);
      return true;
    });
  }
});

test('[managesieve] and [sieve]: listeners, quotas, script locations; mistakes name the key and file; the shipped example parses', async (t) => {
  const f = await file(t, BASE + '[managesieve]\nlisten = ["0.0.0.0:4190", "unix:/run/maildir-imapd/sieve"]\nmax_scripts = 20\nmax_script_size = 65536\n[sieve]\ndir = "/var/sieve/%d/%n"\nactive = "~/.dovecot.sieve"\n');
  const cfg = await loadConfig({}, f);
  assert.deepEqual(cfg.managesieveListen, ['0.0.0.0:4190', 'unix:/run/maildir-imapd/sieve']);
  assert.deepEqual([cfg.managesieveMaxScripts, cfg.managesieveMaxScriptSize, cfg.sieveDir, cfg.sieveActive], [20, 65536, '/var/sieve/%d/%n', '~/.dovecot.sieve']);
  const defaults = await loadConfig({}, await file(t, BASE));
  assert.deepEqual([defaults.managesieveListen, defaults.managesieveMaxScripts, defaults.managesieveMaxScriptSize, defaults.sieveDir, defaults.sieveActive], [[], 100, 1048576, '~/sieve', '~/.dovecot.sieve']);
  const flags = await loadConfig({ 'managesieve-listen': ['127.0.0.1:4190'], 'sieve-dir': '~/filters' }, f);
  assert.deepEqual([flags.managesieveListen, flags.sieveDir], [['127.0.0.1:4190'], '~/filters']);
  const cases: Array<[string, RegExp]> = [
    ['[managesieve]\nlisten = ["4190"]', /managesieve\.listen must be a list like \["0\.0\.0\.0:4190"\]/],
    ['[managesieve]\nmax_scripts = 0', /managesieve\.max_scripts must be a positive whole number/],
    ['[managesieve]\nmax_script_size = 100000000', /managesieve\.max_script_size must be at most 67108864/],
    ['[sieve]\ndir = "sieve"', /sieve\.dir must be an absolute path or start with ~\//],
    ['[sieve]\nactive = "~/../x"', /sieve\.active must be an absolute path or start with ~\/.*without '\.\.'/],
    ['[sieve]\ndir = "~/x"\nactive = "~/x"', /sieve\.dir and sieve\.active must differ/],
  ];
  for (const [lines, re] of cases) {
    const bad = await file(t, BASE + lines + '\n');
    await assert.rejects(loadConfig({}, bad), (err: Error) => {
      assert.match(err.message, re);
      assert.ok(err.message.includes(bad), err.message);
      return true;
    });
  }
  // deploy/config.toml's [managesieve] and [sieve] sections, their keys uncommented, are valid and listen on 4190.
  const example = await fs.readFile(fileURLToPath(new URL('../../deploy/config.toml', import.meta.url)), 'utf8');
  const sections = /\[managesieve\][\s\S]*?(?=\n\[service\])/.exec(example)?.[0] ?? '';
  assert.match(sections, /\[sieve\]/);
  const fromExample = await loadConfig({}, await file(t, BASE + sections.replace(/^# ((?:listen|max_scripts|max_script_size|dir|active) = .*)$/gm, '$1')));
  assert.deepEqual([fromExample.managesieveListen, fromExample.sieveDir, fromExample.sieveActive], [['0.0.0.0:4190'], '~/sieve', '~/.dovecot.sieve']);
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
    [BASE + '[sasl]\nlisten = "unix:private/auth"\n', /sasl\.listen must be a list like/],
    [BASE + '[sasl]\nlisten = ["localhost"]\n', /sasl\.listen must be/],
    [BASE + `[sasl]\nlisten = "unix:/${'x'.repeat(120)}"\n`, /sasl\.listen must be/],
    [BASE + '[sasl]\nsocket_mode = 660\n', /sasl\.socket_mode must be an octal mode/],
    [BASE + '[sasl]\nsocket_mode = "0999"\n', /sasl\.socket_mode must be an octal mode/],
    [BASE + '[sasl]\nsocket_mode = "rw-rw----"\n', /sasl\.socket_mode must be an octal mode/],
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

test("--tls-listen '' turns off the file's implicit-TLS listener for one run (migration beside Dovecot)", async (t) => {
  const f = await file(t, BASE.replace('listen = "127.0.0.1:143"', 'listen = "127.0.0.1:143"\ntls_listen = ["0.0.0.0:993"]') + '[tls]\ncert = "/etc/ssl/c.pem"\nkey = "/etc/ssl/k.pem"\n');
  assert.deepEqual((await loadConfig({}, f)).tlsListen, ['0.0.0.0:993']);
  const cfg = await loadConfig({ listen: ['127.0.0.1:10143'], 'tls-listen': [''] }, f);
  assert.deepEqual([cfg.listen, cfg.tlsListen], [['127.0.0.1:10143'], []]);
  await assert.rejects(loadConfig({ listen: [''], 'tls-listen': [''] }, f), /no listener/);
});

test('[autoexpunge] and [admin]: ages in Dovecot units, folders by name, the socket; mistakes name the key and file; the shipped example parses', async (t) => {
  const f = await file(t, BASE + '[autoexpunge]\ntrash = "30d"\njunk = "2w"\nfolders = { "Archive.Old" = "365d", "inbox" = "0" }\ninterval = "10m"\nbatch = 100\n[admin]\nsocket = "unix:/tmp/x/admin.sock"\nsocket_mode = "0660"\n');
  const cfg = await loadConfig({}, f);
  const DAY = 86_400_000;
  assert.deepEqual([cfg.autoexpungeTrash, cfg.autoexpungeJunk, cfg.autoexpungeFolders, cfg.autoexpungeInterval, cfg.autoexpungeBatch], [30 * DAY, 14 * DAY, { 'Archive.Old': 365 * DAY }, 600_000, 100]);
  assert.deepEqual([cfg.adminSocket, cfg.adminSocketMode], ['unix:/tmp/x/admin.sock', 0o660]);
  const defaults = await loadConfig({}, await file(t, BASE));
  assert.deepEqual([defaults.autoexpungeTrash, defaults.autoexpungeJunk, defaults.autoexpungeFolders, defaults.autoexpungeInterval, defaults.adminSocket, defaults.adminSocketMode], [null, null, {}, 3_600_000, 'unix:/run/maildir-imapd/admin.sock', 0o600]);
  const flags = await loadConfig({ 'autoexpunge-folders': ['Spam=3d'], 'autoexpunge-trash': '0', 'admin-socket': '' }, f);
  assert.deepEqual([flags.autoexpungeFolders, flags.autoexpungeTrash, flags.adminSocket], [{ Spam: 3 * DAY }, null, '']);
  const cases: Array<[string, RegExp]> = [
    ['[autoexpunge]\ntrash = "30"', /autoexpunge\.trash must be an age like "30d"/],
    ['[autoexpunge]\ntrash = 30', /autoexpunge\.trash must be an age/],
    ['[autoexpunge]\ninterval = "0"', /autoexpunge\.interval must be an age/],
    ['[autoexpunge]\nfolders = { "Old" = "a year" }', /autoexpunge\.folders "Old" must be an age/],
    ['[autoexpunge]\nfolders = { "a..b" = "1d" }', /autoexpunge\.folders "a\.\.b" is not a usable folder name/],
    ['[autoexpunge]\nfolders = "x"', /autoexpunge\.folders "x" must be an age/],
    ['[admin]\nsocket = "127.0.0.1:99"', /admin\.socket must be unix:\/absolute\/path/],
    ['[admin]\nsocket_mode = "888"', /admin\.socket_mode must be an octal mode/],
  ];
  for (const [lines, re] of cases) {
    const bad = await file(t, BASE + lines + '\n');
    await assert.rejects(loadConfig({}, bad), (err: Error) => {
      assert.match(err.message, re);
      assert.ok(err.message.includes(bad), err.message);
      return true;
    });
  }
  const example = await fs.readFile(fileURLToPath(new URL('../../deploy/config.toml', import.meta.url)), 'utf8');
  const sections = /\[autoexpunge\][\s\S]*?(?=\n\[quota_status\])/.exec(example)?.[0] ?? '';
  const fromExample = await loadConfig({}, await file(t, BASE + sections.replace(/^# ((?:trash|junk|folders|interval|batch|socket|socket_mode) = [^#]*?)\s*(#.*)?$/gm, '$1')));
  assert.deepEqual([fromExample.autoexpungeTrash, fromExample.autoexpungeFolders, fromExample.adminSocketMode], [30 * DAY, { 'Archive.Old': 365 * DAY }, 0o600]);
});
