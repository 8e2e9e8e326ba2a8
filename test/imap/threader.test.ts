// THREAD runs over interned numbers in typed arrays (search/thread.ts); its
// answers must be the object-based algorithms' (thread-oracle.ts) on every
// kind of mailbox: duplicate and missing Message-IDs, reference loops,
// missing parents, same subjects, equal dates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadData, type ThreadAlgorithm } from '../../src/imap/search/thread.js';
import { ThreadInput, type ThreadMsg } from '../../src/imap/search/thread-input.js';
import { ALGORITHMS, formatThreads } from './thread-oracle.js';
import { baseSubject } from '../../src/wire/base-subject.js';

function corpus(n: number, seed: number): ThreadMsg[] {
  const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % k);
  const subjects = ['topic', 'Lunch', 'lunch', '', 'Re:', 'Grüße', '[list] topic', 'hello world'];
  const idOf = (i: number) => `m${i}@x`;
  const msgs: ThreadMsg[] = [];
  for (let i = 1; i <= n; i++) {
    const refs: string[] = [];
    const kind = rnd(6);
    if (kind === 0 && i > 1) {
      const parent = 1 + rnd(i - 1);
      refs.push(...msgs[parent - 1].references.slice(-4), msgs[parent - 1].messageId ?? idOf(parent));
    } else if (kind === 1) {
      for (let k = rnd(4); k >= 0; k--) refs.push(rnd(4) === 0 ? `gone${rnd(8)}@x` : idOf(1 + rnd(n))); // forwards, loops, missing
    } else if (kind === 2) refs.push(idOf(i)); // itself
    const base = subjects[rnd(subjects.length)];
    const prefix = ['', 'Re: ', 'Fwd: ', 'RE: re: '][rnd(4)];
    msgs.push({
      id: 1000 + i,
      seq: i,
      date: rnd(10) === 0 ? 0 : 1_600_000_000_000 + rnd(50) * 60_000, // many equal dates
      subject: baseSubject(prefix + base),
      messageId: rnd(15) === 0 ? null : rnd(15) === 0 ? idOf(1 + rnd(i)) : idOf(i), // missing and duplicate ids
      references: rnd(5) === 0 ? [] : refs,
      inReplyTo: rnd(3) === 0 ? idOf(1 + rnd(n)) : null,
    });
  }
  return msgs;
}

test('THREAD over numbers answers exactly as the object-based algorithms (REFERENCES, REFS, ORDEREDSUBJECT; 200 mailboxes)', async () => {
  for (let seed = 1; seed <= 200; seed++) {
    const msgs = corpus(1 + (seed % 7) * (seed % 13) * 7, seed);
    for (const alg of ['REFERENCES', 'REFS', 'ORDEREDSUBJECT'] as ThreadAlgorithm[]) {
      const want = formatThreads(ALGORITHMS[alg](msgs));
      assert.equal(await threadData(alg, ThreadInput.of(msgs)), want, `${alg} seed ${seed} (${msgs.length} messages)`);
    }
  }
});

test('THREAD of 5,000 messages matches too, and of none is empty', async () => {
  const msgs = corpus(5000, 42);
  for (const alg of ['REFERENCES', 'REFS', 'ORDEREDSUBJECT'] as ThreadAlgorithm[])
    assert.equal(await threadData(alg, ThreadInput.of(msgs)), formatThreads(ALGORITHMS[alg](msgs)), alg);
  assert.equal(await threadData('REFERENCES', new ThreadInput()), '');
});

test('a reply chain 60,000 deep threads without overflowing the stack, and the event loop gets turns meanwhile', async () => {
  const n = 60_000;
  const msgs: ThreadMsg[] = [];
  for (let i = 1; i <= n; i++)
    msgs.push({ id: i, seq: i, date: i, subject: baseSubject('Re: deep'), messageId: `d${i}@x`, references: i > 1 ? [`d${i - 1}@x`] : [], inReplyTo: null });
  let turns = 0;
  const timer = setInterval(() => turns++, 1);
  const text = await threadData('REFERENCES', ThreadInput.of(msgs));
  clearInterval(timer);
  assert.equal(text, `(${Array.from({ length: n }, (_, i) => i + 1).join(' ')})`);
  assert.ok(turns > 0, 'the timer never ran while threading');
});
