// CAPABILITY (RFC 3501 §6.1.1, §7.2.1), in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

/** The atoms of the one untagged CAPABILITY line in `out`. */
function caps(out: string): string[] {
  const lines = out.split('\r\n').filter((l) => l.startsWith('* CAPABILITY '));
  assert.equal(lines.length, 1, `one CAPABILITY line in ${JSON.stringify(out)}`);
  return lines[0].slice('* CAPABILITY '.length).split(' ');
}

test('CAPABILITY before login (§6.1.1): IMAP4rev1 first, the SASL mechanisms, no post-login extensions', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  const out = await c.run('CAPABILITY');
  assert.match(out, /^T OK CAPABILITY completed\r\n$/m);
  const list = caps(out);
  assert.equal(list[0], 'IMAP4rev1', 'RFC 3501 §7.2.1: the list starts with IMAP4rev1');
  for (const cap of ['SASL-IR', 'AUTH=PLAIN', 'AUTH=LOGIN', 'IDLE']) assert.ok(list.includes(cap), cap);
  assert.ok(!list.includes('LOGINDISABLED'), 'loopback may send a password');
  assert.ok(!list.includes('UIDPLUS') && !list.includes('MOVE'));
});

test('CAPABILITY after login: the session extensions, the same list as LOGIN\'s [CAPABILITY] code (§6.2.3)', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  const ok = await c.run('LOGIN bob bob-pass');
  const code = /^T OK \[CAPABILITY ([^\]]+)\]/m.exec(ok);
  assert.ok(code, ok);
  const list = caps(await c.run('CAPABILITY'));
  assert.deepEqual(list, code[1].split(' '));
  for (const cap of ['IMAP4rev1', 'UIDPLUS', 'MOVE', 'NAMESPACE', 'ID', 'ENABLE', 'CONDSTORE', 'QRESYNC', 'UNSELECT'])
    assert.ok(list.includes(cap), cap);
  assert.ok(list.some((x) => /^APPENDLIMIT=\d+$/.test(x)), 'RFC 7889 APPENDLIMIT=n');
  await c.run('SELECT INBOX');
  assert.deepEqual(caps(await c.run('CAPABILITY')), list, 'the same in the selected state');
});

test('CAPABILITY where passwords may not be sent: LOGINDISABLED and no AUTH= (RFC 3501 §6.2.3, §7.2.1)', async (t) => {
  const h = await harness(t, { plaintextNetworks: [] });
  const c = await h.connect();
  const list = caps(await c.run('CAPABILITY'));
  assert.ok(list.includes('LOGINDISABLED'));
  assert.ok(!list.some((x) => x.startsWith('AUTH=')));
});

test('CAPABILITY with an argument is BAD (RFC 3501 §9: capability = "CAPABILITY")', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  assert.match(await c.run('CAPABILITY extra'), /^T BAD /m);
});
