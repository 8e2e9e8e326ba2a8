// LMTP's pure parts: command lines (RFC 2033 / RFC 5321 syntax, the
// parameters we take), the DATA decoder (dot-unstuffing, the end marker,
// split at every possible chunk boundary), and the recipient lookup with
// +detail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, decodeXtext, formatReply, SmtpReplyError } from '../../src/lmtp/command.js';
import { DotDecoder } from '../../src/lmtp/data.js';
import { resolveRecipient } from '../../src/lmtp/recipient.js';

const rejects = (line: string, code: number, enhanced?: string) =>
  assert.throws(
    () => parseCommand(line),
    (e: unknown) => e instanceof SmtpReplyError && e.code === code && (!enhanced || e.enhanced === enhanced),
    line,
  );

test('commands: verbs in any case, LHLO, MAIL/RCPT paths and parameters', () => {
  assert.deepEqual(parseCommand('lhlo mx.example.org'), { verb: 'LHLO', domain: 'mx.example.org' });
  assert.deepEqual(parseCommand('MAIL FROM:<carol@example.org>'), { verb: 'MAIL', address: 'carol@example.org', params: { size: null, smtputf8: false } });
  assert.deepEqual(parseCommand('MAIL FROM:<> SIZE=1234 BODY=8BITMIME'), { verb: 'MAIL', address: '', params: { size: 1234, smtputf8: false } });
  assert.deepEqual(parseCommand('mail from: <jöran@exämple.org> SMTPUTF8'), { verb: 'MAIL', address: 'jöran@exämple.org', params: { size: null, smtputf8: true } });
  assert.deepEqual(parseCommand('MAIL FROM:<@relay.example,@b.example:carol@example.org>').verb, 'MAIL');
  assert.equal((parseCommand('MAIL FROM:<@relay.example,@b.example:carol@example.org>') as { address: string }).address, 'carol@example.org');
  assert.deepEqual(parseCommand('RCPT TO:<bob+lists@example.org>'), { verb: 'RCPT', address: 'bob+lists@example.org', originalTo: null });
  assert.deepEqual(parseCommand('RCPT TO:<"bob smith"@example.org>'), { verb: 'RCPT', address: '"bob smith"@example.org', originalTo: null });
  assert.deepEqual(parseCommand('RCPT TO:<bob@example.org> ORCPT=rfc822;robert+2Bx@example.org'), { verb: 'RCPT', address: 'bob@example.org', originalTo: 'robert+x@example.org' });
  // An ORCPT of another type, or one that could not go into a header, is left out, not refused.
  assert.equal((parseCommand('RCPT TO:<bob@example.org> ORCPT=x400;abc') as { originalTo: string | null }).originalTo, null);
  assert.equal((parseCommand('RCPT TO:<bob@example.org> ORCPT=rfc822;a+0Ab@c') as { originalTo: string | null }).originalTo, null);
  assert.deepEqual(parseCommand('RCPT TO:<postmaster>'), { verb: 'RCPT', address: 'postmaster', originalTo: null });
  for (const v of ['DATA', 'rset', 'Noop', 'QUIT', 'HELP']) assert.equal(parseCommand(v).verb, v.toUpperCase());
  assert.equal(parseCommand('NOOP whatever').verb, 'NOOP');
  assert.equal(parseCommand('EHLO x').verb, 'EHLO');
});

test('commands: what is refused, with the reply code a client acts on', () => {
  rejects('LHLO', 501);
  rejects('MAIL TO:<a@b>', 501);
  rejects('MAIL FROM:a@b', 501);
  rejects('MAIL FROM:<a@b', 501);
  rejects('MAIL FROM:<a@b>SIZE=1', 501);
  rejects('MAIL FROM:<a@b> SIZE=big', 501);
  rejects('MAIL FROM:<a@b> BODY=BINARYMIME', 555, '5.5.4');
  rejects('MAIL FROM:<a@b> AUTH=<>', 555, '5.5.4');
  rejects('RCPT TO:<>', 501, '5.1.3');
  rejects('RCPT TO:<a b@c>', 501, '5.1.3');
  rejects('RCPT TO:<a@b> NOTIFY=NEVER', 555, '5.5.4');
  rejects('RCPT TO:<a@b> ORCPT=rfc822', 501);
  rejects('RCPT TO:<@b>', 501, '5.1.3');
  rejects('RCPT TO:<a@>', 501, '5.1.3');
  rejects(`RCPT TO:<${'a'.repeat(250)}@example.org>`, 501, '5.1.3');
  rejects('DATA now', 501);
  rejects('BDAT 100 LAST', 500, '5.5.2');
  rejects('STARTTLS', 500);
  rejects('RCPT TO:<a@b>\tX', 500, '5.5.2');
  rejects('MAIL FROM:<a\x00@b>', 500);
});

