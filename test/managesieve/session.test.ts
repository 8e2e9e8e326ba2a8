// The ManageSieve service on a real socket with a real users file and
// script directory: greeting and capabilities, the plaintext policy
// (ENCRYPT-NEEDED, no SASL offered), STARTTLS with input injected before the
// handshake dropped, AUTHENTICATE PLAIN/LOGIN with continuations and abort,
// the shared penalty and the fail2ban line, every script command with its
// response codes, pipelining, UNAUTHENTICATE, and the limits: literal size
// before and after login, bad commands, failed logins, login and idle time,
// connections per address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ManageSieveService } from '../../src/managesieve/server.js';
import type { ManageSieveLimits } from '../../src/managesieve/session.js';
import { ScriptStore, sieveLocation } from '../../src/managesieve/scripts.js';
import { UserDb } from '../../src/auth/users.js';
import { FailurePenalty } from '../../src/auth/penalty.js';
import { UserIpLimit } from '../../src/auth/limits.js';
import { SUPPORTED_EXTENSIONS } from '../../src/sieve/index.js';
import { hostsByPythonRe } from '../auth/fail2ban.js';

interface Setup {
  port: number;
  dir: string;
  logLines: string[];
  penalty: FailurePenalty;
}

async function setup(
  t: test.TestContext,
  o: { limits?: Partial<ManageSieveLimits>; plaintext?: boolean; tls?: tls.SecureContext; maxUnauth?: number; maxScripts?: number; maxScriptBytes?: number } = {},
): Promise<Setup> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msieve-session-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const usersFile = path.join(dir, 'users');
  await fs.writeFile(usersFile, 'bob:{PLAIN}bob-pass\nalice:{PLAIN}alice-pass\n');
  const users = new UserDb(usersFile);
  await users.load();
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const penalty = new FailurePenalty({ initialMs: 20, maxMs: 100 });
  const service = new ManageSieveService({
    log: pino({ level: 'info', base: { pid: process.pid } }, sink),
    implementation: 'maildir-imapd test',
    extensions: SUPPORTED_EXTENSIONS,
    maxRedirects: 4,
    authenticate: (l, p) => users.authenticate(l, p),
    penalty,
    userIp: new UserIpLimit(5),
    storeFor: (u) => new ScriptStore(sieveLocation(u, path.join(dir, 'mail', u.name, 'Maildir')), { maxScripts: o.maxScripts ?? 10, maxScriptBytes: o.maxScriptBytes ?? 1000 }),
    tls: () => o.tls ?? null,
    plaintextAllowed: (_addr, secure) => secure || o.plaintext !== false,
    authFailDelayMs: 20,
    limits: { maxCommandBytes: (o.maxScriptBytes ?? 1000) + 200, ...o.limits },
    maxConnections: 50,
    maxUnauthenticatedPerIp: o.maxUnauth ?? 10,
  });
  const l = await service.listen('127.0.0.1:0');
  service.open();
  t.after(() => service.close());
  return { port: (l.address as net.AddressInfo).port, dir, logLines, penalty };
}

