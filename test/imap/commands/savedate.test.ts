// SAVEDATE (RFC 8514): FETCH SAVEDATE and SEARCH SAVEDBEFORE / SAVEDON / SAVEDSINCE / SAVEDATESUPPORTED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

const DAY = 86_400_000;

test('SAVEDATE is advertised; FETCH SAVEDATE is when the message came into the folder, not its INTERNALDATE (RFC 8514 §3)', async (t) => {
  const h = await harness(t);
  const box = await h.box();
  box.add('Subject: old\r\n\r\nx\r\n', [], new Date('2001-02-03T04:05:06Z'), true, new Date('2026-12-01T10:00:00Z'));
  const c = await h.session();
  assert.match(await c.run('CAPABILITY'), / SAVEDATE\b/);
  const out = await c.run('FETCH 1 (INTERNALDATE SAVEDATE)');
  assert.match(out, /^\* 1 FETCH \(INTERNALDATE "03-Feb-2001 04:05:06 \+0000" SAVEDATE "\d\d-Dec-2026 \d\d:\d\d:\d\d [+-]\d{4}"\)\r$/m);
  assert.match(await c.run('UID FETCH 1 SAVEDATE'), /^\* 1 FETCH \(UID 1 SAVEDATE "/m);
});

test('COPY and MOVE give the copy a new save date (RFC 8514 §3: when it was saved into that mailbox)', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Keep');
  const box = await h.box();
  box.add('Subject: a\r\n\r\nx\r\n', [], null, true, new Date(Date.now() - 30 * DAY));
  const c = await h.session();
  assert.match(await c.run('SEARCH SAVEDBEFORE ' + imapDay(Date.now() - 10 * DAY)), /^\* SEARCH 1\r$/m);
  await c.run('COPY 1 Keep');
  await c.run('SELECT Keep');
  assert.match(await c.run('SEARCH SAVEDON ' + imapDay(Date.now())), /^\* SEARCH 1\r$/m);
});

test('SEARCH SAVEDBEFORE / SAVEDON / SAVEDSINCE compare the save date by day; SAVEDATESUPPORTED matches all (RFC 8514 §4)', async (t) => {
  const h = await harness(t);
  const box = await h.box();
  const now = Date.now();
  for (const ago of [40, 20, 0]) box.add(`Subject: ${ago}\r\n\r\nx\r\n`, [], new Date(now - 100 * DAY), true, new Date(now - ago * DAY));
  const c = await h.session();
  assert.match(await c.run(`SEARCH SAVEDBEFORE ${imapDay(now - 30 * DAY)}`), /^\* SEARCH 1\r$/m);
  assert.match(await c.run(`SEARCH SAVEDSINCE ${imapDay(now - 30 * DAY)}`), /^\* SEARCH 2 3\r$/m);
  assert.match(await c.run(`SEARCH SAVEDON ${imapDay(now - 20 * DAY)}`), /^\* SEARCH 2\r$/m);
  assert.match(await c.run(`UID SEARCH NOT SAVEDSINCE ${imapDay(now - 10 * DAY)}`), /^\* SEARCH 1 2\r$/m);
  assert.match(await c.run('SEARCH SAVEDATESUPPORTED'), /^\* SEARCH 1 2 3\r$/m);
  assert.match(await c.run(`SEARCH BEFORE ${imapDay(now - 50 * DAY)}`), /^\* SEARCH 1 2 3\r$/m, 'INTERNALDATE is another date');
  for (const bad of ['SEARCH SAVEDON', 'SEARCH SAVEDON 32-Jan-2026', 'SEARCH SAVEDBEFORE tomorrow', 'FETCH 1 SAVEDATE.X'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
});

/** "7-Dec-2026" for the server's local day of `ms` (the harness runs in this process's zone). */
function imapDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getDate()}-${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()]}-${d.getFullYear()}`;
}
