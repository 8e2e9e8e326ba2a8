// SAVEDATE (RFC 8514) on the real server process over a Maildir, and the same script against Dovecot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { makeMailTree, startServer, type MailTree } from '../support/server.js';
import { dovecotAvailable } from '../support/dovecot.js';
import { differential, seedInOrder, runScript } from '../support/peer-diff.js';

async function seed(tree: MailTree): Promise<void> {
  await seedInOrder(tree, [1, 2, 3].map((i) => `From: a@example.org\nSubject: s${i}\nDate: 1 Jan 2001 10:00:00 +0000\n\nbody ${i}\n`));
}

const day = (ms: number) => {
  const d = new Date(ms);
  return `${d.getDate()}-${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()]}-${d.getFullYear()}`;
};
const TODAY = day(Date.now());
const DATE_TIME = /"\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}"/g;

const SCRIPT = [
  'SELECT INBOX',
  'FETCH 1:* (SAVEDATE)',
  `SEARCH SAVEDSINCE ${TODAY}`,
  `SEARCH SAVEDON ${TODAY}`,
  'SEARCH SAVEDBEFORE 1-Jan-2000',
  'SEARCH SAVEDATESUPPORTED',
  'SEARCH OR SAVEDBEFORE 1-Jan-2000 SUBJECT s2',
  'UID FETCH 2 (UID SAVEDATE)',
];

test('SAVEDATE on a Maildir: today for what was just delivered, the same after a flag change (RFC 8514 §3, §4)', { timeout: 30_000 }, async (t) => {
  const tree = await makeMailTree('mimapd-savedate-');
  await seed(tree);
  const server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const r = [...(await runScript(server.port, [...SCRIPT, 'CAPABILITY'])).values()];
  assert.match(r[r.length - 1], / SAVEDATE\b/);
  const first = /^\* 1 FETCH \(SAVEDATE ("[^"]+")\)$/m.exec(r[1]);
  assert.ok(first, r[1]);
  const saved = Date.parse(first[1].slice(1, -1).replace(/^(\d+)-(\w+)-(\d+) /, '$2 $1 $3 '));
  assert.ok(Math.abs(saved - Date.now()) < 120_000, `${first[1]} is about now`);
  assert.equal(r[2], '* SEARCH 1 2 3\nT OK');
  assert.equal(r[4], '* SEARCH\nT OK');
  assert.equal(r[6], '* SEARCH 2\nT OK');
  // Past the second the first answer was in: a flag change renames the file (a new ctime), SAVEDATE stays.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const later = [...(await runScript(server.port, ['SELECT INBOX', 'STORE 1 +FLAGS (\\Flagged)', 'FETCH 1 SAVEDATE'])).values()];
  assert.ok(later[2].startsWith(`* 1 FETCH (SAVEDATE ${first[1]})\n`), `the same after STORE renamed the file: ${later[2]} vs ${first[1]}`);
});

test('SAVEDATE: the same script gives the same replies from us and from Dovecot (dates compared by shape)', { timeout: 90_000 }, async (t) => {
  if (!dovecotAvailable()) return t.skip('dovecot is not installed (apt-get install dovecot-imapd)');
  const diffs = await differential(seed, SCRIPT, (l) => l.replace(DATE_TIME, '"DATE-TIME"'));
  assert.deepEqual(diffs.filter((d) => !/^\d+ SELECT /.test(d)), []);
});
