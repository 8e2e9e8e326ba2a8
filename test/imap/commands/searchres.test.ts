// SEARCHRES (RFC 5182): SEARCH/SORT RETURN (SAVE) and the "$" marker wherever a sequence set goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Harness } from '../../support/command-harness.js';

const msg = (s: string, day = 1) => `From: a@example.org\r\nSubject: ${s}\r\nDate: ${day} Dec 2026 10:00:00 +0000\r\n\r\nbody of ${s}\r\n`;

/** Five messages, subjects m1..m5, UIDs = sequence numbers 1..5. */
async function five(t: Parameters<typeof harness>[0]): Promise<Harness> {
  const h = await harness(t);
  for (let i = 1; i <= 5; i++) await h.deliver(msg(`m${i}`, 6 - i));
  return h;
}

test('SEARCHRES is advertised after login (RFC 5182 §2.1)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  assert.match(await c.run('CAPABILITY'), /^\* CAPABILITY [^\r]* SEARCHRES\b/m);
});

test('RETURN (SAVE) alone sends no (E)SEARCH response; "$" then works in FETCH, UID FETCH and SEARCH (RFC 5182 §2.1, §2.2 example 1)', async (t) => {
  const h = await five(t);
  const c = await h.session();
  assert.equal(await c.run('FETCH $ UID'), 'T OK FETCH completed\r\n', 'before any SAVE "$" is the empty set');
  assert.equal(await c.run('SEARCH RETURN (SAVE) 2:4'), 'T OK SEARCH completed\r\n');
  assert.equal(await c.run('FETCH $ UID'), '* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\n* 4 FETCH (UID 4)\r\nT OK FETCH completed\r\n');
  assert.match(await c.run('UID FETCH $ FLAGS'), /^\* 2 FETCH \(UID 2 FLAGS[^\r]*\r\n\* 3 FETCH [^\r]*\r\n\* 4 FETCH [^\r]*\r\nT OK /);
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 2 3 4\r$/m);
  assert.match(await c.run('UID SEARCH UID $'), /^\* SEARCH 2 3 4\r$/m, '"$" as a UID set: same messages (§2.1 implementation note)');
  assert.match(await c.run('SEARCH OR 1 $'), /^\* SEARCH 1 2 3 4\r$/m);
  assert.match(await c.run('SEARCH NOT $'), /^\* SEARCH 1 5\r$/m);
  // Used while saving: the old value, then the new one replaces it (§2.2 example 3).
  assert.equal(await c.run('SEARCH RETURN (SAVE) $ 3:5'), 'T OK SEARCH completed\r\n');
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 3 4\r$/m);
});

test('"$" only as the whole sequence set: "1,$" and "$:3" are BAD (RFC 5182 §3 seq-last-command)', async (t) => {
  const h = await five(t);
  const c = await h.session();
  await c.run('SEARCH RETURN (SAVE) 1');
  for (const bad of ['FETCH 1,$ UID', 'FETCH $:3 UID', 'STORE $,2 +FLAGS (x)', 'COPY 1:$ INBOX', 'SEARCH 1,$', 'SEARCH UID $,1']) assert.match(await c.run(bad), /^T BAD /m, bad);
});

test('SAVE with MIN/MAX keeps only those; with ALL or COUNT all of them; the ESEARCH response is sent (RFC 5182 §2.4)', async (t) => {
  const h = await five(t);
  const c = await h.session();
  assert.match(await c.run('SEARCH RETURN (SAVE MIN) 2:4'), /^\* ESEARCH \(TAG "t\d+"\) MIN 2\r$/m);
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 2\r$/m);
  assert.match(await c.run('SEARCH RETURN (MAX SAVE) 2:4'), /^\* ESEARCH \(TAG "t\d+"\) MAX 4\r$/m);
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 4\r$/m);
  assert.match(await c.run('SEARCH RETURN (SAVE MIN MAX) 2:4'), /MIN 2 MAX 4\r$/m);
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 2 4\r$/m);
  assert.match(await c.run('SEARCH RETURN (SAVE MIN COUNT) 2:4'), /MIN 2 COUNT 3\r$/m);
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 2 3 4\r$/m);
  assert.match(await c.run('SEARCH RETURN (SAVE ALL) 1,5'), /ALL 1,5\r$/m);
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 1 5\r$/m);
  assert.match(await c.run('SEARCH RETURN (SAVE MIN) 99'), /^T OK /m, 'nothing found: $ empty');
  assert.match(await c.run('SEARCH $'), /^\* SEARCH\r$/m);
});

