// COPY / UID COPY (RFC 3501 §6.4.7, §6.4.8) with COPYUID (RFC 4315 §3), MOVE / UID MOVE (RFC 6851), in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Harness, errnoError } from '../../support/command-harness.js';
import { MemoryUser } from '../../support/memory-store.js';
import { MailError } from '../../../src/mail/api.js';

async function setup(t: Parameters<typeof harness>[0]): Promise<{ h: Harness; validity: string }> {
  const h = await harness(t);
  for (const n of [1, 2, 3]) await h.deliver(`Subject: m${n}\r\n\r\nbody ${n}\r\n`);
  await h.mkfolder('Dest');
  const probe = await h.session(null);
  const validity = /UIDVALIDITY (\d+)/.exec(await probe.run('STATUS Dest (UIDVALIDITY)'))![1];
  probe.close();
  return { h, validity };
}

/** The UIDs left after applying `* n EXPUNGE` lines, in order, to `uids`. */
function afterExpunges(out: string, uids: number[]): number[] {
  const left = [...uids];
  for (const m of out.matchAll(/^\* (\d+) EXPUNGE\r$/gm)) left.splice(Number(m[1]) - 1, 1);
  return left;
}

test('COPY: OK [COPYUID destvalidity src dst] (RFC 4315 §3); the source unchanged; flags kept (§6.4.7)', async (t) => {
  const { h, validity } = await setup(t);
  const c = await h.session();
  await c.run('STORE 2 +FLAGS (\\Flagged)');
  assert.equal(await c.run('COPY 1:2 Dest'), `T OK [COPYUID ${validity} 1:2 1:2] Copy completed\r\n`);
  assert.match(await c.run('UID COPY 3,99 Dest'), new RegExp(`^T OK \\[COPYUID ${validity} 3 3\\] `, 'm'), 'UIDs that do not exist are ignored');
  assert.match(await c.run('UID COPY 99 Dest'), /^T OK /m, '§6.4.8: no message is not an error');
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 3\)/);
  const d = await h.session('Dest');
  // Flags kept, and \Recent: the first session to select the folder after the COPY (§6.4.7).
  assert.match(await d.run('FETCH 2 FLAGS'), /^\* 2 FETCH \(FLAGS \(\\Flagged \\Recent\)\)/m);
});

test('COPY: the copies are \\Recent to the next session that selects the target (RFC 3501 §6.4.7 SHOULD)', async (t) => {
  const { h } = await setup(t);
  const c = await h.session();
  assert.match(await c.run('COPY 1:2 Dest'), /^T OK /m);
  const d = await h.session(null);
  assert.match(await d.run('SELECT Dest'), /^\* 2 RECENT\r$/m);
  assert.match(await d.run('FETCH 1 FLAGS'), /^\* 1 FETCH \(FLAGS \([^)]*\\Recent/m);
});

test('MOVE: untagged OK [COPYUID …] before the EXPUNGEs, all before the tagged OK (RFC 6851 §3.3, §4.3)', async (t) => {
  const { h, validity } = await setup(t);
  const c = await h.session();
  const out = await c.run('UID MOVE 1:2 Dest');
  const lines = out.split('\r\n');
  assert.equal(lines[0], `* OK [COPYUID ${validity} 1:2 1:2] Moved UIDs.`);
  assert.equal(lines.filter((l) => / EXPUNGE$/.test(l)).length, 2);
  assert.deepEqual(afterExpunges(out, [1, 2, 3]), [3]);
  assert.match(lines[lines.length - 2], /^T OK /);
  assert.match(await c.run('FETCH 1 UID'), /^\* 1 FETCH \(UID 3\)/m);
  assert.match(await c.run('STATUS Dest (MESSAGES)'), /MESSAGES 2\)/);
  assert.match(await c.run('MOVE 1 Dest'), new RegExp(`^\\* OK \\[COPYUID ${validity} 3 3\\] [^\\r]*\\r\\n\\* 1 EXPUNGE\\r\\nT OK `), 'MOVE by sequence number');
});

