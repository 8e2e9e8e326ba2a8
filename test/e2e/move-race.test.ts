// Two sessions MOVE the same messages at once (issue "Hostile input, faults
// and races", C.9): each message ends in exactly one folder, once, and the
// MOVE that lost the race answers NO (or moves nothing) instead of copying.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { serveTree, deliver } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

async function messagesIn(maildir: string): Promise<string[]> {
  const out: string[] = [];
  for (const folder of ['', '.Trash', '.Archive']) {
    for (const sub of ['cur', 'new']) {
      const dir = path.join(maildir, folder, sub);
      for (const f of await fs.readdir(dir).catch(() => [])) out.push((await fs.readFile(path.join(dir, f), 'utf8')).match(/^Subject: (.*)$/m)![1]);
    }
  }
  return out.sort();
}

for (const [a, b] of [
  ['Trash', 'Trash'],
  ['Trash', 'Archive'],
]) {
  test(`UID MOVE 1:* to ${a} and to ${b} at once: every message once, in one folder`, async (t) => {
    const { tree, server } = await serveTree(t, async (tree) => {
      for (let i = 0; i < 20; i++) await deliver(tree.maildir('bob'), `Subject: m${String(i).padStart(2, '0')}\n\nbody ${i}\n`);
    });
    const maildir = tree.maildir('bob');
    for (let round = 0; round < 3; round++) {
      const [c1, c2] = await Promise.all([RawImap.connect(server.port), RawImap.connect(server.port)]);
      for (const c of [c1, c2]) {
        await c.command('l', 'LOGIN bob bob-pass');
        await c.command('s', round === 0 ? 'SELECT INBOX' : `SELECT ${a}`);
      }
      if (round > 0) {
        // Back to INBOX for the next round, from the one folder that holds them all.
        const where = (await messagesIn(maildir)).length;
        assert.equal(where, 20);
      }
      const target = (c: RawImap, to: string) => c.command('m', `UID MOVE 1:* ${to}`);
      const [r1, r2] = await Promise.all([target(c1, round === 0 ? a : 'INBOX'), target(c2, round === 0 ? b : 'INBOX')]);
      for (const r of [r1, r2]) assert.match(r, /^m (OK|NO)/m);
      const subjects = await messagesIn(maildir);
      assert.deepEqual(subjects, Array.from({ length: 20 }, (_, i) => `m${String(i).padStart(2, '0')}`), `round ${round}: ${r1} / ${r2}`);
      c1.close();
      c2.close();
      if (round === 0 && a !== b) break; // the messages are split over two folders now
    }
  });
}
