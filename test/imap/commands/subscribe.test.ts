// SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6, §6.3.7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, failWith, errnoError } from '../../support/command-harness.js';
import { MemoryUser } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

test('SUBSCRIBE/UNSUBSCRIBE: state and argument errors', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('SUBSCRIBE INBOX'), /^T BAD SUBSCRIBE is not allowed before login/m);
  assert.match(await pre.run('UNSUBSCRIBE INBOX'), /^T BAD UNSUBSCRIBE is not allowed before login/m);
  const c = await h.session(null);
  for (const cmd of ['SUBSCRIBE', 'UNSUBSCRIBE']) {
    assert.match(await c.run(cmd), /^T BAD /m, `${cmd} without a name`);
    assert.match(await c.run(`${cmd} a b`), /^T BAD /m, `${cmd} with two names`);
    assert.match(await c.run(`${cmd} (a)`), /^T BAD /m, `${cmd} with a list`);
  }
});

test('SUBSCRIBE adds the name to LSUB, UNSUBSCRIBE removes it (RFC 3501 §6.3.6, §6.3.7)', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Work');
  const c = await h.session(null);
  assert.equal(await c.run('SUBSCRIBE Work'), 'T OK SUBSCRIBE completed\r\n');
  assert.match(await c.run('LSUB "" Work'), /^\* LSUB \(\) "\." Work\r$/m);
  assert.match(await c.run('LIST (SUBSCRIBED) "" Work'), /^\* LIST \(\\Subscribed\) "\." Work\r$/m);
  assert.equal(await c.run('UNSUBSCRIBE Work'), 'T OK UNSUBSCRIBE completed\r\n');
  assert.equal(await c.run('LSUB "" Work'), 'T OK LSUB completed\r\n');
  assert.match(await c.run('SUBSCRIBE Nope'), /^T NO \[NONEXISTENT\] /m, 'the server may refuse a name that does not exist');
});

test('a subscription outlives its folder until UNSUBSCRIBE (RFC 3501 §6.3.6: the server MUST NOT remove it)', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Work');
  const c = await h.session(null);
  await c.run('SUBSCRIBE Work');
  await c.run('DELETE Work');
  assert.match(await c.run('LSUB "" *'), /^\* LSUB \(\) "\." Work\r$/m);
  assert.equal(await c.run('UNSUBSCRIBE Work'), 'T OK UNSUBSCRIBE completed\r\n');
  assert.doesNotMatch(await c.run('LSUB "" *'), /Work/);
});

test('SUBSCRIBE: a store failure is the NO of its kind, an unexpected one NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  failWith(t, MemoryUser.prototype, 'subscribe', errnoError('EACCES', 'EACCES: permission denied, open'));
  assert.match(await c.run('SUBSCRIBE INBOX'), /^T NO \[NOPERM\] /m);
  failWith(t, MemoryUser.prototype, 'subscribe', new MailError('temporary', 'Subscriptions locked'));
  assert.match(await c.run('UNSUBSCRIBE INBOX'), /^T NO \[UNAVAILABLE\] Subscriptions locked/m);
  failWith(t, MemoryUser.prototype, 'subscribe', new TypeError('a bug'));
  assert.match(await c.run('SUBSCRIBE INBOX'), /^T NO \[SERVERBUG\] /m);
  assert.match(await c.run('NOOP'), /^T OK /m);
});
