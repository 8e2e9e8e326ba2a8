// DELETE (RFC 3501 §6.3.4), in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, errnoError } from '../../support/command-harness.js';
import { MemoryUser } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

test('DELETE removes the folder and its messages; allowed in the selected state too', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Old');
  await h.deliver('Subject: m\r\n\r\nbody\r\n', 'Old');
  const c = await h.session();
  assert.equal(await c.run('DELETE Old'), 'T OK DELETE completed\r\n');
  assert.doesNotMatch(await c.run('LIST "" Old'), /^\* LIST/m);
  assert.equal(h.mail.boxes.has('Old'), false);
  assert.match(await c.run('DELETE Old'), /^T NO \[NONEXISTENT\] /m);
});

test('DELETE of a folder with children: it becomes \\Noselect, the children stay; deleting it again is NO (§6.3.4)', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Parent');
  await h.mkfolder('Parent.Child');
  const c = await h.session(null);
  assert.match(await c.run('DELETE Parent'), /^T OK /m);
  assert.match(await c.run('LIST "" Parent'), /^\* LIST \([^)]*\\Noselect[^)]*\) "\." Parent\r$/m);
  assert.match(await c.run('LIST "" Parent.Child'), /^\* LIST \([^)]*\) "\." Parent\.Child\r$/m);
  assert.match(await c.run('DELETE Parent'), /^T NO /m);
});

test('DELETE: state, argument and name errors; INBOX cannot be deleted (§6.3.4)', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.equal(await pre.run('DELETE X'), 'T BAD DELETE is not allowed before login\r\n');
  await h.mkfolder('Keep');
  const c = await h.session(null);
  for (const bad of ['DELETE', 'DELETE Keep extra', 'DELETE (Keep)']) assert.match(await c.run(bad), /^T BAD /m, bad);
  assert.match(await c.run('DELETE INBOX'), /^T NO /m);
  assert.match(await c.run('DELETE inbox'), /^T NO /m, 'INBOX is case-insensitive');
  assert.match(await c.run('DELETE Nowhere'), /^T NO \[NONEXISTENT\] /m, 'RFC 5530; not TRYCREATE');
  assert.match(await c.run('LIST "" Keep'), /^\* LIST /m, 'nothing deleted by the errors');
});

test('DELETE: store failures map to their NO codes, a bug to NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Keep');
  const c = await h.session(null);
  const cases: Array<[unknown, RegExp]> = [
    [errnoError('EACCES', 'EACCES: permission denied, rename'), /^T NO \[NOPERM\] /m],
    [errnoError('ENOENT', 'ENOENT: no such file, rename'), /^T NO \[NONEXISTENT\] /m],
    [new MailError('temporary', 'Locked'), /^T NO \[UNAVAILABLE\] Locked/m],
    [new MailError('cannot', 'Not that one'), /^T NO \[CANNOT\] Not that one/m],
    [new TypeError('a bug'), /^T NO \[SERVERBUG\] /m],
  ];
  const m = t.mock.method(MemoryUser.prototype, 'delete');
  for (const [err, reply] of cases) {
    m.mock.mockImplementation(async () => {
      throw err;
    });
    assert.match(await c.run('DELETE Keep'), reply, String(err));
  }
  m.mock.restore();
  assert.match(await c.run('NOOP'), /^T OK /m);
  assert.match(await c.run('LIST "" Keep'), /^\* LIST /m);
});
