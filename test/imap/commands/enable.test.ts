// ENABLE (RFC 5161) for CONDSTORE and QRESYNC (RFC 7162), in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

test('ENABLE: * ENABLED lists what this command newly enabled; unknown names ignored (RFC 5161 §3.1, §3.2)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  assert.equal(await c.run('ENABLE X-UNKNOWN'), '* ENABLED\r\nT OK ENABLE completed\r\n');
  assert.equal(await c.run('ENABLE condstore X-UNKNOWN'), '* ENABLED CONDSTORE\r\nT OK ENABLE completed\r\n');
  assert.equal(await c.run('ENABLE CONDSTORE'), '* ENABLED\r\nT OK ENABLE completed\r\n', 'already enabled');
  assert.match(await c.run('ENABLE QRESYNC'), /^\* ENABLED QRESYNC\r\nT OK /);
});

test('ENABLE CONDSTORE: a STORE\'s FETCH responses carry MODSEQ from then on (RFC 7162 §3.1)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: m\r\n\r\nbody\r\n');
  const plain = await h.session();
  assert.doesNotMatch(await plain.run('STORE 1 +FLAGS (\\Seen)'), /MODSEQ/);
  const c = await h.session(null);
  await c.run('ENABLE CONDSTORE');
  await c.run('SELECT INBOX');
  const out = await c.run('STORE 1 +FLAGS (\\Flagged)');
  assert.match(out, /^\* 1 FETCH \([^\r]*MODSEQ \(\d+\)/m);
});

test('ENABLE QRESYNC: a STORE\'s FETCH responses carry the UID too (RFC 7162 §3.2.4, RFC 5162 erratum 1807)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: m\r\n\r\nbody\r\n');
  const c = await h.session(null);
  await c.run('ENABLE QRESYNC');
  await c.run('SELECT INBOX');
  assert.match(await c.run('STORE 1 +FLAGS (\\Flagged)'), /^\* 1 FETCH \([^\r]*UID 1\b/m);
});

test('ENABLE QRESYNC implies CONDSTORE (RFC 7162 §3.2.3)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  await c.run('ENABLE QRESYNC');
  assert.equal(await c.run('ENABLE CONDSTORE'), '* ENABLED\r\nT OK ENABLE completed\r\n');
});

test('ENABLE: state and argument errors (RFC 5161 §4: enable = "ENABLE" 1*(SP capability))', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.equal(await pre.run('ENABLE CONDSTORE'), 'T BAD ENABLE is not allowed before login\r\n');
  const c = await h.session(null);
  for (const bad of ['ENABLE', 'ENABLE "CONDSTORE"', 'ENABLE (CONDSTORE)']) {
    const out = await c.run(bad);
    assert.match(out, /^T BAD /m, bad);
    assert.doesNotMatch(out, /ENABLED/, bad);
  }
  assert.equal(await c.run('ENABLE CONDSTORE'), '* ENABLED CONDSTORE\r\nT OK ENABLE completed\r\n', 'the BADs enabled nothing');
});
