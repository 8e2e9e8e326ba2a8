// LIST and LSUB (RFC 3501 §6.3.8, §6.3.9), LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154), LIST-STATUS (RFC 5819).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Harness, failWith, errnoError } from '../../support/command-harness.js';
import { MemoryUser } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

/** Work (with Work.Sub) and Play; Work.Sub and Play subscribed, Work not. */
async function tree(t: Parameters<typeof harness>[0]): Promise<Harness> {
  const h = await harness(t);
  for (const f of ['Work', 'Work.Sub', 'Play']) await h.mkfolder(f);
  return h;
}

test('LIST/LSUB: state and argument errors', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('LIST "" *'), /^T BAD LIST is not allowed before login/m);
  assert.match(await pre.run('LSUB "" *'), /^T BAD LSUB is not allowed before login/m);
  const c = await h.session(null);
  for (const bad of ['LIST', 'LIST ""', 'LIST "" * extra', 'LIST (BOGUS) "" *', 'LIST (RECURSIVEMATCH) "" *', 'LIST "" ()', 'LIST "" * RETURN (BOGUS)',
    'LIST "" * RETURN (STATUS MESSAGES)', 'LIST "" * RETURN (STATUS (BOGUS))', 'LSUB', 'LSUB ""', 'LSUB "" * extra'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
});

test('LIST: the delimiter, %, * and children (RFC 3501 §6.3.8, RFC 3348), special-use attributes (RFC 6154 §2)', async (t) => {
  const h = await tree(t);
  const c = await h.session(null);
  assert.equal(await c.run('LIST "" ""'), '* LIST (\\Noselect) "." ""\r\nT OK LIST completed\r\n');
  const top = await c.run('LIST "" %');
  assert.match(top, /^\* LIST \(\\HasNoChildren\) "\." INBOX\r$/m);
  assert.match(top, /^\* LIST \(\\HasChildren\) "\." Work\r$/m);
  assert.match(top, /^\* LIST \(\\HasNoChildren \\Sent\) "\." Sent\r$/m);
  assert.doesNotMatch(top, /Work\.Sub/, '% does not match the delimiter');
  assert.match(await c.run('LIST "" *'), /^\* LIST \(\\HasNoChildren\) "\." Work\.Sub\r$/m);
  assert.equal(await c.run('LIST Work. %'), '* LIST (\\HasNoChildren) "." Work.Sub\r\nT OK LIST completed\r\n', 'the reference is prefixed');
  assert.equal(await c.run('LIST "" inbox'), '* LIST (\\HasNoChildren) "." INBOX\r\nT OK LIST completed\r\n', 'INBOX is case-insensitive');
  assert.equal(await c.run('LIST "" Nope'), 'T OK LIST completed\r\n');
});

test('LIST-EXTENDED: SUBSCRIBED, RECURSIVEMATCH, several patterns, RETURN (CHILDREN); SPECIAL-USE selection (RFC 5258 §3, RFC 6154 §3)', async (t) => {
  const h = await tree(t);
  const c = await h.session(null);
  await c.run('SUBSCRIBE Work.Sub');
  await c.run('SUBSCRIBE Play');
  await c.run('DELETE Play');
  const sub = await c.run('LIST (SUBSCRIBED) "" *');
  assert.match(sub, /^\* LIST \(\\Subscribed\) "\." Work\.Sub\r$/m);
  assert.match(sub, /^\* LIST \(\\Subscribed \\NonExistent\) "\." Play\r$/m, 'a subscribed name that is gone is \\NonExistent');
  assert.doesNotMatch(sub, /"\." (INBOX|Work)\r/);
  assert.match(await c.run('LIST (SUBSCRIBED RECURSIVEMATCH) "" %'), /^\* LIST \(\) "\." Work \(CHILDINFO \("SUBSCRIBED"\)\)\r$/m);
  const multi = await c.run('LIST "" (INBOX Work) RETURN (CHILDREN)');
  assert.match(multi, /^\* LIST \(\\HasNoChildren\) "\." INBOX\r\n\* LIST \(\\HasChildren\) "\." Work\r\nT OK /m);
  const special = await c.run('LIST (SPECIAL-USE) "" *');
  assert.match(special, /^\* LIST \(\\Sent\) "\." Sent\r$/m);
  assert.doesNotMatch(special, /INBOX|Work/);
});

test('LIST RETURN (STATUS): a STATUS line after each selectable mailbox (RFC 5819 §2)', async (t) => {
  const h = await tree(t);
  await h.deliver('Subject: x\r\n\r\nbody\r\n');
  await h.mkfolder('Virtual.Child');
  const c = await h.session(null);
  const out = await c.run('LIST "" (INBOX Virtual) RETURN (STATUS (MESSAGES UNSEEN))');
  assert.match(out, /^\* LIST \([^)]*\) "\." INBOX\r\n\* STATUS INBOX \(MESSAGES 1 UNSEEN 1\)\r$/m);
  assert.match(out, /^\* LIST \(\\NonExistent[^)]*\) "\." Virtual\r$/m);
  assert.doesNotMatch(out, /STATUS Virtual/, 'no STATUS for a mailbox that cannot be selected');
});

test('LSUB: subscribed names; a parent matched only through % is \\Noselect (RFC 3501 §6.3.9)', async (t) => {
  const h = await tree(t);
  const c = await h.session(null);
  await c.run('SUBSCRIBE Work.Sub');
  assert.equal(await c.run('LSUB "" ""'), '* LSUB (\\Noselect) "." ""\r\nT OK LSUB completed\r\n');
  assert.match(await c.run('LSUB "" *'), /^\* LSUB \(\) "\." Work\.Sub\r$/m);
  assert.equal(await c.run('LSUB "" W%'), '* LSUB (\\Noselect) "." Work\r\nT OK LSUB completed\r\n');
  assert.equal(await c.run('LSUB "" Play'), 'T OK LSUB completed\r\n', 'not subscribed');
});

test('LIST/LSUB: a store failure is the NO of its kind, an unexpected one NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  failWith(t, MemoryUser.prototype, 'folders', errnoError('EACCES', 'EACCES: permission denied, scandir'));
  assert.match(await c.run('LIST "" *'), /^T NO \[NOPERM\] /m);
  failWith(t, MemoryUser.prototype, 'folders', new TypeError('a bug'));
  assert.match(await c.run('LIST "" *'), /^T NO \[SERVERBUG\] /m);
  failWith(t, MemoryUser.prototype, 'subscriptions', new MailError('temporary', 'Subscriptions locked'));
  assert.match(await c.run('LSUB "" *'), /^T NO \[UNAVAILABLE\] Subscriptions locked/m);
  assert.match(await c.run('NOOP'), /^T OK /m);
});

test("LIST: '[' in a pattern is a plain character (RFC 3501 §9)", async (t) => {
  const h = await harness(t);
  await h.mkfolder('a[b');
  const c = await h.session(null);
  assert.equal(await c.run("LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}"), 'T OK LIST completed\r\n');
  assert.match(await c.run('LIST "" a[*'), /^\* LIST \(\\HasNoChildren\) "\." a\[b\r\nT OK LIST completed\r\n$/, "'[' is an ATOM-CHAR in the reply too");
});
