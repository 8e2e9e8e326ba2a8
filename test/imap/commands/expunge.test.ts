// EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1), in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Harness, errnoError } from '../../support/command-harness.js';
import { MemoryMailbox } from '../../support/memory-store.js';

async function three(t: Parameters<typeof harness>[0]): Promise<Harness> {
  const h = await harness(t);
  for (const n of [1, 2, 3]) await h.deliver(`Subject: m${n}\r\n\r\nbody ${n}\r\n`);
  return h;
}

/** The UIDs left after applying the `* n EXPUNGE` lines, in order, to `uids` (each renumbers the rest, §7.4.1). */
function afterExpunges(out: string, uids: number[]): number[] {
  const left = [...uids];
  for (const m of out.matchAll(/^\* (\d+) EXPUNGE\r$/gm)) left.splice(Number(m[1]) - 1, 1);
  return left;
}

test('EXPUNGE: one EXPUNGE per \\Deleted message, numbered as each takes effect, before the OK (§6.4.3, §7.4.1)', async (t) => {
  const h = await three(t);
  const c = await h.session();
  const other = await h.session();
  await c.run('STORE 1,3 +FLAGS.SILENT (\\Deleted)');
  const out = await c.run('EXPUNGE');
  assert.equal(out.match(/ EXPUNGE\r\n/g)?.length, 2, out);
  assert.deepEqual(afterExpunges(out, [1, 2, 3]), [2]);
  assert.match(out, /\r\nT OK EXPUNGE completed\r\n$/);
  assert.match(await c.run('FETCH 1 UID'), /^\* 1 FETCH \(UID 2\)/m);
  assert.deepEqual(afterExpunges(await other.run('NOOP'), [1, 2, 3]), [2], 'another session hears of it');
  assert.equal(await c.run('EXPUNGE'), 'T OK EXPUNGE completed\r\n', 'nothing left to remove');
});

test('UID EXPUNGE: only the \\Deleted messages among the given UIDs (RFC 4315 §2.1)', async (t) => {
  const h = await three(t);
  const c = await h.session();
  await c.run('STORE 1:3 +FLAGS.SILENT (\\Deleted)');
  const out = await c.run('UID EXPUNGE 2:3,99');
  assert.deepEqual(afterExpunges(out, [1, 2, 3]), [1]);
  assert.match(out, /^T OK /m);
  assert.equal(await c.run('UID EXPUNGE 99'), 'T OK UID EXPUNGE completed\r\n');
  assert.match(await c.run('FETCH 1 (UID FLAGS)'), /^\* 1 FETCH \(UID 1 FLAGS \([^)]*\\Deleted/m, 'the one outside the set stays');
});

test('EXPUNGE with QRESYNC enabled: VANISHED with the UIDs (RFC 7162 §3.2.10)', async (t) => {
  const h = await three(t);
  const c = await h.session(null);
  await c.run('ENABLE QRESYNC');
  await c.run('SELECT INBOX');
  await c.run('STORE 1,3 +FLAGS.SILENT (\\Deleted)');
  const out = await c.run('EXPUNGE');
  assert.match(out, /^\* VANISHED 1,3\r$/m);
  assert.doesNotMatch(out, /^\* \d+ EXPUNGE/m);
});

test('EXPUNGE: state and argument errors; a read-only mailbox is NO and keeps its messages', async (t) => {
  const h = await three(t);
  const pre = await h.connect();
  assert.equal(await pre.run('EXPUNGE'), 'T BAD EXPUNGE is not allowed before login\r\n');
  const a = await h.session(null);
  assert.match(await a.run('EXPUNGE'), /^T BAD EXPUNGE is not allowed without a selected mailbox/m);
  assert.match(await a.run('UID EXPUNGE 1'), /^T BAD /m);
  const c = await h.session();
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  for (const bad of ['EXPUNGE 1', 'UID EXPUNGE', 'UID EXPUNGE x', 'UID EXPUNGE 1 2'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
  await c.run('EXAMINE INBOX');
  const out = await c.run('EXPUNGE');
  assert.match(out, /^T NO /m);
  assert.doesNotMatch(out, /^\* \d+ EXPUNGE/m);
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 3\)/);
});

test('EXPUNGE: store failures map to their NO codes, a bug to NO [SERVERBUG]; the session goes on', async (t) => {
  const h = await three(t);
  const c = await h.session();
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  const cases: Array<[unknown, RegExp]> = [
    [errnoError('EIO', 'EIO: i/o error, unlink'), /^T NO \[UNAVAILABLE\] /m],
    [errnoError('EACCES', 'EACCES: permission denied, unlink'), /^T NO \[NOPERM\] /m],
    [new TypeError('a bug'), /^T NO \[SERVERBUG\] /m],
  ];
  const m = t.mock.method(MemoryMailbox.prototype, 'expunge');
  for (const [err, reply] of cases) {
    m.mock.mockImplementation(async () => {
      throw err;
    });
    const out = await c.run('EXPUNGE');
    assert.match(out, reply, String(err));
    assert.doesNotMatch(out, /^\* \d+ EXPUNGE/m);
    assert.match(await c.run('UID EXPUNGE 1'), reply, `UID EXPUNGE: ${String(err)}`);
  }
  m.mock.restore();
  assert.match(await c.run('NOOP'), /^T OK /m);
  assert.deepEqual(afterExpunges(await c.run('EXPUNGE'), [1, 2, 3]), [2, 3]);
});
