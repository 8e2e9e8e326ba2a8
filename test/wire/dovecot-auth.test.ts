// The Dovecot auth protocol's line format, as Postfix and Dovecot write it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthProtocolError,
  decodeBase64,
  escapeField,
  failLine,
  formatLine,
  okLine,
  contLine,
  parseAuth,
  parseCont,
  parseVersion,
  serverHandshake,
  splitLine,
  unescapeField,
} from '../../src/wire/dovecot-auth.js';

test('\\001 escaping round-trips TAB, LF, CR, NUL and \\001 itself; unknown escapes stand for the character', () => {
  const nasty = 'a\tb\nc\rd\0e\x01f';
  assert.equal(escapeField(nasty), 'a\x01tb\x01nc\x01rd\x010e\x011f');
  assert.equal(unescapeField(escapeField(nasty)), nasty);
  assert.equal(unescapeField('x\x01ly'), 'x\ny', 'the documented \\001l for LF is read too');
  assert.equal(unescapeField('x\x01zy'), 'xzy');
  assert.equal(unescapeField('plain'), 'plain');
  assert.equal(formatLine('OK', '7', 'user=t\tab'), 'OK\t7\tuser=t\x01tab\n', 'a field never breaks the line');
  assert.deepEqual(splitLine('AUTH\t1\tPLAIN\tservice=sm\x01ttp'), { command: 'AUTH', args: ['1', 'PLAIN', 'service=sm\ttp'] });
});

test('AUTH as Postfix sends it: mechanism case-insensitive, booleans, resp last, resp= empty vs absent', () => {
  const { args } = splitLine('AUTH\t3\tplain\tservice=smtp\tnologin\tlip=127.0.0.1\trip=203.0.113.9\tsecured\tresp=AGJvYgBwdw==');
  const r = parseAuth(args);
  assert.equal(r.id, '3');
  assert.equal(r.mechanism, 'PLAIN');
  assert.equal(r.params.get('service'), 'smtp');
  assert.equal(r.params.get('rip'), '203.0.113.9');
  assert.equal(r.params.get('secured'), '');
  assert.ok(r.params.has('nologin'));
  assert.equal(r.initialResponse, 'AGJvYgBwdw==');
  assert.equal(parseAuth(['4', 'LOGIN', 'service=smtp']).initialResponse, null, 'no resp: no initial response');
  assert.equal(parseAuth(['5', 'LOGIN', 'service=smtp', 'resp=']).initialResponse, '', 'resp=: an empty one');
  const after = parseAuth(['6', 'PLAIN', 'service=smtp', 'resp=AA==', 'secured', 'rip=192.0.2.1']);
  assert.ok(!after.params.has('secured') && !after.params.has('rip'), 'whatever follows resp is not a parameter');
});

test('malformed requests are protocol errors that say what is wrong', () => {
  assert.throws(() => parseAuth([]), AuthProtocolError);
  assert.throws(() => parseAuth(['x', 'PLAIN']), /numeric request id/);
  assert.throws(() => parseAuth(['0', 'PLAIN']), /numeric request id/);
  assert.throws(() => parseAuth(['99999999999', 'PLAIN']), /numeric request id/);
  assert.throws(() => parseAuth(['1']), /mechanism/);
  assert.deepEqual(parseCont(['2', '']), { id: '2', data: '' }, 'the data field may be empty');
  assert.throws(() => parseCont(['2']), /data field/, 'but it must be there');
  assert.deepEqual(parseVersion(['1', '2']), { major: 1, minor: 2 });
  assert.throws(() => parseVersion(['1']), /major and a minor/);
});

test('base64 is checked strictly; "=" is the empty response', () => {
  assert.equal(decodeBase64('AGJvYgBwdw==')?.toString('latin1'), '\0bob\0pw');
  assert.equal(decodeBase64('')?.length, 0);
  assert.equal(decodeBase64('=')?.length, 0);
  for (const bad of ['AGJvYgBwdw=', 'A', 'ab!d', 'YWJj\x01', 'YW Jj']) assert.equal(decodeBase64(bad), null, bad);
});

test('server lines: the handshake sends MECH before SPID and ends in DONE; OK/FAIL/CONT fields', () => {
  const hs = serverHandshake({ mechanisms: [{ name: 'PLAIN', flags: ['plaintext'] }, { name: 'LOGIN', flags: ['plaintext'] }], spid: 42, cuid: 7, cookie: 'ab'.repeat(16) });
  assert.equal(hs, `VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\nSPID\t42\nCUID\t7\nCOOKIE\t${'ab'.repeat(16)}\nDONE\n`);
  assert.equal(okLine('3', 'bob@example.org'), 'OK\t3\tuser=bob@example.org\n');
  assert.equal(failLine('3'), 'FAIL\t3\n');
  assert.equal(failLine('3', { user: 'bob', reason: 'No\tway', temp: true }), 'FAIL\t3\tuser=bob\treason=No\x01tway\ttemp\n');
  assert.equal(contLine('9', ''), 'CONT\t9\t\n', 'an empty challenge still has its field');
  assert.equal(contLine('9', 'Username:'), 'CONT\t9\tVXNlcm5hbWU6\n');
});