/** A raw client: send bytes, read until a line that starts with OK, NO or BYE (a whole reply, literals included). */
class Client {
  buf = Buffer.alloc(0);
  closed = false;
  private wake: (() => void) | null = null;
  constructor(public socket: net.Socket) {
    this.listen(socket);
  }
  listen(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }
  static async connect(port: number): Promise<Client> {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const c = new Client(s);
    await c.reply(); // greeting
    return c;
  }
  send(s: string | Buffer): void {
    this.socket.write(s);
  }
  /** The next complete reply: everything up to and including a line that starts with OK/NO/BYE, skipping literals. */
  async reply(ms = 5000): Promise<string> {
    const until = Date.now() + ms;
    for (;;) {
      const end = this.replyEnd();
      if (end >= 0) {
        const out = this.buf.subarray(0, end).toString();
        this.buf = this.buf.subarray(end);
        return out;
      }
      if (this.closed) throw new Error(`closed; got ${JSON.stringify(this.buf.toString())}`);
      if (Date.now() > until) throw new Error(`no reply; got ${JSON.stringify(this.buf.toString())}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 50);
      });
      this.wake = null;
    }
  }
  /** A single line (a SASL challenge). */
  async line(): Promise<string> {
    const until = Date.now() + 5000;
    for (;;) {
      const nl = this.buf.indexOf('\r\n');
      if (nl >= 0) {
        const out = this.buf.subarray(0, nl).toString();
        this.buf = this.buf.subarray(nl + 2);
        return out;
      }
      if (this.closed || Date.now() > until) throw new Error(`no line; got ${JSON.stringify(this.buf.toString())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  private replyEnd(): number {
    let i = 0;
    while (i < this.buf.length) {
      const nl = this.buf.indexOf('\r\n', i);
      if (nl < 0) return -1;
      const line = this.buf.subarray(i, nl).toString('latin1');
      const lit = /\{(\d+)\}$/.exec(line);
      if (lit) {
        i = nl + 2 + Number(lit[1]);
        if (i > this.buf.length) return -1;
        const close = this.buf.indexOf('\r\n', i);
        if (close < 0) return -1;
        if (/^(OK|NO|BYE)\b/.test(line)) return close + 2;
        i = close + 2;
        continue;
      }
      if (/^(OK|NO|BYE)\b/.test(line)) return nl + 2;
      i = nl + 2;
    }
    return -1;
  }
  async waitClosed(ms = 5000): Promise<void> {
    const until = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > until) throw new Error('not closed');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const plain = (user: string, pw: string) => Buffer.from(`\0${user}\0${pw}`).toString('base64');
const lit = (s: string) => `{${Buffer.byteLength(s)}+}\r\n${s}`;

async function loggedIn(port: number, user = 'bob'): Promise<Client> {
  const c = await Client.connect(port);
  c.send(`AUTHENTICATE "PLAIN" "${plain(user, `${user}-pass`)}"\r\n`);
  assert.equal(await c.reply(), 'OK "Logged in."\r\n');
  return c;
}

test('greeting and CAPABILITY: IMPLEMENTATION, SASL, SIEVE, VERSION; OWNER and MAXREDIRECTS after login; no NOTIFY', async (t) => {
  const { port } = await setup(t);
  const s = net.connect(port, '127.0.0.1');
  const c = new Client(s);
  const greeting = await c.reply();
  assert.match(greeting, /^"IMPLEMENTATION" "maildir-imapd test"\r\n"SASL" "PLAIN LOGIN"\r\n"SIEVE" "fileinto reject .*vacation-seconds include"\r\n"VERSION" "1\.0"\r\n"UNAUTHENTICATE"\r\nOK "maildir-imapd ManageSieve ready\."\r\n$/);
  assert.doesNotMatch(greeting, /STARTTLS|NOTIFY/, 'no certificate, no STARTTLS');
  c.send(`AUTHENTICATE "PLAIN" "${plain('bob', 'bob-pass')}"\r\nCAPABILITY\r\n`);
  assert.equal(await c.reply(), 'OK "Logged in."\r\n');
  const caps = await c.reply();
  assert.match(caps, /"OWNER" "bob"\r\n"MAXREDIRECTS" "4"\r\n/);
  assert.doesNotMatch(caps, /"SASL"/);
  assert.match(caps, /OK "Capability completed\."\r\n$/);
  s.destroy();
});

test('the script commands and their codes, pipelined in one write', async (t) => {
  const { port, dir } = await setup(t);
  const c = await loggedIn(port);
  const cmds = [
    `PUTSCRIPT "main" ${lit('require "fileinto";\r\nfileinto "Lists";\r\n')}\r\n`,
    `PUTSCRIPT {5+}\r\nother "keep;"\r\n`,
    'LISTSCRIPTS\r\n',
    'SETACTIVE "main"\r\n',
    'LISTSCRIPTS\r\n',
    'GETSCRIPT "main"\r\n',
    'DELETESCRIPT "main"\r\n',
    'RENAMESCRIPT "main" "renamed"\r\n',
    'RENAMESCRIPT "renamed" "other"\r\n',
    'DELETESCRIPT "gone"\r\n',
    'GETSCRIPT "gone"\r\n',
    'HAVESPACE "new" 1001\r\n',
    'HAVESPACE "new" 1000\r\n',
    'NOOP "tag 1"\r\n',
    'NOOP\r\n',
    'SETACTIVE ""\r\n',
    'DELETESCRIPT "renamed"\r\n',
    'LISTSCRIPTS\r\n',
  ];
  c.send(cmds.join(''));
  const replies = [];
  for (let i = 0; i < cmds.length; i++) replies.push(await c.reply());
  assert.deepEqual(replies, [
    'OK "PUTSCRIPT completed."\r\n',
    'OK "PUTSCRIPT completed."\r\n',
    '"main"\r\n"other"\r\nOK "Listscripts completed."\r\n',
    'OK "Setactive completed."\r\n',
    '"main" ACTIVE\r\n"other"\r\nOK "Listscripts completed."\r\n',
    '{40}\r\nrequire "fileinto";\r\nfileinto "Lists";\r\n\r\nOK "Getscript completed."\r\n',
    'NO (ACTIVE) "Cannot delete the active Sieve script."\r\n',
    'OK "Renamescript completed."\r\n',
    'NO (ALREADYEXISTS) "A sieve script with that name already exists."\r\n',
    'NO (NONEXISTENT) "Sieve script \\"gone\\" not found"\r\n',
    'NO (NONEXISTENT) "Sieve script \\"gone\\" not found"\r\n',
    'NO (QUOTA/MAXSIZE) "Script is too large (max 1000 bytes)."\r\n',
    'OK "Putscript would succeed."\r\n',
    'OK (TAG "tag 1") "Done"\r\n',
    'OK "NOOP completed."\r\n',
    'OK "Active script is now deactivated."\r\n',
    'OK "Deletescript completed."\r\n',
    '"other"\r\nOK "Listscripts completed."\r\n',
  ]);
  assert.deepEqual((await fs.readdir(path.join(dir, 'mail', 'bob', 'sieve'))).sort(), ['other.sieve', 'tmp']);
  c.send('LOGOUT\r\n');
  assert.equal(await c.reply(), 'OK "Logout completed."\r\n');
  await c.waitClosed();
});

test('PUTSCRIPT and CHECKSCRIPT with errors: NO with each error and its line number; nothing stored', async (t) => {
  const { port, dir } = await setup(t);
  const c = await loggedIn(port);
  c.send(`PUTSCRIPT "bad" ${lit('require "fileinto";\nkeep;\nfoo;\n')}\r\n`);
  assert.equal(await c.reply(), `NO "bad: line 3: error: unknown command 'foo'."\r\n`);
  c.send(`CHECKSCRIPT ${lit('if true {\n  keep;\n  stop\n}\n')}\r\n`);
  assert.match(await c.reply(), /^NO "line 4: error: [^"]*"\r\n$/);
  c.send(`CHECKSCRIPT ${lit('foo;\nbar;\n')}\r\n`);
  assert.match(await c.reply(), /^NO \{\d+\}\r\nline 1: error: unknown command 'foo'\.\r\nline 2: error: unknown command 'bar'\.\r\n\r\nOK|^NO \{\d+\}\r\nline 1: error: unknown command 'foo'\.\r\nline 2: error: unknown command 'bar'\.\r\n\r\n$/);
  c.send(`CHECKSCRIPT ${lit('require "vacation";\nvacation "gone";\n')}\r\n`);
  assert.equal(await c.reply(), 'OK "Script checked successfully."\r\n');
  c.send('LISTSCRIPTS\r\n');
  assert.equal(await c.reply(), 'OK "Listscripts completed."\r\n');
  await assert.rejects(fs.stat(path.join(dir, 'mail', 'bob', 'sieve', 'bad.sieve')));
  // Script errors are not protocol errors: 30 of them do not close the session.
  for (let i = 0; i < 30; i++) c.send(`CHECKSCRIPT "foo;"\r\n`);
  for (let i = 0; i < 30; i++) assert.match(await c.reply(), /^NO "line 1/);
  c.send('NOOP\r\n');
  assert.equal(await c.reply(), 'OK "NOOP completed."\r\n');
});

test('SETACTIVE of a script that does not compile (put there by hand) is refused', async (t) => {
  const { port, dir } = await setup(t);
  await fs.mkdir(path.join(dir, 'mail', 'bob', 'sieve'), { recursive: true });
  await fs.writeFile(path.join(dir, 'mail', 'bob', 'sieve', 'hand.sieve'), 'keep;\nfileinto "x";\n');
  const c = await loggedIn(port);
  c.send('SETACTIVE "hand"\r\n');
  assert.match(await c.reply(), /^NO "hand: line 2: error: /);
  await assert.rejects(fs.lstat(path.join(dir, 'mail', 'bob', '.dovecot.sieve')));
});

test('include of a script not uploaded yet: PUTSCRIPT and CHECKSCRIPT warn (OK (WARNINGS)), SETACTIVE refuses until it is there', async (t) => {
  const { port, dir } = await setup(t);
  const c = await loggedIn(port);
  const main = 'require "include";\r\ninclude :optional "maybe";\r\ninclude "lists";\r\n';
  c.send(`CHECKSCRIPT ${lit(main)}\r\nPUTSCRIPT "main" ${lit(main)}\r\nSETACTIVE "main"\r\n`);
  assert.equal(await c.reply(), `OK (WARNINGS) "line 3: warning: included personal script 'lists' does not exist (ignored during upload)."\r\n`);
  assert.equal(await c.reply(), `OK (WARNINGS) "main: line 3: warning: included personal script 'lists' does not exist (ignored during upload)."\r\n`);
  assert.match(await c.reply(), /^NO "main: line 3: error: included personal script 'lists' does not exist\."\r\n$/);
  await assert.rejects(fs.lstat(path.join(dir, 'mail', 'bob', '.dovecot.sieve')), 'not activated');
  c.send(`PUTSCRIPT "lists" ${lit('require "fileinto";\r\nfileinto "Lists";\r\n')}\r\nSETACTIVE "main"\r\n`);
  assert.equal(await c.reply(), 'OK "PUTSCRIPT completed."\r\n');
  assert.equal(await c.reply(), 'OK "Setactive completed."\r\n');
  assert.equal(await fs.readlink(path.join(dir, 'mail', 'bob', '.dovecot.sieve')), 'sieve/main.sieve');
});

test('bad input: unknown commands, wrong arguments, names, non-UTF-8, commands before login; too many closes the session', async (t) => {
  const { port } = await setup(t, { limits: { maxBadCommands: 12 } });
  const pre = await Client.connect(port);
  pre.send('LISTSCRIPTS\r\nPUTSCRIPT "a" "keep;"\r\n');
  assert.equal(await pre.reply(), 'NO "LISTSCRIPTS needs a login first (AUTHENTICATE)."\r\n');
  assert.equal(await pre.reply(), 'NO "PUTSCRIPT needs a login first (AUTHENTICATE)."\r\n');
  const c = await loggedIn(port);
  const cases: Array<[string, RegExp]> = [
    ['FOO\r\n', /^NO "Unknown command \\"FOO\\"\."/],
    ['GETSCRIPT\r\n', /^NO "Error in MANAGESIEVE command GETSCRIPT: Missing argument \(script name\)\."/],
    ['GETSCRIPT "a" "b"\r\n', /^NO "Error in MANAGESIEVE command GETSCRIPT: Too many arguments\."/],
    ['HAVESPACE "a" "10"\r\n', /^NO "Error in MANAGESIEVE command HAVESPACE: size must be a number\."/],
    ['PUTSCRIPT "a/b" "keep;"\r\n', /^NO "Invalid script name: the name contains '\/'\."/],
    ['PUTSCRIPT "" "keep;"\r\n', /^NO "Invalid script name: the name is empty\."/],
    ['GETSCRIPT "\xff"\r\n', /^NO "Error in MANAGESIEVE command GETSCRIPT: script name is not UTF-8\."/],
    ['GETSCRIPT "unterminated\r\n', /^NO "Error in MANAGESIEVE command GETSCRIPT: Missing '\\"'\."/],
    ['"quoted"\r\n', /^NO "Error in MANAGESIEVE command: expected a command name\."/],
    ['\r\n', /^NO "Empty command\."/],
  ];
  for (const [cmd, re] of cases) {
    c.send(Buffer.from(cmd, 'latin1'));
    assert.match(await c.reply(), re, JSON.stringify(cmd));
  }
  c.send('FOO\r\nBAR\r\nNOOP\r\n');
  assert.match(await c.reply(), /^NO "Unknown command \\"FOO/);
  assert.match(await c.reply(), /^NO "Unknown command \\"BAR/, 'the twelfth is answered, then the session ends');
  assert.equal(await c.reply(), 'BYE "Too many invalid commands."\r\n');
  await c.waitClosed();
});

test('literal limits: before login a SASL-sized command, after login the script size; the session goes on', async (t) => {
  const { port } = await setup(t, { maxScriptBytes: 1000 });
  const pre = await Client.connect(port);
  pre.send(`NOOP {100000+}\r\n${'x'.repeat(100_000)}\r\nNOOP\r\n`);
  assert.equal(await pre.reply(), 'NO "Command too long (max 8192 bytes of literals before login)."\r\n');
  assert.equal(await pre.reply(), 'OK "NOOP completed."\r\n');
  const c = await loggedIn(port);
  c.send(`PUTSCRIPT "big" {5000+}\r\n${'#'.repeat(5000)}\r\nNOOP\r\n`);
  assert.equal(await c.reply(), 'NO (QUOTA/MAXSIZE) "Script is too large (max 1000 bytes)."\r\n');
  assert.equal(await c.reply(), 'OK "NOOP completed."\r\n');
  // Under the literal limit (script + 200) but over the script size.
  c.send(`PUTSCRIPT "big" {1100+}\r\n${'#'.repeat(1100)}\r\n`);
  assert.equal(await c.reply(), 'NO (QUOTA/MAXSIZE) "Script is too large (max 1000 bytes)."\r\n');
  c.send(`PUTSCRIPT "big" {1000+}\r\n${'#'.repeat(1000)}\r\n`);
  assert.equal(await c.reply(), 'OK "PUTSCRIPT completed."\r\n');
  c.send(`NOOP ${'x'.repeat(10_000)}\r\nNOOP\r\n`);
  assert.match(await c.reply(), /^NO "Error in MANAGESIEVE command: Line too long/);
  assert.equal(await c.reply(), 'OK "NOOP completed."\r\n');
});

test('script count quota: QUOTA/MAXSCRIPTS; replacing a script is not a new one', async (t) => {
  const { port } = await setup(t, { maxScripts: 2 });
  const c = await loggedIn(port);
  c.send('PUTSCRIPT "a" "keep;"\r\nPUTSCRIPT "b" "keep;"\r\nPUTSCRIPT "c" "keep;"\r\nHAVESPACE "c" 1\r\nPUTSCRIPT "a" "stop;"\r\n');
  assert.equal(await c.reply(), 'OK "PUTSCRIPT completed."\r\n');
  assert.equal(await c.reply(), 'OK "PUTSCRIPT completed."\r\n');
  assert.equal(await c.reply(), 'NO (QUOTA/MAXSCRIPTS) "Too many scripts (max 2)."\r\n');
  assert.equal(await c.reply(), 'NO (QUOTA/MAXSCRIPTS) "Too many scripts (max 2)."\r\n');
  assert.equal(await c.reply(), 'OK "PUTSCRIPT completed."\r\n');
});

test('AUTHENTICATE: PLAIN with a continuation, LOGIN, "*" aborts, bad base64, unknown mechanism, authzid', async (t) => {
  const { port } = await setup(t);
  const c = await Client.connect(port);
  c.send('AUTHENTICATE "PLAIN"\r\n');
  assert.equal(await c.line(), '""');
  c.send('"*"\r\n');
  assert.equal(await c.reply(), 'NO "Authentication aborted by client."\r\n');
  c.send('AUTHENTICATE "PLAIN"\r\n');
  assert.equal(await c.line(), '""');
  c.send('"!!!"\r\n');
  assert.equal(await c.reply(), 'NO "Invalid base64 in the SASL response."\r\n');
  c.send('AUTHENTICATE "CRAM-MD5"\r\n');
  assert.equal(await c.reply(), 'NO "Unsupported authentication mechanism \\"CRAM-MD5\\"."\r\n');
  c.send(`AUTHENTICATE "PLAIN" "${Buffer.from('alice\0bob\0bob-pass').toString('base64')}"\r\n`);
  assert.equal(await c.reply(), 'NO "Proxy authorization is not supported."\r\n');
  c.send('AUTHENTICATE "LOGIN"\r\n');
  assert.equal(await c.line(), `"${Buffer.from('Username:').toString('base64')}"`);
  c.send(`{${Buffer.from('bob').toString('base64').length}+}\r\n${Buffer.from('bob').toString('base64')}\r\n`);
  assert.equal(await c.line(), `"${Buffer.from('Password:').toString('base64')}"`);
  c.send(`"${Buffer.from('bob-pass').toString('base64')}"\r\n`);
  assert.equal(await c.reply(), 'OK "Logged in."\r\n');
  c.send('AUTHENTICATE "PLAIN" "x"\r\n');
  assert.equal(await c.reply(), 'NO "Already logged in."\r\n');
  // PLAIN continuation as a literal.
  const d = await Client.connect(port);
  d.send('AUTHENTICATE "PLAIN"\r\n');
  assert.equal(await d.line(), '""');
  d.send(lit(plain('alice', 'alice-pass')) + '\r\n');
  assert.equal(await d.reply(), 'OK "Logged in."\r\n');
});

test('failed logins: the penalty, the fail2ban line as IMAP writes it, BYE after three', async (t) => {
  const { port, logLines, penalty } = await setup(t);
  const c = await Client.connect(port);
  const started = Date.now();
  for (let i = 0; i < 2; i++) {
    c.send(`AUTHENTICATE "PLAIN" "${plain('bob', 'wrong')}"\r\n`);
    assert.equal(await c.reply(), 'NO "Authentication failed."\r\n');
  }
  assert.ok(Date.now() - started >= 20 + 40 - 5, 'each failure waited its penalty (20 ms, then 40)');
  assert.equal(penalty.failures('127.0.0.1'), 2, 'the shared penalty counts them');
  c.send(`AUTHENTICATE "PLAIN" "${plain('nobody', 'x')}"\r\n`);
  assert.equal(await c.reply(), 'BYE "Too many failed logins."\r\n');
  await c.waitClosed();
  const failed = logLines.filter((l) => l.includes('"login failed"'));
  assert.equal(failed.length, 3);
  assert.deepEqual(hostsByPythonRe(failed), ['127.0.0.1', '127.0.0.1', '127.0.0.1'], 'the shipped fail2ban filter matches them');
  assert.ok(!logLines.some((l) => l.includes('wrong')), 'never a password in the log');
  // A success forgives only the failures made for its own name, never other names' guesses from the address.
  await loggedIn(port);
  assert.ok(penalty.failures('127.0.0.1') > 0, "another name's success leaves the guesses counted");
});

test('plaintext policy: no SASL mechanism offered and ENCRYPT-NEEDED without TLS; STARTTLS, then capabilities again, then login', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msieve-cert-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
  const context = tls.createSecureContext({ cert: await fs.readFile(path.join(dir, 'cert.pem')), key: await fs.readFile(path.join(dir, 'key.pem')) });
  const { port } = await setup(t, { plaintext: false, tls: context });
  const s = net.connect(port, '127.0.0.1');
  const c = new Client(s);
  const greeting = await c.reply();
  assert.match(greeting, /"SASL" ""\r\n"STARTTLS"\r\n/);
  c.send(`AUTHENTICATE "PLAIN" "${plain('bob', 'bob-pass')}"\r\n`);
  assert.equal(await c.reply(), 'NO (ENCRYPT-NEEDED) "Plaintext authentication disallowed on non-secure connections: use STARTTLS."\r\n');
  // Commands sent in the clear behind STARTTLS are dropped, never run after the handshake.
  c.send('STARTTLS\r\nPUTSCRIPT "injected" "keep;"\r\n');
  assert.equal(await c.reply(), 'OK "Begin TLS negotiation now."\r\n');
  s.removeAllListeners('data');
  const secure = tls.connect({ socket: s, rejectUnauthorized: false });
  const sc = new Client(secure);
  const caps = await sc.reply();
  assert.match(caps, /"SASL" "PLAIN LOGIN"\r\n/);
  assert.doesNotMatch(caps, /STARTTLS/);
  assert.match(caps, /OK "TLS negotiation successful\."\r\n$/);
  sc.send(`AUTHENTICATE "PLAIN" "${plain('bob', 'bob-pass')}"\r\nLISTSCRIPTS\r\nSTARTTLS\r\n`);
  assert.equal(await sc.reply(), 'OK "Logged in."\r\n');
  assert.equal(await sc.reply(), 'OK "Listscripts completed."\r\n', 'the injected PUTSCRIPT never ran');
  assert.equal(await sc.reply(), 'NO "STARTTLS is only allowed before login."\r\n');
  secure.destroy();
});

test('STARTTLS without a certificate is NO, not the end of the session', async (t) => {
  const { port } = await setup(t);
  const c = await Client.connect(port);
  c.send('STARTTLS\r\nNOOP\r\n');
  assert.match(await c.reply(), /^NO "TLS is not available/);
  assert.equal(await c.reply(), 'OK "NOOP completed."\r\n');
});

test('UNAUTHENTICATE returns to the start; another user then logs in on the same connection', async (t) => {
  const { port } = await setup(t);
  const c = await loggedIn(port);
  c.send('PUTSCRIPT "bobs" "keep;"\r\nUNAUTHENTICATE\r\nLISTSCRIPTS\r\n');
  assert.equal(await c.reply(), 'OK "PUTSCRIPT completed."\r\n');
  assert.equal(await c.reply(), 'OK "Unauthenticate completed."\r\n');
  assert.match(await c.reply(), /^NO "LISTSCRIPTS needs a login first/);
  c.send(`AUTHENTICATE "PLAIN" "${plain('alice', 'alice-pass')}"\r\nLISTSCRIPTS\r\n`);
  assert.equal(await c.reply(), 'OK "Logged in."\r\n');
  assert.equal(await c.reply(), 'OK "Listscripts completed."\r\n', "alice does not see bob's scripts");
});

test('time limits: login within loginTimeoutMs, silence after login within idleTimeoutMs', async (t) => {
  const { port } = await setup(t, { limits: { loginTimeoutMs: 200, idleTimeoutMs: 300 } });
  const c = await Client.connect(port);
  // Trickling bytes does not keep an unauthenticated connection open.
  const trickle = setInterval(() => c.send('N'), 50);
  t.after(() => clearInterval(trickle));
  assert.equal(await c.reply(2000), 'BYE "Disconnected for inactivity."\r\n');
  clearInterval(trickle);
  await c.waitClosed();
  const d = await loggedIn(port);
  await new Promise((r) => setTimeout(r, 150));
  d.send('NOOP\r\n');
  assert.equal(await d.reply(), 'OK "NOOP completed."\r\n', 'the login timer is gone after login');
  assert.equal(await d.reply(2000), 'BYE "Disconnected for inactivity."\r\n');
  await d.waitClosed();
});

test('connections per address that have not logged in are capped', async (t) => {
  const { port } = await setup(t, { maxUnauth: 2 });
  const a = await Client.connect(port);
  await Client.connect(port);
  const s = net.connect(port, '127.0.0.1');
  const c = new Client(s);
  assert.equal(await c.reply(), 'BYE "Too many connections from your address that have not logged in."\r\n');
  // Once one logs in, there is room again.
  a.send(`AUTHENTICATE "PLAIN" "${plain('bob', 'bob-pass')}"\r\n`);
  assert.equal(await a.reply(), 'OK "Logged in."\r\n');
  await Client.connect(port);
});

test('a client that stops reading for a while: 2,000 pipelined GETSCRIPTs of 100 KB (reading pauses while replies queue), all answered in order', async (t) => {
  const { port } = await setup(t, { maxScriptBytes: 100_000, limits: { maxCommandBytes: 200_000 } });
  const c = await loggedIn(port);
  c.send(`PUTSCRIPT "big" {100000+}\r\n#${'x'.repeat(99_998)}\n\r\n`);
  assert.equal(await c.reply(), 'OK "PUTSCRIPT completed."\r\n');
  c.socket.pause();
  // 2,000 GETSCRIPTs would be 200 MB of replies if they all ran.
  const many = Buffer.from('GETSCRIPT "big"\r\n'.repeat(2000));
  c.socket.write(many);
  await new Promise((r) => setTimeout(r, 500));
  c.socket.resume();
  let got = 0;
  for (let i = 0; i < 2000; i++) {
    const r = await c.reply(10_000);
    assert.match(r, /OK "Getscript completed\."\r\n$/);
    got++;
  }
  assert.equal(got, 2000, 'all answered in the end, in order');
});
