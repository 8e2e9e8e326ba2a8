// The LMTP service on a real socket, delivering into the in-memory store:
// pipelined transactions, one reply per recipient after DATA, unknown users,
// +detail, the limits (size, recipients, line length, errors, idle time), a
// store failure for one recipient of several, and the push an idling
// session hears before the client hears 250.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pino from 'pino';
import { LmtpService } from '../../src/lmtp/server.js';
import type { LmtpLimits } from '../../src/lmtp/session.js';
import { MailError, type MailUser } from '../../src/mail/api.js';
import { MemoryMail, MemoryUser, MemoryMailbox } from '../support/memory-store.js';
import { MailboxView } from '../../src/imap/tracker.js';

const SPECIAL = { '\\Drafts': 'Drafts', '\\Sent': 'Sent', '\\Trash': 'Trash', '\\Junk': 'Junk', '\\Archive': 'Archive' } as const;

interface Setup {
  port: number;
  mail: MemoryMail;
  user(name: string): MemoryUser;
  service: LmtpService<{ name: string }>;
}

async function setup(t: test.TestContext, limits: Partial<LmtpLimits> = {}, opts: { delimiter?: string; ready?: boolean; storeFor?: (u: { name: string }) => MailUser } = {}): Promise<Setup> {
  const mail = new MemoryMail({ specialUse: SPECIAL, createSpecialFolders: false });
  const users = new Map(['bob', 'alice', 'broken'].map((n) => [n, { name: n }]));
  const service = new LmtpService<{ name: string }>({
    log: pino({ level: 'silent' }),
    users: { lookup: (login) => users.get(login) ?? users.get(login.toLowerCase()) },
    storeFor:
      opts.storeFor ??
      ((u) => {
        if (u.name === 'broken') throw new Error('the Maildir template needs a home this user lacks');
        return mail.userStore(u.name);
      }),
    recipientDelimiter: opts.delimiter ?? '+',
    socket: { user: null, group: null, mode: 0o660 },
    limits,
    hostname: 'lmtp.test',
  });
  const l = await service.listen('127.0.0.1:0');
  if (opts.ready !== false) service.open();
  t.after(() => service.close(100));
  return { port: (l.address as net.AddressInfo).port, mail, user: (n) => mail.userStore(n), service };
}

