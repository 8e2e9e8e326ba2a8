// The Postfix SMTP AUTH service, spoken to as Postfix's xsasl_dovecot_server.c
// speaks: handshake, AUTH PLAIN/LOGIN with and without initial responses, CONT,
// OK with the canonical login, FAIL, the failure penalty within Postfix's read
// timeout, the fail2ban line, and the limits on a misbehaving client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { SaslServer } from '../../src/sasl/server.js';
import { DEFAULT_SASL_LIMITS, type SaslLimits } from '../../src/sasl/connection.js';
import { UserDb } from '../../src/auth/users.js';
import { LoginLimits } from '../../src/auth/limits.js';
import { networkList } from '../../src/imap/capabilities.js';
import { hostsByPythonRe } from '../auth/fail2ban.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Setup {
  server: SaslServer;
  where: string[];
  logs: string[];
  limits: LoginLimits;
}

async function setup(t: test.TestContext, opts: { limits?: Partial<SaslLimits>; penaltyMs?: number; specs?: (dir: string) => string[] } = {}): Promise<Setup> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sasl-'));
  const usersFile = path.join(dir, 'users');
  await fs.writeFile(usersFile, 'bob@example.org:{PLAIN}bob-pass\nalice:{PLAIN}alice-pass\nt\tab:{PLAIN}tab-pass\n');
  const users = new UserDb(usersFile);
  await users.load();
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { logs.push(...String(chunk).split('\n').filter(Boolean)); cb(); } });
  const log = pino({ level: 'debug', base: { pid: process.pid } }, sink);
  const initial = opts.penaltyMs ?? 100;
  const limits = new LoginLimits({ maxConnectionsPerUserIp: 20, penalty: { initialMs: initial, maxMs: initial * 7.5 } });
  const saslLimits = { ...DEFAULT_SASL_LIMITS, ...opts.limits };
  const server = new SaslServer({ specs: opts.specs ? opts.specs(dir) : ['127.0.0.1:0'], socket: {}, log, limits: saslLimits });
  const where = await server.listen();
  server.open({ verify: { users, limits, replyWithinMs: saslLimits.replyWithinMs, failDelayMs: initial }, allowPlaintext: false, plaintextNetworks: networkList(['127.0.0.0/8', '::1/128']) });
  t.after(async () => {
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });
  return { server, where, logs, limits };
}

