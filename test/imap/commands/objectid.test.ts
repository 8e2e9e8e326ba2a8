// OBJECTID (RFC 8474): MAILBOXID on CREATE, SELECT, STATUS; FETCH EMAILID and THREADID; SEARCH EMAILID / THREADID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

const OBJECTID = /^[A-Za-z0-9_-]{1,255}$/;

test('OBJECTID is advertised; CREATE answers [MAILBOXID (…)], SELECT and STATUS give the same, RENAME keeps it (RFC 8474 §4.1, §4.2)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  assert.match(await c.run('CAPABILITY'), / OBJECTID\b/);
  const created = /^T OK \[MAILBOXID \(([^)]+)\)\] /m.exec(await c.run('CREATE Projects'));
  assert.ok(created && OBJECTID.test(created[1]), c.status);
  const id = created[1];
  assert.match(await c.run('STATUS Projects (MESSAGES MAILBOXID)'), new RegExp(`^\\* STATUS Projects \\(MESSAGES 0 MAILBOXID \\(${id}\\)\\)\\r$`, 'm'));
  assert.match(await c.run('SELECT Projects'), new RegExp(`^\\* OK \\[MAILBOXID \\(${id}\\)\\] `, 'm'));
  await c.run('UNSELECT');
  assert.match(await c.run('RENAME Projects Old.Projects'), /^T OK /m);
  assert.match(await c.run('EXAMINE Old.Projects'), new RegExp(`^\\* OK \\[MAILBOXID \\(${id}\\)\\] `, 'm'), 'RENAME keeps it (§4.1)');
  const inbox = /MAILBOXID \(([^)]+)\)/.exec(await c.run('STATUS INBOX (MAILBOXID)'))![1];
  assert.notEqual(inbox, id, 'each folder its own');
});

test('FETCH EMAILID: an objectid per message, the same across a flag change; THREADID is NIL (RFC 8474 §5.1, §5.2)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: a\r\n\r\nx\r\n');
  await h.deliver('Subject: b\r\n\r\ny\r\n');
  const c = await h.session();
  const out = await c.run('FETCH 1:2 (EMAILID THREADID)');
  const ids = [...out.matchAll(/^\* \d FETCH \(EMAILID \(([^)]+)\) THREADID NIL\)\r$/gm)].map((m) => m[1]);
  assert.equal(ids.length, 2, out);
  assert.ok(ids.every((i) => OBJECTID.test(i)) && ids[0] !== ids[1]);
  await c.run('STORE 1 +FLAGS (\\Seen)');
  assert.match(await c.run('UID FETCH 1 EMAILID'), new RegExp(`^\\* 1 FETCH \\(UID 1 EMAILID \\(${ids[0]}\\)\\)\\r$`, 'm'));
  assert.match(await c.run(`SEARCH EMAILID ${ids[1]}`), /^\* SEARCH 2\r$/m, 'SEARCH EMAILID (§6)');
  assert.match(await c.run(`SEARCH OR EMAILID ${ids[0]} EMAILID ${ids[1]}`), /^\* SEARCH 1 2\r$/m);
  assert.match(await c.run('SEARCH EMAILID Mnosuchid'), /^\* SEARCH\r$/m);
  assert.match(await c.run('SEARCH THREADID T1'), /^\* SEARCH\r$/m, 'no thread ids: nothing matches');
  for (const bad of ['SEARCH EMAILID', 'SEARCH EMAILID "a b"', 'SEARCH THREADID "x.y"', 'STATUS INBOX (MAILBOXID FOO)']) assert.match(await c.run(bad), /^T BAD /m, bad);
});

test('COPY and MOVE keep the EMAILID (RFC 8474 §5.1: the same message in another folder)', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Keep');
  await h.deliver('Subject: a\r\n\r\nx\r\n');
  await h.deliver('Subject: b\r\n\r\ny\r\n');
  const c = await h.session();
  const ids = [...(await c.run('FETCH 1:2 EMAILID')).matchAll(/EMAILID \(([^)]+)\)/g)].map((m) => m[1]);
  await c.run('COPY 1 Keep');
  await c.run('MOVE 2 Keep');
  await c.run('SELECT Keep');
  assert.deepEqual([...(await c.run('FETCH 1:2 EMAILID')).matchAll(/EMAILID \(([^)]+)\)/g)].map((m) => m[1]), ids);
});
