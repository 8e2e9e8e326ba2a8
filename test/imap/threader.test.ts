// Big THREADs run in a worker thread; the answer must be the one computed in process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadData } from '../../src/imap/search/threader.js';
import { references, orderedSubject, formatThreads, type ThreadMsg } from '../../src/imap/search/thread.js';
import { baseSubject } from '../../src/wire/base-subject.js';

function corpus(n: number): ThreadMsg[] {
  let seed = 7;
  const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % k);
  const msgs: ThreadMsg[] = [];
  for (let i = 1; i <= n; i++) {
    const parent = i > 1 && rnd(3) === 0 ? 1 + rnd(i - 1) : 0;
    const refs = parent ? [...(msgs[parent - 1].references.slice(-5)), `m${parent}@x`] : rnd(20) === 0 ? [`gone${rnd(50)}@x`] : [];
    msgs.push({
      id: i,
      seq: i,
      date: 1_600_000_000_000 + rnd(1000) * 60_000,
      subject: baseSubject(parent ? `Re: topic ${parent % 97}` : `topic ${rnd(300)}`),
      messageId: rnd(50) === 0 ? null : `m${i}@x`,
      references: refs,
      inReplyTo: parent ? `m${parent}@x` : null,
    });
  }
  return msgs;
}

test('THREAD over 2,500 messages: the worker thread answers exactly as the in-process algorithms', async () => {
  const msgs = corpus(2500);
  assert.equal(await threadData('REFERENCES', msgs), formatThreads(references(msgs)));
  assert.equal(await threadData('ORDEREDSUBJECT', msgs), formatThreads(orderedSubject(msgs)));
  assert.equal(await threadData('REFERENCES', []), '');
});

test('the packed form the worker gets gives back the same messages (nulls, empty and non-ASCII strings, many references)', async () => {
  const { packThreadMsgs, unpackThreadMsgs } = await import('../../src/imap/search/thread-pack.js');
  const msgs = corpus(300);
  msgs.push({ id: 9001, seq: 301, date: -1, subject: baseSubject(''), messageId: null, references: [], inReplyTo: null });
  msgs.push({ id: 9002, seq: 302, date: 1e15, subject: baseSubject('Fwd: Grüße 😀 \u0000 aus Tokyo 東京'), messageId: '<a"b c"@x>', references: ['', '<x@y>', '<😀@z>'], inReplyTo: '' });
  assert.deepEqual(unpackThreadMsgs(packThreadMsgs(msgs)), msgs);
});