test('MOVE with QRESYNC enabled: VANISHED, not EXPUNGE (RFC 7162 §3.2.10, RFC 6851 §4.4)', async (t) => {
  const { h } = await setup(t);
  const c = await h.session(null);
  await c.run('ENABLE QRESYNC');
  await c.run('SELECT INBOX');
  const out = await c.run('UID MOVE 2 Dest');
  assert.match(out, /^\* VANISHED 2\r$/m);
  assert.doesNotMatch(out, /EXPUNGE/);
});

test('COPY/MOVE: state and argument errors; missing target NO [TRYCREATE]; MOVE from a read-only mailbox is NO', async (t) => {
  const { h } = await setup(t);
  const pre = await h.connect();
  assert.match(await pre.run('COPY 1 Dest'), /^T BAD COPY is not allowed before login/m);
  const a = await h.session(null);
  assert.match(await a.run('MOVE 1 Dest'), /^T BAD MOVE is not allowed without a selected mailbox/m);
  assert.match(await a.run('UID COPY 1 Dest'), /^T BAD /m);
  const c = await h.session();
  for (const bad of ['COPY', 'COPY 1', 'COPY 1 Dest extra', 'COPY x Dest', 'COPY 9 Dest', 'UID MOVE', 'MOVE 1:* (Dest)'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
  assert.match(await c.run('COPY 1 Nowhere'), /^T NO \[TRYCREATE\] /m, '§6.4.7');
  assert.match(await c.run('MOVE 1 Nowhere'), /^T NO \[TRYCREATE\] /m);
  assert.match(await c.run('STATUS Dest (MESSAGES)'), /MESSAGES 0\)/);
  await c.run('EXAMINE INBOX');
  assert.match(await c.run('COPY 1 Dest'), /^T OK \[COPYUID /m, 'copying out of a read-only mailbox is fine');
  const mv = await c.run('MOVE 2 Dest');
  assert.match(mv, /^T NO /m);
  assert.doesNotMatch(mv, /^\* \d+ EXPUNGE|COPYUID/m);
});

test('COPY/MOVE: store failures map to their NO codes, a bug to NO [SERVERBUG]; a failed MOVE expunges nothing', async (t) => {
  const { h } = await setup(t);
  const c = await h.session();
  const cases: Array<[unknown, RegExp]> = [
    [errnoError('ENOSPC', 'ENOSPC: no space left on device, link'), /^T NO \[OVERQUOTA\] /m],
    [new MailError('notfound', 'Mailbox vanished'), /^T NO \[TRYCREATE\] Mailbox vanished/m],
    [new MailError('expunged', 'Some of the requested messages no longer exist'), /^T NO \[EXPUNGEISSUED\] /m],
    [new MailError('permission', 'Not yours'), /^T NO \[NOPERM\] Not yours/m],
    [new TypeError('a bug'), /^T NO \[SERVERBUG\] /m],
  ];
  // COPY links (store.copy), MOVE renames (store.move): both fail the same way.
  const m = t.mock.method(MemoryUser.prototype, 'copy');
  const mv2 = t.mock.method(MemoryUser.prototype, 'move');
  for (const [err, reply] of cases) {
    for (const mock of [m, mv2])
      mock.mock.mockImplementation(async () => {
        throw err;
      });
    assert.match(await c.run('COPY 1 Dest'), reply, `COPY: ${String(err)}`);
    const mv = await c.run('UID MOVE 1:3 Dest');
    assert.match(mv, reply, `MOVE: ${String(err)}`);
    assert.doesNotMatch(mv, /^\* \d+ EXPUNGE|COPYUID/m);
  }
  m.mock.restore();
  mv2.mock.restore();
  assert.match(await c.run('NOOP'), /^T OK /m);
  assert.match(await c.run('STATUS INBOX (MESSAGES)'), /MESSAGES 3\)/);
});
