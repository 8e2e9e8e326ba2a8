// The content cache under concurrent misses: many FETCHes of the same message
// at once each read it and store it under the same key. Storing must replace
// the entry's cost, not add to it, or the cache's count of its bytes grows
// past its budget for entries it no longer holds, and from then on it evicts
// everything it is given (every load reads the file again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Mailbox, settleOptions } from '../../src/mail/mailbox.js';
import { loadMessage } from '../../src/mail/content.js';
import { MailboxView } from '../../src/imap/tracker.js';

// The fixtures are written just before they are read: what is read of them may be kept at once.
settleOptions.ms = 0;

test('concurrent misses on one message leave it in the content cache', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'content-cache-'));
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, sub));
  // 200 KB: small enough to be kept whole; 400 loads of it are 80 MB, more than the 64 MB budget
  const body = `${'x'.repeat(99)}\n`.repeat(2000);
  await fs.writeFile(path.join(dir, 'cur', '1700000001.m1.host:2,S'), `Subject: big\nFrom: a@x\n\n${body}`);
  const box = new Mailbox('INBOX', dir, pino({ level: 'silent' }), 60_000);
  t.after(async () => {
    await box.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  await MailboxView.open(box, true);
  const meta = box.all[0];
  const loads = await Promise.all(Array.from({ length: 400 }, () => loadMessage(box, meta)));
  assert.equal(loads[0].data?.length, loads[0].vsize);
  const first = await loadMessage(box, meta);
  const second = await loadMessage(box, meta);
  assert.equal(second, first, 'the second load was answered from the cache');
});