/** A raw LMTP client: send text, collect complete replies (the lines up to one with "NNN "). */
class Client {
  private buf = '';
  private replies: string[][] = [];
  private current: string[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  readonly socket: net.Socket;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\r\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 2);
        this.current.push(line);
        if (/^\d{3} /.test(line)) {
          this.replies.push(this.current);
          this.current = [];
        }
      }
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** The next `n` replies (each as its final line; multi-line ones joined with \n). */
  async read(n = 1, ms = 5000): Promise<string[]> {
    const until = Date.now() + ms;
    while (this.replies.length < n) {
      if (this.closed) throw new Error(`connection closed; got ${JSON.stringify(this.replies)}`);
      if (Date.now() > until) throw new Error(`timed out; got ${JSON.stringify(this.replies)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.replies.splice(0, n).map((lines) => lines.join('\n'));
  }

  async closedWithin(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }
}

async function connect(t: test.TestContext, port: number): Promise<Client> {
  const c = new Client(port);
  t.after(() => c.socket.destroy());
  assert.match((await c.read())[0], /^220 lmtp\.test /);
  return c;
}

const MSG = 'From: carol@example.org\r\nSubject: hi\r\n\r\nHello\r\n..dot\r\n';
const text = (box: MemoryMailbox, uid: number) => box.contentOf(box.byUid(uid)!).data.toString();

test('a pipelined transaction: one reply per command, then one per accepted recipient after DATA, in RCPT order', async (t) => {
  const s = await setup(t);
  const c = await connect(t, s.port);
  c.send('LHLO mx.test\r\n');
  const [lhlo] = await c.read();
  assert.deepEqual(lhlo.split('\n'), ['250-lmtp.test', '250-PIPELINING', '250-ENHANCEDSTATUSCODES', '250-8BITMIME', '250-SMTPUTF8', `250 SIZE ${50 * 1024 * 1024}`]);
  // As Postfix pipelines: MAIL, every RCPT and DATA in one write, then the message once 354 is in.
  c.send('MAIL FROM:<carol@example.org> SIZE=100\r\nRCPT TO:<bob@localdomain>\r\nRCPT TO:<ghost@localdomain>\r\nRCPT TO:<alice@localdomain> ORCPT=rfc822;al@localdomain\r\nDATA\r\n');
  assert.deepEqual(await c.read(5), [
    '250 2.1.0 Ok',
    '250 2.1.5 Ok',
    "550 5.1.1 <ghost@localdomain> User doesn't exist",
    '250 2.1.5 Ok',
    '354 Start mail input; end with <CRLF>.<CRLF>',
  ]);
  c.send(MSG + '.\r\nQUIT\r\n');
  assert.deepEqual(await c.read(3), ['250 2.0.0 <bob@localdomain> Saved', '250 2.0.0 <alice@localdomain> Saved', '221 2.0.0 lmtp.test Bye']);
  assert.ok(await c.closedWithin(1000));
  const bob = s.user('bob').boxes.get('INBOX')!;
  const alice = s.user('alice').boxes.get('INBOX')!;
  assert.equal(text(bob, 1), 'Return-Path: <carol@example.org>\r\nDelivered-To: bob@localdomain\r\nFrom: carol@example.org\r\nSubject: hi\r\n\r\nHello\r\n.dot\r\n');
  assert.equal(text(alice, 1), 'Return-Path: <carol@example.org>\r\nX-Original-To: al@localdomain\r\nDelivered-To: alice@localdomain\r\nFrom: carol@example.org\r\nSubject: hi\r\n\r\nHello\r\n.dot\r\n');
  assert.equal(s.user('bob').spools.length, 1, 'one spool for the message, whatever the recipients');
  assert.ok(s.user('bob').spools[0].discarded, 'and it is dropped at the end');
});

test('several transactions on one connection; RSET forgets the envelope; the same recipient twice gets one copy and two replies', async (t) => {
  const s = await setup(t);
  const c = await connect(t, s.port);
  c.send('LHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<bob@d>\r\nRSET\r\nDATA\r\n');
  assert.deepEqual(await c.read(5), ['250-lmtp.test\n250-PIPELINING\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-SMTPUTF8\n250 SIZE 52428800', '250 2.1.0 Ok', '250 2.1.5 Ok', '250 2.0.0 Ok', '503 5.5.1 MAIL first']);
  for (let i = 1; i <= 3; i++) {
    c.send(`MAIL FROM:<>\r\nRCPT TO:<bob@d>\r\nRCPT TO:<BOB@d>\r\nDATA\r\nSubject: ${i}\r\n\r\n.\r\n`);
    assert.deepEqual(await c.read(6), ['250 2.1.0 Ok', '250 2.1.5 Ok', '250 2.1.5 Ok', '354 Start mail input; end with <CRLF>.<CRLF>', '250 2.0.0 <bob@d> Saved', '250 2.0.0 <BOB@d> Saved']);
  }
  const bob = s.user('bob').boxes.get('INBOX')!;
  assert.equal(bob.count, 3);
  assert.match(text(bob, 3), /^Return-Path: <>\r\nDelivered-To: bob@d\r\nSubject: 3\r\n\r\n$/);
});

test('+detail: into the folder when it exists, else INBOX; a user named with the delimiter is that user', async (t) => {
  const s = await setup(t);
  await s.user('bob').create('Lists');
  const c = await connect(t, s.port);
  c.send('LHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<bob+Lists@d>\r\nRCPT TO:<bob+nope@d>\r\nRCPT TO:<bob+@d>\r\nDATA\r\n');
  await c.read(6);
  c.send(MSG + '.\r\n');
  assert.deepEqual(await c.read(3), ['250 2.0.0 <bob+Lists@d> Saved', '250 2.0.0 <bob+nope@d> Saved', '250 2.0.0 <bob+@d> Saved']);
  assert.equal(s.user('bob').boxes.get('Lists')!.count, 1);
  assert.match(text(s.user('bob').boxes.get('Lists')!, 1), /\r\nDelivered-To: bob\+Lists@d\r\n/);
  assert.equal(s.user('bob').boxes.get('INBOX')!.count, 2);
});

test('an idling session hears EXISTS and RECENT before the client hears 250', async (t) => {
  const s = await setup(t);
  const inbox = (await s.user('bob').mailbox('INBOX'))!;
  const view = await MailboxView.open(inbox, false);
  let heardAt = 0;
  view.onChange = () => (heardAt ||= performance.now());
  const c = await connect(t, s.port);
  c.send('LHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<bob@d>\r\nDATA\r\n');
  await c.read(4);
  c.send(MSG + '.\r\n');
  await c.read(1);
  const repliedAt = performance.now();
  assert.ok(heardAt > 0 && heardAt <= repliedAt, 'the session heard of it first');
  assert.deepEqual(view.flush(true), [{ kind: 'exists', count: 1 }, { kind: 'recent', count: 1 }]);
});

test('sequence and syntax errors: LHLO first, no HELO/EHLO, no nested MAIL, DATA needs a recipient', async (t) => {
  const s = await setup(t);
  const c = await connect(t, s.port);
  c.send('MAIL FROM:<a@x>\r\nEHLO x\r\nHELO x\r\nLHLO x\r\nRCPT TO:<bob@d>\r\nMAIL FROM:<a@x>\r\nMAIL FROM:<a@x>\r\nDATA\r\nRCPT TO:<ghost@d>\r\nDATA\r\nFOO\r\nNOOP\r\nVRFY bob\r\n');
  const r = await c.read(13);
  assert.deepEqual(
    r.map((x) => x.split('\n').pop()!.slice(0, 9)),
    ['503 5.5.1', '500 5.5.1', '500 5.5.1', '250 SIZE ', '503 5.5.1', '250 2.1.0', '503 5.5.1', '503 5.5.1', '550 5.1.1', '503 5.5.1', '500 5.5.2', '250 2.0.0', '252 2.5.0'],
  );
  assert.equal(s.user('bob').spools.length, 0, 'no spool for a DATA that was refused');
});

test('a message over the size limit: read to the end, kept nowhere, 552 for each recipient; the connection goes on', async (t) => {
  const s = await setup(t, { maxMessageBytes: 1000 });
  const c = await connect(t, s.port);
  c.send('LHLO x\r\nMAIL FROM:<a@x> SIZE=1001\r\nMAIL FROM:<a@x> SIZE=1000\r\nRCPT TO:<bob@d>\r\nRCPT TO:<alice@d>\r\nDATA\r\n');
  const r = await c.read(6);
  assert.match(r[1], /^552 5\.3\.4 Message too big/);
  c.send('Subject: big\r\n\r\n' + 'x'.repeat(78) + '\r\n'.repeat(1) + ('y'.repeat(98) + '\r\n').repeat(20) + '.\r\n');
  assert.deepEqual(await c.read(2), ['552 5.3.4 <bob@d> Message too big (at most 1000 bytes)', '552 5.3.4 <alice@d> Message too big (at most 1000 bytes)']);
  assert.equal(s.user('bob').boxes.get('INBOX')!.count, 0);
  assert.ok(s.user('bob').spools[0].discarded);
  c.send('MAIL FROM:<a@x>\r\nRCPT TO:<bob@d>\r\nDATA\r\n' + MSG + '.\r\n');
  assert.deepEqual((await c.read(4)).slice(3), ['250 2.0.0 <bob@d> Saved']);
});

test('recipients per message are bounded: the rest get 452 (the client sends them in the next transaction)', async (t) => {
  const s = await setup(t, { maxRecipients: 2 });
  const c = await connect(t, s.port);
  c.send('LHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<bob@d>\r\nRCPT TO:<alice@d>\r\nRCPT TO:<bob+x@d>\r\n');
  const r = await c.read(5);
  assert.equal(r[4], '452 4.5.3 Too many recipients (at most 2 per message)');
});

test('one recipient failing (disk full, a bug, quota) gets its own reply; the others are delivered', async (t) => {
  const s = await setup(t);
  const alice = s.user('alice');
  const bob = s.user('bob');
  const c = await connect(t, s.port);
  const failures: Array<[unknown, string]> = [
    [new MailError('temporary', 'Mail system full (out of disk space)'), '451 4.3.0 <alice@d> Mail system full (out of disk space); try again later'],
    [new TypeError('a bug'), '451 4.3.0 <alice@d> Internal error; try again later'],
    [new MailError('quota', 'over quota'), '552 5.2.2 <alice@d> Mailbox full'],
  ];
  c.send('LHLO x\r\n');
  await c.read();
  for (const [err, expected] of failures) {
    const orig = alice.deliver;
    alice.deliver = async () => {
      throw err;
    };
    c.send('MAIL FROM:<a@x>\r\nRCPT TO:<alice@d>\r\nRCPT TO:<bob@d>\r\nDATA\r\n' + MSG + '.\r\n');
    const r = await c.read(6);
    alice.deliver = orig;
    assert.deepEqual(r.slice(4), [expected, '250 2.0.0 <bob@d> Saved']);
  }
  assert.equal(bob.boxes.get('INBOX')!.count, 3);
  assert.equal(alice.boxes.get('INBOX')!.count, 0);
});

test('a recipient whose mail location cannot be worked out is deferred (451), never bounced', async (t) => {
  const s = await setup(t);
  const c = await connect(t, s.port);
  c.send('LHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<broken@d>\r\n');
  assert.equal((await c.read(3))[2], '451 4.3.5 <broken@d> Server configuration error; try again later');
});

test('no spool anywhere: DATA is refused with 451 before the message is sent', async (t) => {
  const s = await setup(t);
  const bob = s.user('bob');
  bob.openSpool = () => {
    throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
  };
  const c = await connect(t, s.port);
  c.send('LHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<bob@d>\r\nDATA\r\n');
  assert.equal((await c.read(4))[3], '451 4.3.0 Cannot store the message now; try again later');
  c.send('NOOP\r\n');
  assert.deepEqual(await c.read(1), ['250 2.0.0 Ok']);
});

test('limits: an overlong line is refused and skipped; too many errors close the connection; silence times out', async (t) => {
  const s = await setup(t, { maxLineBytes: 100, maxErrors: 3, idleTimeoutMs: 300 });
  const c = await connect(t, s.port);
  c.send('NOOP ' + 'x'.repeat(150));
  c.send('x'.repeat(150) + '\r\nNOOP\r\n');
  assert.deepEqual(await c.read(2), ['500 5.5.2 Line too long', '250 2.0.0 Ok']);
  c.send('FOO\r\nBAR\r\n');
  assert.deepEqual(await c.read(3), ['500 5.5.2 Command not recognized', '500 5.5.2 Command not recognized', '421 4.7.0 lmtp.test Too many errors, closing connection']);
  assert.ok(await c.closedWithin(1000));
  const idle = await connect(t, s.port);
  const started = Date.now();
  assert.deepEqual(await idle.read(1, 3000), ['421 4.4.2 lmtp.test Timeout, closing connection']);
  assert.ok(Date.now() - started >= 250);
  assert.ok(await idle.closedWithin(1000));
});

test('before the users are loaded, a client is told to come back (421), not refused', async (t) => {
  const s = await setup(t, {}, { ready: false });
  const c = new Client(s.port);
  t.after(() => c.socket.destroy());
  assert.deepEqual(await c.read(), ['421 4.3.2 lmtp.test Service starting, try again']);
  assert.ok(await c.closedWithin(1000));
});

test('shutdown: an idle session hears 421; one in the middle of DATA is answered first', async (t) => {
  const s = await setup(t);
  const idle = await connect(t, s.port);
  const busy = await connect(t, s.port);
  busy.send('LHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<bob@d>\r\nDATA\r\nSubject: half\r\n');
  await busy.read(4);
  const closing = s.service.close(3000);
  assert.deepEqual(await idle.read(), ['421 4.3.2 lmtp.test Shutting down']);
  busy.send('\r\nrest\r\n.\r\n');
  assert.deepEqual(await busy.read(2), ['250 2.0.0 <bob@d> Saved', '421 4.3.2 lmtp.test Shutting down']);
  await closing;
  assert.equal(s.user('bob').boxes.get('INBOX')!.count, 1);
});
