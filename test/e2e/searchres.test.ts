// SEARCHRES (RFC 5182) against the real server process, and the same script
// against Dovecot on the same messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { makeMailTree, startServer, type MailTree } from '../support/server.js';
import { dovecotAvailable } from '../support/dovecot.js';
import { differential, seedInOrder, runScript } from '../support/peer-diff.js';

async function seed(tree: MailTree): Promise<void> {
  const notes = Array.from({ length: 6 }, (_, k) => k + 1).map(
    (i) => `From: u${i % 3}@example.org\nSubject: note ${i}\nDate: ${10 - i} Dec 2026 10:00:00 +0000\nMessage-ID: <n${i}@example.org>\n\nbody ${i}\n`,
  );
  await seedInOrder(tree, notes);
}

/** RFC 5182 §2.2's examples, in our words: SAVE, then "$" in FETCH, STORE, COPY, MOVE, SEARCH; expunges; reset by SELECT. */
const SCRIPT = [
  'CREATE Keep',
  'SELECT INBOX',
  'FETCH $ UID', // §2.1: empty before any SAVE
  'SEARCH RETURN (SAVE) FROM u1', // §2.1: SAVE alone, no response
  'FETCH $ (UID FLAGS)',
  'UID FETCH $ UID',
  'SEARCH $',
  'UID SEARCH UID $',
  'SEARCH RETURN (SAVE MIN) FROM u2', // §2.4
  'SEARCH $',
  'SEARCH RETURN (SAVE MAX COUNT) FROM u2',
  'SEARCH $',
  'SEARCH RETURN (SAVE) OR $ 1',
  'SEARCH $',
  'STORE $ +FLAGS (\\Flagged)',
  'COPY $ Keep',
  'FETCH 1,$ UID', // §3: "$" only alone
  'SEARCH RETURN (SAVE) BOGUS', // BAD: unchanged
  'SEARCH $',
  'SORT RETURN (SAVE) (DATE) UTF-8 FROM u0',
  'FETCH $ UID',
  'STORE $ +FLAGS.SILENT (\\Deleted)',
  'EXPUNGE',
  'FETCH $ UID', // expunged: gone from "$"
  'UID SEARCH RETURN (SAVE) 1:2',
  'UID MOVE $ Keep',
  'SEARCH $',
  'SEARCH RETURN (SAVE) ALL',
  'SELECT INBOX', // §2.1: reset
  'SEARCH $',
];

test('SEARCHRES on the real server: SAVE, "$" in FETCH/STORE/COPY/MOVE/SEARCH, expunges, SELECT resets (RFC 5182 §2.1, §2.2, §2.4)', { timeout: 30_000 }, async (t) => {
  const tree = await makeMailTree('mimapd-searchres-');
  await seed(tree);
  const server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const r = [...(await runScript(server.port, ['CAPABILITY', ...SCRIPT])).values()];
  assert.match(r[0], /^\* CAPABILITY [^\n]* SEARCHRES\b/);
  const at = (cmd: string, nth = 0) => r[1 + SCRIPT.map((c, i) => [c, i] as const).filter(([c]) => c === cmd)[nth][1]];
  assert.equal(at('FETCH $ UID', 0), 'T OK');
  assert.equal(at('SEARCH RETURN (SAVE) FROM u1'), 'T OK', 'no untagged reply to SAVE alone');
  assert.equal(at('UID FETCH $ UID'), '* 1 FETCH (UID 1)\n* 4 FETCH (UID 4)\nT OK');
  assert.equal(at('SEARCH $', 0), '* SEARCH 1 4\nT OK');
  assert.equal(at('SEARCH $', 1), '* SEARCH 2\nT OK', 'SAVE MIN keeps the minimum');
  assert.match(at('SEARCH $', 2), /^\* SEARCH 2 5\n/, 'SAVE with COUNT keeps all');
  assert.match(at('SEARCH $', 3), /^\* SEARCH 1 2 5\n/, '"$" inside the criteria of the SEARCH that saves');
  assert.match(at('COPY $ Keep'), /^T OK \[COPYUID \d+ 1:2,5 1:3\]$/);
  assert.match(at('FETCH 1,$ UID'), /^T BAD/);
  assert.match(at('SEARCH $', 4), /^\* SEARCH 1 2 5\n/, 'BAD leaves "$" as it was');
  assert.equal(at('FETCH $ UID', 1), '* 3 FETCH (UID 3)\n* 6 FETCH (UID 6)\nT OK');
  assert.equal(at('FETCH $ UID', 2), 'T OK', 'expunged messages drop out of "$"');
  assert.match(at('UID MOVE $ Keep'), /^\* OK \[COPYUID \d+ 1:2 4:5\]\n\* EXPUNGED 1,2\nT OK/);
  assert.equal(at('SEARCH $', 6), '* SEARCH\nT OK', 'SELECT empties "$"');
});

test('SEARCHRES: the same script gives the same replies from us and from Dovecot', { timeout: 90_000 }, async (t) => {
  if (!dovecotAvailable()) return t.skip('dovecot is not installed (apt-get install dovecot-imapd)');
  // The new folder's UIDVALIDITY differs by nature; SELECT's own reply is not what is compared here.
  const normalise = (l: string) => l.replace(/\[COPYUID \d+/, '[COPYUID V');
  const diffs = await differential(seed, SCRIPT, normalise);
  assert.deepEqual(diffs.filter((d) => !/^\d+ (SELECT|CREATE) /.test(d)), []);
});