/** An auth client: writes lines, reads lines (each with a timeout), sees the close. */
class Client {
  private buf = '';
  private lines: string[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }
  static connect(where: string): Promise<Client> {
    const s = where.startsWith('unix:') ? net.connect(where.slice(5)) : net.connect(Number(where.split(':').pop()), '127.0.0.1');
    return new Promise((resolve, reject) => {
      s.once('connect', () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }
  /** Connects and does Postfix's handshake; returns the server's handshake lines. */
  static async ready(where: string): Promise<{ c: Client; handshake: string[] }> {
    const c = await Client.connect(where);
    c.send('VERSION\t1\t1', 'CPID\t4242');
    const handshake: string[] = [];
    for (;;) {
      const l = await c.line();
      handshake.push(l);
      if (l === 'DONE') return { c, handshake };
    }
  }
  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }
  send(...lines: string[]) {
    this.socket.write(lines.map((l) => l + '\n').join(''));
  }
  async line(timeoutMs = 3000): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (!this.lines.length) {
      if (this.closed) throw new Error('connection closed');
      const left = until - Date.now();
      if (left <= 0) throw new Error('no line within ' + timeoutMs + ' ms');
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
    return this.lines.shift()!;
  }
  async closedWithin(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }
  end() {
    this.socket.destroy();
  }
}

const AUTH = (id: number, mech: string, extra = '') => `AUTH\t${id}\t${mech}\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.1${extra}`;

test('handshake: VERSION, MECH PLAIN/LOGIN plaintext before SPID, CUID, COOKIE, DONE', async (t) => {
  const { where } = await setup(t);
  const { c, handshake } = await Client.ready(where[0]);
  t.after(() => c.end());
  assert.equal(handshake[0], 'VERSION\t1\t2');
  assert.deepEqual(handshake.slice(1, 3), ['MECH\tPLAIN\tplaintext', 'MECH\tLOGIN\tplaintext']);
  assert.equal(handshake[3], `SPID\t${process.pid}`);
  assert.match(handshake[4], /^CUID\t\d+$/);
  assert.match(handshake[5], /^COOKIE\t[0-9a-f]{32}$/);
  assert.equal(handshake[6], 'DONE');
  assert.equal(handshake.length, 7);
});

test('many AUTHs on one connection: PLAIN with and without initial response, LOGIN with and without the user name, canonical user=', async (t) => {
  const { where } = await setup(t);
  const { c } = await Client.ready(where[0]);
  t.after(() => c.end());
  c.send(AUTH(1, 'PLAIN', `\tresp=${b64('\0bob@example.org\0bob-pass')}`));
  assert.equal(await c.line(), 'OK\t1\tuser=bob@example.org');
  c.send(AUTH(2, 'plain'));
  assert.equal(await c.line(), 'CONT\t2\t', 'an empty challenge, its field present');
  c.send(`CONT\t2\t${b64('bob@example.org\0bob@example.org\0bob-pass')}`);
  assert.equal(await c.line(), 'OK\t2\tuser=bob@example.org', 'authzid equal to authcid is fine');
  c.send(AUTH(3, 'LOGIN'));
  assert.equal(await c.line(), `CONT\t3\t${b64('Username:')}`);
  c.send(`CONT\t3\t${b64('ALICE')}`);
  assert.equal(await c.line(), `CONT\t3\t${b64('Password:')}`);
  c.send(`CONT\t3\t${b64('alice-pass')}`);
  assert.equal(await c.line(), 'OK\t3\tuser=alice', 'the users file spelling, not the client\'s (smtpd_sender_login_maps matches it)');
  c.send(AUTH(4, 'Login', `\tresp=${b64('alice')}`));
  assert.equal(await c.line(), `CONT\t4\t${b64('Password:')}`);
  c.send(`CONT\t4\t${b64('alice-pass')}`);
  assert.equal(await c.line(), 'OK\t4\tuser=alice');
  c.send(AUTH(5, 'LOGIN', '\tresp='));
  assert.equal(await c.line(), `CONT\t5\t${b64('Username:')}`, 'an empty initial response asks for the name');
  c.send(`CONT\t5\t${b64('t\tab')}`, );
  assert.equal(await c.line(), `CONT\t5\t${b64('Password:')}`);
  c.send(`CONT\t5\t${b64('tab-pass')}`);
  assert.equal(await c.line(), 'OK\t5\tuser=t\x01tab', 'a TAB in a name is escaped');
});

test('requests interleave by id; a CONT for an unknown id gets FAIL; unsupported mechanism and bad base64 get FAIL with a reason', async (t) => {
  const { where } = await setup(t);
  const { c } = await Client.ready(where[0]);
  t.after(() => c.end());
  c.send(AUTH(7, 'LOGIN'), AUTH(8, 'PLAIN'));
  assert.equal(await c.line(), `CONT\t7\t${b64('Username:')}`);
  assert.equal(await c.line(), 'CONT\t8\t');
  c.send(`CONT\t8\t${b64('\0alice\0alice-pass')}`);
  assert.equal(await c.line(), 'OK\t8\tuser=alice');
  c.send(`CONT\t7\t${b64('alice')}`, `CONT\t7\t${b64('alice-pass')}`);
  assert.equal(await c.line(), `CONT\t7\t${b64('Password:')}`);
  assert.equal(await c.line(), 'OK\t7\tuser=alice');
  c.send(`CONT\t99\t${b64('x')}`);
  assert.match(await c.line(), /^FAIL\t99\treason=No such authentication request/);
  c.send(AUTH(9, 'CRAM-MD5'));
  assert.equal(await c.line(), 'FAIL\t9\treason=Unsupported authentication mechanism');
  c.send(AUTH(10, 'PLAIN', '\tresp=%%%'));
  assert.equal(await c.line(), 'FAIL\t10\treason=Invalid base64 data in initial response');
  c.send(AUTH(11, 'PLAIN'), `CONT\t11\tnot base64!`);
  assert.equal(await c.line(), 'CONT\t11\t');
  assert.equal(await c.line(), 'FAIL\t11\treason=Invalid base64 data in continued response');
  c.send(AUTH(12, 'PLAIN', `\tresp=${b64('\0alice')}`));
  assert.equal(await c.line(), 'FAIL\t12\treason=Invalid PLAIN message');
  c.send(AUTH(13, 'PLAIN', `\tresp=${b64('bob@example.org\0alice\0alice-pass')}`));
  assert.equal(await c.line(), 'FAIL\t13\tuser=alice\treason=Proxy authorization is not supported');
  c.send(AUTH(14, 'PLAIN', '\tresp='));
  assert.equal(await c.line(), 'FAIL\t14\treason=Invalid PLAIN message', 'PLAIN with an empty initial response');
  c.send(`AUTH\t15\tPLAIN\tresp=${b64('\0alice\0alice-pass')}`);
  assert.equal(await c.line(), 'FAIL\t15\treason=The request names no service');
  assert.ok(!c.closed, 'none of these ends the connection');
});

test('a password without TLS from outside the plaintext networks is refused; with `secured` it is checked', async (t) => {
  const { where } = await setup(t);
  const { c } = await Client.ready(where[0]);
  t.after(() => c.end());
  const resp = `\tresp=${b64('\0alice\0alice-pass')}`;
  c.send(`AUTH\t1\tPLAIN\tservice=smtp\tlip=192.0.2.1\trip=203.0.113.9${resp}`);
  assert.equal(await c.line(), 'FAIL\t1\treason=Plaintext authentication disallowed on non-secure (SSL/TLS) connections');
  c.send(`AUTH\t2\tPLAIN\tservice=smtp\tlip=192.0.2.1\trip=203.0.113.9\tsecured${resp}`);
  assert.equal(await c.line(), 'OK\t2\tuser=alice');
});

test('wrong password and unknown user: FAIL with user=, the penalty grows but every reply comes within the budget; fail2ban bans rip', async (t) => {
  const { where, logs, limits } = await setup(t, { penaltyMs: 400, limits: { replyWithinMs: 1500 } });
  const { c } = await Client.ready(where[0]);
  t.after(() => c.end());
  const times: number[] = [];
  const replies: string[] = [];
  for (let i = 1; i <= 5; i++) {
    const start = Date.now();
    const user = i % 2 ? 'alice' : 'nobody-here';
    c.send(`AUTH\t${i}\tPLAIN\tservice=smtp\tlip=127.0.0.1\trip=198.51.100.7\tsecured\tresp=${b64(`\0${user}\0wrong`)}`);
    replies.push(await c.line(3000));
    times.push(Date.now() - start);
  }
  assert.equal(replies[0], 'FAIL\t1\tuser=alice', 'no reason: the same answer for a wrong password and an unknown user');
  assert.equal(replies[1], 'FAIL\t2\tuser=nobody-here');
  assert.ok(times[0] >= 350, `the first failure is held for the penalty (${times[0]} ms)`);
  assert.ok(times[1] >= 750, `the second for twice that (${times[1]} ms)`);
  for (const ms of times) assert.ok(ms <= 1500 + 150, `every reply within the budget: ${times}`);
  const deferred = replies.filter((r) => /\treason=Too many failed logins from your address; try again later\ttemp$/.test(r));
  assert.ok(deferred.length >= 1, `once the penalty outlasts the budget the password is not even checked: ${replies.join(' | ')}`);
  assert.ok(limits.penalty.failures('198.51.100.7') <= 4, 'the deferred ones are not counted as guesses');
  // The right password from the same address waits out the penalty, then works (not within this budget: deferred).
  const failed = logs.filter((l) => l.includes('"msg":"login failed"'));
  assert.equal(failed.length, 5 - deferred.length);
  assert.deepEqual(hostsByPythonRe(failed), failed.map(() => '198.51.100.7'), 'fail2ban bans the SMTP client (rip), not Postfix');
  assert.match(failed[0], /"cid":"[0-9a-f]+-s\d+","proto":"sasl","ip":"198\.51\.100\.7","user":"alice","msg":"login failed"/);
});

test('a success clears the penalty for the address, and other addresses are not slowed', async (t) => {
  const { where } = await setup(t, { penaltyMs: 300 });
  const { c } = await Client.ready(where[0]);
  t.after(() => c.end());
  c.send(`AUTH\t1\tPLAIN\tservice=smtp\trip=192.0.2.50\tsecured\tresp=${b64('\0alice\0nope')}`);
  const t0 = Date.now();
  c.send(`AUTH\t2\tPLAIN\tservice=smtp\trip=192.0.2.99\tsecured\tresp=${b64('\0alice\0alice-pass')}`);
  const first = await c.line();
  assert.equal(first, 'OK\t2\tuser=alice', 'the other address is answered first, without waiting');
  assert.ok(Date.now() - t0 < 250);
  assert.equal(await c.line(), 'FAIL\t1\tuser=alice');
});

test('protocol errors close the connection: AUTH before the handshake, wrong major version, duplicate id, unknown command, overlong line', async (t) => {
  const { where, server } = await setup(t, { limits: { maxLineBytes: 1024 } });
  const cases: Array<[string[], string]> = [
    [[AUTH(1, 'PLAIN')], 'AUTH before handshake'],
    [['VERSION\t2\t0'], 'major version 2'],
    [['CPID\t1'], 'CPID before VERSION'],
    [['VERSION\t1\t1', 'CPID\t1', AUTH(1, 'LOGIN'), AUTH(1, 'LOGIN')], 'duplicate id'],
    [['VERSION\t1\t1', 'CPID\t1', 'HELLO'], 'unknown command'],
    [['VERSION\t1\t1', 'CPID\t1', AUTH(1, 'PLAIN', '\tresp=' + 'A'.repeat(2000))], 'line too long'],
  ];
  for (const [lines, what] of cases) {
    const c = await Client.connect(where[0]);
    c.send(...lines);
    assert.ok(await c.closedWithin(2000), what);
  }
  // A line with no end at all is cut off at the limit, not buffered forever.
  const c = await Client.connect(where[0]);
  c.socket.write('VERSION\t1\t1\nCPID\t1\n' + 'x'.repeat(5000));
  assert.ok(await c.closedWithin(2000), 'unterminated line');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.connectionCount, 0, 'nothing left open');
});

test('limits: requests at once (the oldest waiting one gives way), CONT timeout, handshake timeout, connections', async (t) => {
  const { where, server } = await setup(t, { limits: { maxRequests: 3, contTimeoutMs: 300, handshakeTimeoutMs: 300, maxConnections: 3 } });
  const { c } = await Client.ready(where[0]);
  t.after(() => c.end());
  c.send(AUTH(1, 'LOGIN'), AUTH(2, 'LOGIN'), AUTH(3, 'LOGIN'));
  for (const id of [1, 2, 3]) assert.equal(await c.line(), `CONT\t${id}\t${b64('Username:')}`);
  c.send(AUTH(4, 'PLAIN', `\tresp=${b64('\0alice\0alice-pass')}`));
  assert.equal(await c.line(), 'FAIL\t1\treason=Authentication abandoned', 'the oldest abandoned request makes room');
  assert.equal(await c.line(), 'OK\t4\tuser=alice');
  const timedOut = [await c.line(), await c.line()].sort();
  assert.deepEqual(timedOut, ['FAIL\t2\treason=Authentication timed out', 'FAIL\t3\treason=Authentication timed out']);
  const slow = await Client.connect(where[0]);
  assert.ok(await slow.closedWithin(1500), 'no handshake in time: closed');
  const extra = [await Client.connect(where[0]), await Client.connect(where[0])];
  const over = await Client.connect(where[0]);
  assert.ok(await over.closedWithin(1000), 'past max connections: closed at once');
  extra.forEach((x) => x.end());
  assert.ok(server.connectionCount <= 3);
});

test('a unix socket listener speaks the same protocol and is gone after stop', async (t) => {
  const { where, server } = await setup(t, { specs: (dir) => [`unix:${path.join(dir, 'auth')}`, '127.0.0.1:0'] });
  assert.match(where[0], /^unix:\/.*\/auth$/);
  assert.match(where[1], /^127\.0\.0\.1:\d+$/);
  const { c } = await Client.ready(where[0]);
  c.send(AUTH(1, 'PLAIN', `\tresp=${b64('\0alice\0alice-pass')}`));
  assert.equal(await c.line(), 'OK\t1\tuser=alice');
  await server.stop();
  assert.ok(await c.closedWithin(1000));
  await assert.rejects(fs.lstat(where[0].slice(5)), { code: 'ENOENT' });
});
