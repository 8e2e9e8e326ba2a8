// CREATE (RFC 3501 §6.3.3) against the store, in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, failWith, errnoError } from '../../support/command-harness.js';
import { MemoryUser } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

test('CREATE makes a folder; its parent is listed, not created', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  assert.match(await c.run('CREATE Projects.2024'), /^T OK \[MAILBOXID \([0-9a-f]+\)\] CREATE completed/m);
  assert.deepEqual([...h.mail.boxes.keys()].filter((n) => n.startsWith('Projects')), ['Projects.2024']);
  assert.match(await c.run('LIST "" Projects'), /^\* LIST \(\\Noselect \\HasChildren\) "\." Projects\r$/m);
});

test('CREATE: state, argument and name errors', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('CREATE X'), /^T BAD CREATE is not allowed before login/m);
  const c = await h.session(null);
  assert.match(await c.run('CREATE'), /^T BAD /m);
  assert.match(await c.run('CREATE a b'), /^T BAD /m);
  assert.match(await c.run('CREATE INBOX'), /^T NO \[ALREADYEXISTS\] /m);
  assert.match(await c.run('CREATE Sent'), /^T NO \[ALREADYEXISTS\] /m, 'special-use folders exist from the first login');
  assert.match(await c.run('CREATE "a..b"'), /^T NO \[CANNOT\] /m);
  assert.match(await c.run('CREATE "~x"'), /^T NO \[CANNOT\] /m);
});

test('CREATE: a store failure is the NO of its kind, an unexpected one NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  failWith(t, MemoryUser.prototype, 'create', errnoError('ENOSPC', 'ENOSPC: no space left on device, mkdir'));
  assert.match(await c.run('CREATE Full'), /^T NO \[OVERQUOTA\] /m);
  failWith(t, MemoryUser.prototype, 'create', new MailError('limit', 'Too many folders'));
  assert.match(await c.run('CREATE Many'), /^T NO \[LIMIT\] Too many folders/m);
  failWith(t, MemoryUser.prototype, 'create', new TypeError('a bug'));
  assert.match(await c.run('CREATE Bug'), /^T NO \[SERVERBUG\] /m);
  assert.match(await c.run('NOOP'), /^T OK /m);
  const bug = h.logs().find((l) => l.msg === 'unexpected error in a command');
  assert.equal(bug?.user, 'bob');
  assert.equal(bug?.command, 'CREATE');
});
