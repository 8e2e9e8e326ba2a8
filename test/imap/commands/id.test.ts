// ID (RFC 2971), in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';
import { VERSION } from '../../../src/version.js';

const SERVER_ID = `* ID ("name" "maildir-imapd" "version" "${VERSION}")\r\n`;

test('ID NIL in every state: the server\'s own ID, then OK (RFC 2971 §3.1, §3.2)', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.equal(await pre.run('ID NIL'), `${SERVER_ID}T OK ID completed\r\n`, 'valid before login');
  const c = await h.session();
  assert.equal(await c.run('id nil'), `${SERVER_ID}T OK ID completed\r\n`, 'case-insensitive, selected state');
});

test('ID with the client\'s fields: answered, and logged with NIL values as null (RFC 2971 §3.3)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const out = await c.run('ID ("name" "TestMail" "version" {3+}\r\n1.0 "os" NIL)');
  assert.equal(out, `${SERVER_ID}T OK ID completed\r\n`);
  const logged = h.logs().find((l) => l.msg === 'client id');
  assert.deepEqual({ ...(logged?.client as object) }, { name: 'TestMail', version: '1.0', os: null });
});

test('ID: argument errors are BAD (RFC 2971 §4 grammar; at most 30 field-value pairs, §3.3)', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  for (const bad of ['ID', 'ID NIL NIL', 'ID FOO', 'ID ("name")', 'ID (name "x")', 'ID ("name" ("x"))']) {
    const out = await c.run(bad);
    assert.match(out, /^T BAD /m, bad);
    assert.doesNotMatch(out, /^\* ID/m, bad);
  }
  const pairs = (n: number) => Array.from({ length: n }, (_, i) => `"f${i}" "v"`).join(' ');
  assert.match(await c.run(`ID (${pairs(31)})`), /^T BAD /m);
  assert.match(await c.run(`ID (${pairs(30)})`), /^T OK /m);
});
