// check: what of Postfix still points at Dovecot (issue 10 part 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPostfixWiring, postfixEndpoint, servedBy } from '../../src/check/postfix-wiring.js';

const NONE = { lmtp: [], sasl: [], quotaStatus: [] };
/** main.cf as the ISPmail / hosting-provider guides leave it with Dovecot. */
const DOVECOT_GUIDE = {
  queue_directory: '/var/spool/postfix',
  virtual_transport: 'lmtp:unix:private/dovecot-lmtp',
  smtpd_sasl_auth_enable: 'yes',
  smtpd_sasl_type: 'dovecot',
  smtpd_sasl_path: 'private/auth',
  smtpd_recipient_restrictions: 'reject_unauth_destination, check_policy_service unix:private/quota-status, check_policy_service inet:127.0.0.1:10023',
};

test('endpoints: unix paths relative to the queue directory, inet and bare host:port; our listen specs match them', () => {
  assert.deepEqual(postfixEndpoint('unix:private/dovecot-lmtp', '/var/spool/postfix'), { unix: '/var/spool/postfix/private/dovecot-lmtp' });
  assert.deepEqual(postfixEndpoint('private/auth', '/var/spool/postfix'), { unix: '/var/spool/postfix/private/auth' });
  assert.deepEqual(postfixEndpoint('inet:127.0.0.1:24', '/q'), { host: '127.0.0.1', port: '24' });
  assert.deepEqual(postfixEndpoint('[::1]:24', '/q'), { host: '::1', port: '24' });
  assert.equal(servedBy(postfixEndpoint('inet:127.0.0.1:24', '/q'), ['0.0.0.0:24']), '0.0.0.0:24');
  assert.equal(servedBy(postfixEndpoint('inet:localhost:24', '/q'), ['127.0.0.1:24']), '127.0.0.1:24');
  assert.equal(servedBy(postfixEndpoint('inet:127.0.0.1:25', '/q'), ['127.0.0.1:24']), null);
  assert.equal(servedBy(postfixEndpoint('unix:private/auth', '/var/spool/postfix'), ['unix:/var/spool/postfix/private/auth']), 'unix:/var/spool/postfix/private/auth');
});

test("a Dovecot guide's main.cf with nothing of ours listening: LMTP and SASL are errors with the lines to change, quota-status a warning, postgrey left alone", () => {
  const res = checkPostfixWiring(DOVECOT_GUIDE, NONE, 'postconf', '/etc/maildir-imapd/config.toml');
  const texts = res.problems.map((p) => `${p.severity}: ${p.message} → ${p.fix}`);
  assert.equal(res.problems.filter((p) => p.severity === "error").length, 2, texts.join('\n'));
  assert.match(texts[0], /^error: virtual_transport = lmtp:unix:private\/dovecot-lmtp: .*Dovecot's socket.*incoming mail is deferred → serve LMTP \(in \/etc\/maildir-imapd\/config.toml: \[lmtp\] listen/);
  assert.match(texts[1], /^error: smtpd_sasl_type = dovecot with smtpd_sasl_path = private\/auth.*nobody can send mail/);
  assert.match(texts[2], /^warn: check_policy_service unix:private\/quota-status looks like Dovecot's quota-status/);
  assert.equal(res.problems.length, 3, 'the postgrey service on 10023 is not ours to judge');
});

test('with our listeners where Postfix points, it passes; pointing elsewhere gives the postconf line to fix it', () => {
  const ours = { lmtp: ['unix:/var/spool/postfix/private/dovecot-lmtp'], sasl: ['unix:/var/spool/postfix/private/auth'], quotaStatus: ['unix:/var/spool/postfix/private/quota-status'] };
  const good = checkPostfixWiring(DOVECOT_GUIDE, ours, 'postconf', 'c');
  assert.deepEqual(good.problems, []);
  assert.equal(good.passed.length, 3);
  const moved = checkPostfixWiring(DOVECOT_GUIDE, { lmtp: ['127.0.0.1:24'], sasl: ['unix:/var/spool/postfix/maildir-imapd/auth'], quotaStatus: [] }, 'postconf', 'c');
  const fixes = moved.problems.map((p) => p.fix);
  assert.ok(fixes.includes("postconf -e 'virtual_transport = lmtp:inet:127.0.0.1:24' && postfix reload"), fixes.join('\n'));
  assert.ok(fixes.includes("postconf -e 'smtpd_sasl_path = maildir-imapd/auth' && postfix reload"), fixes.join('\n'));
});

test('virtual(8) delivery and SASL switched off: nothing to say', () => {
  const res = checkPostfixWiring({ virtual_transport: 'virtual', smtpd_sasl_type: 'dovecot', smtpd_sasl_auth_enable: 'no' }, NONE, 'postconf', 'c');
  assert.deepEqual([res.problems, res.passed], [[], []]);
});

test("a unix socket of ours that Postfix's user could not open is an error naming the key to set (root:root 0660 when started as root)", () => {
  const ours = { lmtp: ['unix:/var/spool/postfix/private/dovecot-lmtp'], sasl: ['unix:/var/spool/postfix/private/auth'], quotaStatus: ['unix:/var/spool/postfix/private/quota-status'] };
  const postfix = { name: 'postfix', uid: 101, gids: [102, 8] };
  const root = { owner: { name: 'root', uid: 0 }, group: { name: 'root', gid: 0 }, mode: 0o660 };
  const keys = (p: string, o: string) => ({ owner: `${p}.${o}`, group: `${p}.socket_group`, mode: `${p}.socket_mode` });
  const bad = checkPostfixWiring(DOVECOT_GUIDE, ours, 'postconf', '/etc/maildir-imapd/config.toml', {
    sockets: { lmtp: { ...root, keys: keys('lmtp', 'socket_user') }, sasl: { ...root, keys: keys('sasl', 'socket_owner') }, quotaStatus: { ...root, mode: 0o666, keys: keys('quota_status', 'socket_user') } },
    postfix,
  });
  const texts = bad.problems.map((p) => `${p.severity}: ${p.message} → ${p.fix}`);
  assert.equal(bad.problems.length, 2, texts.join('\n'));
  assert.match(texts[0], /^error: virtual_transport = .*Postfix runs as postfix, but the socket \/var\/spool\/postfix\/private\/dovecot-lmtp will be root:root mode 0660.* → in \/etc\/maildir-imapd\/config.toml: lmtp.socket_user = "postfix"/);
  assert.match(texts[1], /^error: smtpd_sasl_path = private\/auth: .* → .*sasl.socket_owner = "postfix"/);
  assert.equal(bad.passed.length, 1, 'the 0666 policy socket is open to anyone');

  // Owned by postfix, or in one of postfix's groups with g+w: reachable.
  const good = checkPostfixWiring(DOVECOT_GUIDE, ours, 'postconf', 'c', {
    sockets: {
      lmtp: { owner: { name: 'postfix', uid: 101 }, group: { name: 'root', gid: 0 }, mode: 0o600, keys: keys('lmtp', 'socket_user') },
      sasl: { ...root, group: { name: 'mail', gid: 8 }, keys: keys('sasl', 'socket_owner') },
      quotaStatus: { ...root, group: { name: 'mail', gid: 8 }, mode: 0o640, keys: keys('quota_status', 'socket_user') },
    },
    postfix,
  });
  assert.deepEqual(good.problems.map((p) => p.message), [`check_policy_service unix:private/quota-status: Postfix runs as postfix, but the socket /var/spool/postfix/private/quota-status will be root:mail mode 0640, which postfix cannot open`]);
  assert.equal(good.passed.length, 2);
});
