// IDLE (RFC 2177), in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

test('IDLE: "+" continuation, new mail pushed while idling, DONE ends it with OK (RFC 2177 §3)', async (t) => {
  const h = await harness(t);
  const c = await h.session();
  c.send('I1 IDLE\r\n');
  assert.match(await c.readUntil('\r\n'), /^\+ [^\r]*\r\n$/);
  await h.deliver('Subject: new\r\n\r\nbody\r\n');
  assert.match(await c.readUntil('* 1 EXISTS\r\n', 10_000), /\* 1 EXISTS\r\n$/, 'pushed before DONE');
  c.send('done\r\n');
  assert.match(await c.readUntil(/I1 [^\r]*\r\n/), /I1 OK [^\r]*\r\n$/);
  assert.match(await c.run('NOOP'), /^T OK /m);
});

test('IDLE: another session\'s EXPUNGE is pushed; allowed in the authenticated state too', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: m\r\n\r\nbody\r\n');
  const c = await h.session();
  const other = await h.session();
  c.send('I1 IDLE\r\n');
  await c.readUntil('\r\n');
  await other.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await other.run('EXPUNGE');
  assert.match(await c.readUntil('* 1 EXPUNGE\r\n'), /\* 1 EXPUNGE\r\n$/);
  c.send('DONE\r\n');
  await c.readUntil(/I1 OK [^\r]*\r\n/);
  const a = await h.session(null);
  a.send('I2 IDLE\r\n');
  assert.match(await a.readUntil('\r\n'), /^\+ /);
  a.send('DONE\r\n');
  assert.match(await a.readUntil(/I2 [^\r]*\r\n/), /I2 OK /);
});

test('IDLE: keepalive untagged OKs while idling (RFC 2177 §3: the server may send them)', async (t) => {
  const h = await harness(t, {}, { idleKeepaliveMs: 30 });
  const c = await h.session();
  c.send('I1 IDLE\r\n');
  await c.readUntil('\r\n');
  assert.match(await c.readUntil('\r\n', 2000), /^\* OK [^\r]*\r\n$/);
  c.send('DONE\r\n');
  assert.match(await c.readUntil(/I1 [^\r]*\r\n/), /I1 OK /);
});

test('IDLE: a command instead of DONE ends the IDLE, then is answered', async (t) => {
  const h = await harness(t);
  const c = await h.session();
  c.send('I1 IDLE\r\n');
  await c.readUntil('\r\n');
  c.send('N1 NOOP\r\n');
  const out = await c.readUntil(/N1 [^\r]*\r\n/);
  assert.match(out, /I1 OK [^\r]*\r\n(.*\r\n)*N1 OK /);
});

test('IDLE: state errors', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.equal(await pre.run('IDLE'), 'T BAD IDLE is not allowed before login\r\n');
});

test('IDLE with an argument is BAD, no continuation (RFC 2177 §4: idle = "IDLE" CRLF "DONE")', async (t) => {
  const h = await harness(t);
  const c = await h.session();
  c.send('I1 IDLE now\r\n');
  assert.match(await c.readUntil('\r\n'), /^I1 BAD /);
});
