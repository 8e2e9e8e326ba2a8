// The facts cache: a second search over the same mailbox reads no file again,
// and the evaluator answers from a real Mailbox + view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Mailbox, settleOptions } from '../../src/mail/mailbox.js';
import { factsCache } from '../../src/mail/facts.js';
import { parseCriteria } from '../../src/wire/search-criteria.js';
import { searchView } from '../../src/imap/search/evaluate.js';
import { MailboxView } from '../../src/imap/tracker.js';

// The fixtures are written just before they are read: what is read of them may be kept at once.
settleOptions.ms = 0;

test('a second search is answered from the facts cache', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'search-facts-'));
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, sub));
  for (let i = 1; i <= 20; i++)
    await fs.writeFile(path.join(dir, 'cur', `17000000${String(i).padStart(2, '0')}.m${i}.host:2,${i % 2 ? 'S' : ''}`), `Subject: note ${i}\nFrom: u${i}@x\n\nbody number ${i} =C3=BC\n`);
  const box = new Mailbox('INBOX', dir, pino({ level: 'silent' }), 60_000);
  t.after(async () => {
    await box.close(); // close() writes the name list: the directory must not go first
    await fs.rm(dir, { recursive: true, force: true });
  });
  const view = await MailboxView.open(box, true);
  factsCache.clear();
  const key = parseCriteria([{ type: 'atom', value: 'TEXT' }, { type: 'string', value: Buffer.from('number 1'), literal: false }]);
  const before = factsCache.reads;
  const first = await searchView(view, key);
  const afterFirst = factsCache.reads;
  const second = await searchView(view, key);
  assert.deepEqual(first.map((c) => c.seq), [1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  assert.deepEqual(second.map((c) => c.seq), first.map((c) => c.seq));
  assert.ok(afterFirst - before >= 20, 'the first search read the files');
  assert.equal(factsCache.reads, afterFirst, 'the second search read no file');
  assert.ok(factsCache.bytes > 0);
  // a flag-only search never needs the files
  factsCache.clear();
  const reads = factsCache.reads;
  assert.equal((await searchView(view, parseCriteria([{ type: 'atom', value: 'SEEN' }]))).length, 10);
  assert.equal(factsCache.reads, reads);
  // AND: the cheap flag test runs first and spares the file reads of unseen messages
  assert.equal((await searchView(view, parseCriteria([{ type: 'atom', value: 'SUBJECT' }, { type: 'atom', value: 'note' }, { type: 'atom', value: 'UNSEEN' }]))).length, 10);
  assert.equal(factsCache.reads - reads, 10);
});

test('SORT (DATE) reads the index once: a second one sorts from the dates it kept, in the same order', async (t) => {
  const { collectSortData, sortBy } = await import('../../src/imap/search/sort.js');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sort-dates-'));
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, sub));
  // Date: headers out of arrival order; one without a Date (sorted by its INTERNALDATE, RFC 5256 §3).
  const days = [5, 1, 9, 3, 7, 2, 8, 4, 6, 0];
  for (const [i, d] of days.entries()) {
    const date = i === 4 ? '' : `Date: ${new Date(Date.UTC(2024, 0, 10 + d)).toUTCString()}\n`;
    await fs.writeFile(path.join(dir, 'cur', `17000000${String(i).padStart(2, '0')}.m${i}.host:2,`), `${date}Subject: n${i}\n\nbody\n`);
  }
  const box = new Mailbox('INBOX', dir, pino({ level: 'silent' }), 60_000);
  t.after(async () => {
    await box.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const view = await MailboxView.open(box, true);
  const cands = view.uidList.map((uid, i) => ({ uid, seq: i + 1, meta: view.meta(uid)! }));
  let reads = 0;
  const summaries = box.summaries.bind(box);
  box.summaries = (metas, pick) => (reads++, summaries(metas, pick));
  const order = async () => sortBy(await collectSortData(view, cands, new Set(['DATE'])), [{ key: 'DATE', reverse: false }]).map((d) => d.seq);
  const first = await order();
  assert.equal(reads, 1);
  assert.equal(first.length, 10);
  assert.deepEqual(first.filter((s) => s !== 5), [10, 2, 6, 4, 8, 1, 9, 7, 3], 'by Date: header');
  assert.deepEqual(await order(), first);
  assert.equal(reads, 1, 'the second SORT read no record');
  // SUBJECT needs the header values: those come from the index again.
  await collectSortData(view, cands, new Set(['SUBJECT']));
  assert.equal(reads, 2);
});
