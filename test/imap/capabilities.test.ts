// Who may send a password without TLS: the pure policy behind LOGINDISABLED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopback, plaintextAuthAllowed, networkList, inNetworks } from '../../src/imap/capabilities.js';

test('loopback is 127.0.0.0/8 and ::1, in any spelling a socket reports', () => {
  for (const a of ['127.0.0.1', '127.5.5.5', '::1', '::ffff:127.0.0.1', '::ffff:7f05:0505', '0:0:0:0:0:0:0:1']) assert.equal(isLoopback(a), true, a);
  for (const a of ['10.1.2.3', '128.0.0.1', '::ffff:10.1.2.3', 'fe80::1', '::', '192.0.2.2', '', 'localhost', undefined]) assert.equal(isLoopback(a), false, String(a));
});

test('a password may be sent over TLS, from loopback, or anywhere when allow_plaintext says so', () => {
  const networks = networkList(['127.0.0.0/8', '::1/128']);
  const allowed = (address: string, secure: boolean, allowPlaintext: boolean) => plaintextAuthAllowed({ address, secure, allowPlaintext, networks });
  assert.equal(allowed('10.1.2.3', false, false), false);
  assert.equal(allowed('::ffff:10.1.2.3', false, false), false);
  assert.equal(allowed('10.1.2.3', true, false), true);
  assert.equal(allowed('10.1.2.3', false, true), true);
  assert.equal(allowed('::ffff:127.0.0.1', false, false), true);
  assert.equal(allowed('::1', false, false), true);
  assert.equal(allowed('127.5.5.5', false, false), true);
});

test('auth.plaintext_networks: a trusted LAN may send passwords in the clear, loopback need not be trusted', () => {
  const lan = networkList(['192.168.1.0/24', 'fd00::/8']);
  assert.equal(inNetworks('192.168.1.20', lan), true);
  assert.equal(inNetworks('::ffff:192.168.1.20', lan), true);
  assert.equal(inNetworks('fd12::5', lan), true);
  assert.equal(inNetworks('192.168.2.1', lan), false);
  assert.equal(plaintextAuthAllowed({ address: '127.0.0.1', secure: false, allowPlaintext: false, networks: lan }), false);
  assert.equal(plaintextAuthAllowed({ address: '192.168.1.9', secure: false, allowPlaintext: false, networks: lan }), true);
});
