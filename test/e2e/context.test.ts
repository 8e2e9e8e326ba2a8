// CONTEXT=SEARCH / CONTEXT=SORT (RFC 5267) against the real server process,
// and the SEARCH part against Dovecot (which has CONTEXT=SEARCH, not =SORT).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { makeMailTree, startServer, type MailTree } from '../support/server.js';
import { dovecotAvailable } from '../support/dovecot.js';
import { differential, seedInOrder, runScript, OTHER } from '../support/peer-diff.js';

async function seed(tree: MailTree): Promise<void> {
  const notes = Array.from({ length: 6 }, (_, k) => k + 1).map(
    (i) => `From: u${i % 2}@example.org\nSubject: note ${i}\nDate: ${10 - i} Dec 2026 10:00:00 +0000\nMessage-ID: <n${i}@example.org>\n\nbody ${i}\n`,
  );
  await seedInOrder(tree, notes);
}

/** Live searches while a second session changes flags, expunges and appends (RFC 5267 §4.2-§4.4). */
const SCRIPT = [
  'SELECT INBOX',
  `${OTHER}SELECT INBOX`,
  'SEARCH RETURN (PARTIAL 2:3 COUNT) ALL',
  'UID SEARCH RETURN (PARTIAL 4:9) FROM u1',
  'SEARCH RETURN (PARTIAL 9:10) ALL',
  'SEARCH RETURN (UPDATE) UNSEEN',
  'UID SEARCH RETURN (UPDATE ALL) OR SUBJECT "note 3" SUBJECT x',
  `${OTHER}STORE 2 +FLAGS.SILENT (\\Seen)`,
  'NOOP',
  `${OTHER}STORE 2 -FLAGS.SILENT (\\Seen)`,
  'NOOP',
  `${OTHER}STORE 3 +FLAGS.SILENT (\\Deleted)`,
  `${OTHER}EXPUNGE`,
  'NOOP',
  `${OTHER}APPEND INBOX {35}\r\nFrom: u0@example.org\r\nSubject: x\r\n`,
  'NOOP',
  'CANCELUPDATE "nosuch"',
  'CANCELUPDATE "d6"',
  `${OTHER}STORE 1 +FLAGS.SILENT (\\Seen)`,
  'NOOP',
];

test('CONTEXT on the real server: PARTIAL, UPDATE while another session changes the folder, CANCELUPDATE (RFC 5267 §4)', { timeout: 30_000 }, async (t) => {
  const tree = await makeMailTree('mimapd-context-');
  await seed(tree);
  const server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const r = [...(await runScript(server.port, [...SCRIPT, 'SORT RETURN (UPDATE ALL) (REVERSE SUBJECT) UTF-8 ALL', `${OTHER}STORE 1 +FLAGS.SILENT (\\Deleted)`, `${OTHER}EXPUNGE`, 'NOOP', 'CAPABILITY'])).values()];
  assert.match(r[r.length - 1], / CONTEXT=SEARCH CONTEXT=SORT\b/);
  // FETCH and RECENT lines are other tests' business.
  const at = (cmd: string, nth = 0) =>
    r[SCRIPT.map((c, i) => [c, i] as const).filter(([c]) => c === cmd)[nth][1]]
      .split('\n')
      .filter((l) => !/^\* \d+ (FETCH|RECENT)\b/.test(l))
      .join('\n');
  assert.equal(at('SEARCH RETURN (PARTIAL 2:3 COUNT) ALL'), '* ESEARCH (TAG) PARTIAL (2:3 2:3) COUNT 6\nT OK');
  assert.equal(at('UID SEARCH RETURN (PARTIAL 4:9) FROM u1'), '* ESEARCH (TAG) UID PARTIAL (4:9 NIL)\nT OK');
  assert.equal(at('NOOP', 0), '* ESEARCH (TAG) REMOVEFROM (0 2)\nT OK');
  assert.equal(at('NOOP', 1), '* ESEARCH (TAG) ADDTO (0 2)\nT OK');
  assert.equal(at('NOOP', 2), '* ESEARCH (TAG) REMOVEFROM (0 3)\n* ESEARCH (TAG) UID REMOVEFROM (0 3)\n* EXPUNGED 3\nT OK');
  assert.equal(at('NOOP', 3), '* 6 EXISTS\n* ESEARCH (TAG) ADDTO (0 6)\n* ESEARCH (TAG) UID ADDTO (0 7)\nT OK');
  assert.equal(at('CANCELUPDATE "nosuch"'), 'T NO');
  assert.equal(at('NOOP', 4), 'T OK', 'cancelled: no ESEARCH; the other one is not about seen flags');
  // CONTEXT=SORT by REVERSE SUBJECT: x, note 6, 5, 4, 2, 1; expunging message 1 (note 1) takes the last place away.
  assert.match(r[r.length - 5], /^\* ESEARCH \(TAG\) ALL 6,5,4,3,2,1\n/);
  assert.match(r[r.length - 2], /^\* ESEARCH \(TAG\) REMOVEFROM \(6 1\)\n/);
});

test('CONTEXT=SEARCH: the same script gives the same replies from us and from Dovecot', { timeout: 90_000 }, async (t) => {
  if (!dovecotAvailable()) return t.skip('dovecot is not installed (apt-get install dovecot-imapd)');
  // Not compared here: which session an appended message is \Recent in, the continuation's text,
  // and whether an unsolicited FETCH carries the UID (both are allowed).
  const normalise = (l: string) =>
    l.replace(/\[APPENDUID \d+/, '[APPENDUID V').replace(/^\+ .*/, '+').replace(/^\* \d+ RECENT$/, '').replace(/^(\* \d+ FETCH \()UID \d+ /, '$1');
  const diffs = await differential(seed, SCRIPT, normalise);
  assert.deepEqual(diffs.filter((d) => !/^\d+ (2> )?SELECT /.test(d)), []);
});
