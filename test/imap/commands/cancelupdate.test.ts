// CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4): RETURN (PARTIAL m:n), RETURN (UPDATE)
// with ADDTO/REMOVEFROM while the folder changes, CANCELUPDATE, and the limit on live searches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Harness } from '../../support/command-harness.js';
import { MAX_LIVE_SEARCHES } from '../../../src/imap/search/context.js';

const msg = (s: string, day: number) => `From: a@example.org\r\nSubject: ${s}\r\nDate: ${day} Dec 2026 10:00:00 +0000\r\n\r\nbody of ${s}\r\n`;

/** Six messages, m1..m6, UIDs 1..6; m1 has the latest Date, m6 the earliest. */
async function six(t: Parameters<typeof harness>[0]): Promise<Harness> {
  const h = await harness(t);
  for (let i = 1; i <= 6; i++) await h.deliver(msg(`m${i}`, 10 - i));
  return h;
}

test('CONTEXT=SEARCH and CONTEXT=SORT are advertised (RFC 5267 §4.1)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const caps = await c.run('CAPABILITY');
  assert.match(caps, / CONTEXT=SEARCH\b/);
  assert.match(caps, / CONTEXT=SORT\b/);
});

test('PARTIAL m:n returns those positions of the result, NIL when there are none (RFC 5267 §4.4)', async (t) => {
  const h = await six(t);
  const c = await h.session();
  assert.match(await c.run('SEARCH RETURN (PARTIAL 1:2 COUNT) ALL'), /^\* ESEARCH \(TAG "t\d+"\) PARTIAL \(1:2 1:2\) COUNT 6\r$/m);
  assert.match(await c.run('SEARCH RETURN (PARTIAL 5:9) ALL'), /^\* ESEARCH \(TAG "t\d+"\) PARTIAL \(5:9 5:6\)\r$/m);
  assert.match(await c.run('UID SEARCH RETURN (PARTIAL 2:3) NOT 1'), /^\* ESEARCH \(TAG "t\d+"\) UID PARTIAL \(2:3 3:4\)\r$/m);
  assert.match(await c.run('SEARCH RETURN (PARTIAL 7:9) ALL'), /PARTIAL \(7:9 NIL\)\r$/m);
  assert.match(await c.run('SORT RETURN (PARTIAL 1:2) (DATE) UTF-8 ALL'), /^\* ESEARCH \(TAG "t\d+"\) PARTIAL \(1:2 6,5\)\r$/m, 'SORT: positions in sort order');
  for (const bad of ['SEARCH RETURN (PARTIAL) ALL', 'SEARCH RETURN (PARTIAL 0:3) ALL', 'SEARCH RETURN (PARTIAL 1:x) ALL', 'SEARCH RETURN (PARTIAL 1:2 ALL) ALL', 'SEARCH RETURN (PARTIAL 1:99999999999) ALL'])
    assert.match(await c.run(bad), /^T BAD /m, bad);
});

test('UPDATE: ADDTO/REMOVEFROM as flags change in another session and in this one (RFC 5267 §4.3)', async (t) => {
  const h = await six(t);
  const c = await h.session();
  const other = await h.session();
  assert.match(await c.run('SEARCH RETURN (UPDATE) UNSEEN'), /^\* ESEARCH \(TAG "t\d+"\)\r\nT OK /, 'UPDATE alone: the ESEARCH line carries nothing yet (as Dovecot)');
  const tag = /TAG "(t\d+)"/.exec(await c.run('UID SEARCH RETURN (UPDATE COUNT) UNSEEN'))![1];
  await other.run('STORE 2 +FLAGS (\\Seen)');
  const noop = await c.run('NOOP');
  assert.match(noop, /^\* 2 FETCH \(UID 2 FLAGS \(\\Seen[^)]*\)\)\r\n\* ESEARCH/, "after the FETCH that tells why");
  assert.match(noop, /^\* ESEARCH \(TAG "t\d+"\) REMOVEFROM \(0 2\)\r$/m);
  assert.match(noop, new RegExp(`^\\* ESEARCH \\(TAG "${tag}"\\) UID REMOVEFROM \\(0 2\\)\\r$`, 'm'));
  assert.match(await c.run('STORE 2 -FLAGS.SILENT (\\Seen)'), new RegExp(`^\\* ESEARCH \\(TAG "${tag}"\\) UID ADDTO \\(0 2\\)\\r$`, 'm'), 'its own STORE too');
  assert.doesNotMatch(await c.run('NOOP'), /ESEARCH/, 'said once');
});