test('SORT RETURN (SAVE): "$" holds the messages; with MIN/MAX the first/last in sort order (RFC 5182 §1, RFC 5267 §3.2)', async (t) => {
  const h = await five(t); // m1 has the latest Date, m5 the earliest
  const c = await h.session();
  assert.equal(await c.run('SORT RETURN (SAVE) (DATE) UTF-8 1:3'), 'T OK SORT completed\r\n');
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 1 2 3\r$/m);
  assert.match(await c.run('SORT RETURN (SAVE MIN) (DATE) UTF-8 1:3'), /^\* ESEARCH \(TAG "t\d+"\) MIN 3\r$/m);
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 3\r$/m);
});

test('STORE, COPY, MOVE, UID EXPUNGE on "$" (RFC 5182 §2.2 example 2)', async (t) => {
  const h = await five(t);
  await h.mkfolder('Keep');
  const c = await h.session();
  await c.run('SEARCH RETURN (SAVE) SUBJECT m2');
  assert.match(await c.run('STORE $ +FLAGS (\\Flagged)'), /^\* 2 FETCH \(FLAGS \([^)]*\\Flagged/m);
  assert.match(await c.run('UID STORE $ +FLAGS.SILENT (\\Seen)'), /^T OK /m);
  assert.match(await c.run('COPY $ Keep'), /^T OK \[COPYUID \d+ 2 1\] /m);
  assert.match(await c.run('UID COPY $ Keep'), /^T OK \[COPYUID \d+ 2 2\] /m);
  await c.run('SEARCH RETURN (SAVE) 3:4');
  assert.match(await c.run('UID MOVE $ Keep'), /^\* OK \[COPYUID \d+ 3:4 3:4\][^\r]*\r\n\* 3 EXPUNGE\r\n\* 3 EXPUNGE\r\n/m);
  assert.equal(await c.run('FETCH $ UID'), 'T OK FETCH completed\r\n', 'moved away: "$" names nothing now');
  await c.run('SEARCH RETURN (SAVE) 1');
  await c.run('STORE $ +FLAGS.SILENT (\\Deleted)');
  assert.match(await c.run('UID EXPUNGE $'), /^\* 1 EXPUNGE\r\nT OK /m);
  assert.match(await c.run('SEARCH ALL'), /^\* SEARCH 1 2\r$/m, 'm2 and m5 left');
  assert.match(await c.run('COPY $ Keep'), /^T OK /m, 'empty "$": nothing to copy, not an error');
});

test('"$" follows expunges: an expunged message drops out, the others keep their new numbers (RFC 5182 §2.1)', async (t) => {
  const h = await five(t);
  const c = await h.session();
  const other = await h.session();
  await c.run('UID SEARCH RETURN (SAVE) 2,4');
  await other.run('STORE 2 +FLAGS.SILENT (\\Deleted)');
  await other.run('EXPUNGE');
  assert.match(await c.run('NOOP'), /^\* 2 EXPUNGE\r$/m);
  assert.equal(await c.run('FETCH $ UID'), '* 3 FETCH (UID 4)\r\nT OK FETCH completed\r\n');
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 3\r$/m);
});

test('SELECT and EXAMINE empty "$"; a failed SAVE (NO) empties it, a BAD leaves it (RFC 5182 §2.1)', async (t) => {
  const h = await five(t);
  const c = await h.session();
  await c.run('SEARCH RETURN (SAVE) 1:2');
  assert.match(await c.run('SEARCH RETURN (SAVE) BOGUS'), /^T BAD /m);
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 1 2\r$/m, 'BAD: unchanged');
  assert.match(await c.run('SEARCH RETURN (SAVE) CHARSET X-BOGUS ALL'), /^T NO \[BADCHARSET/m);
  assert.match(await c.run('SEARCH $'), /^\* SEARCH\r$/m, 'NO with SAVE: empty');
  await c.run('SEARCH RETURN (SAVE) 1:2');
  assert.match(await c.run('SEARCH CHARSET X-BOGUS ALL'), /^T NO /m);
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 1 2\r$/m, 'NO without SAVE: unchanged');
  assert.match(await c.run('SEARCH 3'), /^\* SEARCH 3\r$/m);
  assert.match(await c.run('SEARCH $'), /^\* SEARCH 1 2\r$/m, 'success without SAVE: unchanged');
  await c.run('SELECT INBOX');
  assert.match(await c.run('SEARCH $'), /^\* SEARCH\r$/m, 'SELECT resets it');
  await c.run('SEARCH RETURN (SAVE) 1:2');
  await c.run('EXAMINE INBOX');
  assert.equal(await c.run('FETCH $ UID'), 'T OK FETCH completed\r\n', 'EXAMINE resets it');
});