test('xtext and replies', () => {
  assert.equal(decodeXtext('a+2Bb+3Dc'), 'a+b=c');
  assert.equal(decodeXtext('jöran@x'), 'jöran@x');
  assert.equal(decodeXtext('+C3+B6@x'), 'ö@x');
  assert.throws(() => decodeXtext('a+2b'));
  assert.throws(() => decodeXtext('a=b'));
  assert.equal(formatReply(250, ['host', 'PIPELINING', 'SIZE 10']), '250-host\r\n250-PIPELINING\r\n250 SIZE 10\r\n');
  assert.equal(formatReply(221, ['Bye']), '221 Bye\r\n');
});

/** Dot-stuffs a message (CRLF lines) and adds the end marker, as a client sends it. */
function stuffed(message: string): string {
  return message.replace(/(^|\r\n)\./g, '$1..') + '.\r\n';
}

function decodeIn(chunks: Buffer[]): { body: string; consumed: number[]; done: boolean } {
  const d = new DotDecoder();
  const out: Buffer[] = [];
  const consumed: number[] = [];
  for (const c of chunks) {
    if (d.done) break;
    consumed.push(d.push(c, (b) => out.push(Buffer.from(b))));
  }
  return { body: Buffer.concat(out).toString('latin1'), consumed, done: d.done };
}

test('DATA: dots unstuffed, the end marker found, pipelined bytes after it left alone — at every chunk boundary', () => {
  const messages = [
    'Subject: x\r\n\r\nbody\r\n',
    '.starts with a dot\r\n..two dots\r\n.\r\nnot the end (stuffed)\r\n',
    'bare\nLF\n.\nis data\r\n.x\r\n',
    'bare CR\r.\r\nstill\r\n\r\n',
    '',
    '.\r.\r\n',
  ];
  for (const message of messages) {
    const wire = Buffer.from(stuffed(message) + 'QUIT\r\n', 'latin1');
    const endAt = wire.length - 'QUIT\r\n'.length;
    for (let a = 0; a <= wire.length; a++) {
      for (let b = a; b <= wire.length; b += Math.max(1, Math.floor(wire.length / 7))) {
        const chunks = [wire.subarray(0, a), wire.subarray(a, b), wire.subarray(b)];
        const { body, consumed, done } = decodeIn(chunks);
        assert.ok(done, `end found (${JSON.stringify(message)} split ${a}/${b})`);
        assert.equal(body, message, `body (${JSON.stringify(message)} split ${a}/${b})`);
        // Consumed bytes add up to exactly the data and its end marker.
        const total = consumed.slice(0, -1).reduce((s, n, i) => s + (n === chunks[i].length ? n : NaN), 0) + consumed[consumed.length - 1];
        assert.equal(total, endAt, `consumed (${JSON.stringify(message)} split ${a}/${b})`);
      }
    }
  }
});

test('DATA: only CRLF.CRLF ends the message (no SMTP smuggling with bare LF or CR)', () => {
  for (const fake of ['a\n.\nb', 'a\r.\rb', 'a\n.\r\nb', 'a\r.\nb']) {
    const { done, body } = decodeIn([Buffer.from(fake + '\r\n.\r\n')]);
    assert.ok(done);
    assert.equal(body, fake + '\r\n', JSON.stringify(fake));
  }
  const { done } = decodeIn([Buffer.from('line\r\n.\n')]);
  assert.ok(!done, '".\\n" is not the end');
});

test('recipients: whole address or bare local part, +detail into a folder name, the delimiter set', () => {
  const users = new Map([['bob', { name: 'bob' }], ['alice@example.org', { name: 'alice@example.org' }], ['a+b@example.org', { name: 'a+b@example.org' }]]);
  const lookup = (login: string) => users.get(login) ?? users.get(login.toLowerCase());
  const r = (addr: string, delim = '+') => {
    const found = resolveRecipient(addr, lookup, delim);
    return found && [found.user.name, found.detailFolder];
  };
  assert.deepEqual(r('bob@localdomain'), ['bob', null]);
  assert.deepEqual(r('Bob@LocalDomain'), ['bob', null]);
  assert.deepEqual(r('bob'), ['bob', null]);
  assert.deepEqual(r('alice@example.org'), ['alice@example.org', null]);
  assert.deepEqual(r('ALICE@Example.ORG'), ['alice@example.org', null]);
  assert.equal(r('alice@other.example'), null, 'a user named with a domain is not found by local part');
  assert.equal(r('alice'), null);
  assert.deepEqual(r('bob+Lists@localdomain'), ['bob', 'Lists']);
  assert.deepEqual(r('bob+Lists.Node@localdomain'), ['bob', 'Lists.Node']);
  assert.deepEqual(r('alice+Entwürfe@example.org'), ['alice@example.org', 'Entw&APw-rfe']);
  assert.deepEqual(r('alice+@example.org'), ['alice@example.org', null]);
  assert.deepEqual(r('a+b@example.org'), ['a+b@example.org', null], 'a user whose name has the delimiter');
  assert.equal(r('bob+x@localdomain', ''), null, 'no delimiter: no detail');
  assert.deepEqual(r('bob-x@localdomain', '+-'), ['bob', 'x']);
  assert.deepEqual(r('bob-x+y@localdomain', '+-'), ['bob', 'x+y'], 'the first delimiter character cuts');
  assert.equal(r('+bob@localdomain'), null);
  assert.equal(r('carol@localdomain'), null);
});