test('UPDATE: arrivals are ADDTO after their EXISTS; expunges REMOVEFROM before their EXPUNGE (RFC 5267 §4.3)', async (t) => {
  const h = await six(t);
  const c = await h.session();
  const other = await h.session();
  await c.run('SEARCH RETURN (UPDATE) SUBJECT m');
  await h.deliver(msg('m7', 1));
  assert.match(await c.run('NOOP'), /^\* 7 EXISTS\r\n(\* \d+ RECENT\r\n)?\* ESEARCH \(TAG "t\d+"\) ADDTO \(0 7\)\r\nT OK /);
  await h.deliver('Subject: other\r\n\r\nx\r\n');
  assert.doesNotMatch(await c.run('NOOP'), /ESEARCH/, 'a message that does not match: nothing');
  await other.run('STORE 3,5 +FLAGS.SILENT (\\Deleted)');
  await other.run('EXPUNGE');
  assert.match(await c.run('NOOP'), /^\* ESEARCH \(TAG "t\d+"\) REMOVEFROM \(0 3,5\)\r\n\* 3 EXPUNGE\r\n\* 4 EXPUNGE\r\n/);
  await c.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  assert.match(await c.run('EXPUNGE'), /^\* ESEARCH \(TAG "t\d+"\) REMOVEFROM \(0 1\)\r\n\* 1 EXPUNGE\r\n/, 'its own EXPUNGE too');
});

test('UPDATE on SORT: positions in the sort order (RFC 5267 §4.4)', async (t) => {
  const h = await six(t);
  const c = await h.session();
  const other = await h.session();
  // REVERSE DATE: m1 m2 … m6 (UIDs 1..6) — the order of arrival here.
  assert.match(await c.run('SORT RETURN (UPDATE ALL) (REVERSE DATE) UTF-8 UNSEEN'), /ALL 1:6\r$/m);
  await other.run('STORE 3 +FLAGS (\\Seen)');
  assert.match(await c.run('NOOP'), /^\* ESEARCH \(TAG "t\d+"\) REMOVEFROM \(3 3\)\r$/m);
  await h.deliver(msg('newest', 20)); // latest Date: first in REVERSE DATE
  assert.match(await c.run('NOOP'), /^\* ESEARCH \(TAG "t\d+"\) ADDTO \(1 7\)\r$/m);
  await other.run('STORE 3 -FLAGS (\\Seen)');
  assert.match(await c.run('NOOP'), /^\* ESEARCH \(TAG "t\d+"\) ADDTO \(4 3\)\r$/m, 'back at its place after the newest, m1, m2');
  await other.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await other.run('EXPUNGE');
  assert.match(await c.run('NOOP'), /^\* ESEARCH \(TAG "t\d+"\) REMOVEFROM \(2 1\)\r\n\* 1 EXPUNGE\r\n/);
});

test('CANCELUPDATE stops the updates; an unknown tag is NO, a tag not quoted BAD; SELECT ends them all (RFC 5267 §4.2)', async (t) => {
  const h = await six(t);
  const c = await h.session();
  const other = await h.session();
  const tag = /TAG "(t\d+)"/.exec(await c.run('SEARCH RETURN (UPDATE) UNSEEN'))![1];
  assert.match(await c.run('CANCELUPDATE "nosuch"'), /^T NO /m);
  assert.match(await c.run(`CANCELUPDATE ${tag}`), /^T BAD /m);
  assert.match(await c.run('CANCELUPDATE'), /^T BAD /m);
  assert.match(await c.run(`CANCELUPDATE "${tag}"`), /^T OK /m);
  await other.run('STORE 1 +FLAGS (\\Seen)');
  assert.doesNotMatch(await c.run('NOOP'), /ESEARCH/);
  assert.match(await c.run(`CANCELUPDATE "${tag}"`), /^T NO /m, 'cancelled already');
  const again = /TAG "(t\d+)"/.exec(await c.run('SEARCH RETURN (UPDATE) ALL'))![1];
  await c.run('SELECT INBOX');
  assert.match(await c.run(`CANCELUPDATE "${again}"`), /^T NO /m, 'SELECT ended it');
  const n = await h.session(null);
  assert.match(await n.run('CANCELUPDATE "x"'), /^T BAD /m, 'needs a selected mailbox');
});

test(`UPDATE: at most ${MAX_LIVE_SEARCHES} live searches per session; past that NOUPDATE, the search still answered (RFC 5267 §4.3)`, async (t) => {
  const h = await six(t);
  const c = await h.session();
  for (let i = 0; i < MAX_LIVE_SEARCHES; i++) assert.doesNotMatch(await c.run('SEARCH RETURN (UPDATE) ALL'), /NOUPDATE/);
  const over = await c.run('SEARCH RETURN (UPDATE COUNT) ALL');
  assert.match(over, /^\* NO \[NOUPDATE "t\d+"\] /m);
  assert.match(over, /COUNT 6\r\nT OK /);
});
