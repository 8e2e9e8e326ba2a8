// A message file written slowly straight into new/ (a script that skips
// tmp/; issue "Hostile input, faults and races", C.11): the size read while
// it was half written must never be kept — not as W in dovecot-uidlist, not
// in the index, not in a cache — so RFC822.SIZE always equals the length of
// the BODY[] literal, in this session and after a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer, type RunningServer } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

/** RFC822.SIZE and the BODY[] literal's length, from one FETCH response. */
function sizes(out: string): { size: number; literal: number; body: string } {
  const m = /RFC822\.SIZE (\d+) BODY\[\] \{(\d+)\}\r\n/.exec(out);
  assert.ok(m, out);
  const start = m.index + m[0].length;
  return { size: Number(m[1]), literal: Number(m[2]), body: out.slice(start, start + Number(m[2])) };
}

test('a message written in two parts straight into new/: its size is not taken from the first part, not pushed, persisted or cached', async (t) => {
  const part1 = 'From: a@example.org\nSubject: slow\n\n';
  const part2 = 'the rest of the message, written later\nline two\n';
  const full = (part1 + part2).replace(/\n/g, '\r\n');
  const tree = await makeMailTree();
  const servers: RunningServer[] = [];
  // One hook: every server stops before the tree goes.
  t.after(async () => {
    for (const s of servers) await s.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const server = await startServer(tree);
  servers.push(server);
  const bob = tree.maildir('bob');
  const c = await RawImap.connect(server.port);
  t.after(() => c.close());
  await c.command('a', 'LOGIN bob bob-pass');
  await c.command('b', 'SELECT INBOX');
  c.send('c IDLE\r\n');
  await c.readUntil('+ idling');

  const file = path.join(bob, 'new', `${Math.floor(Date.now() / 1000)}.M1P1.slowwriter`);
  const fh = await fs.open(file, 'wx');
  t.after(() => fh.close().catch(() => undefined));
  await fh.write(part1);
  // The idling session hears of it while it is half written.
  await c.readUntil(/\* 1 EXISTS\r\n/);
  c.send('DONE\r\n');
  await c.readUntil(/^c OK[^\r]*\r\n/m);
  // Asked now, the server answers what is there now (consistently), and keeps none of it.
  const early = sizes(await c.command('d', 'FETCH 1 (RFC822.SIZE BODY.PEEK[])'));
  assert.equal(early.size, early.literal);
  assert.match(await c.command('e', 'FETCH 1 (ENVELOPE BODYSTRUCTURE INTERNALDATE)'), /^e OK/m);
  await new Promise((r) => setTimeout(r, 300));
  await fh.write(part2);
  await fh.close();

  const later = sizes(await c.command('f', 'FETCH 1 (RFC822.SIZE BODY.PEEK[])'));
  assert.equal(later.literal, Buffer.byteLength(full), 'the whole message is served');
  assert.equal(later.size, later.literal, 'RFC822.SIZE is the size of the BODY[] literal');
  assert.equal(later.body, full);
  assert.match(await c.command('g', 'SEARCH BODY "line two"'), /^\* SEARCH 1\r\n/m);
  // The uidlist has no size for it, or the right one.
  const listed = (await fs.readFile(path.join(bob, 'dovecot-uidlist'), 'utf8')).split('\n').find((l) => l.includes('slowwriter'));
  assert.ok(listed, 'the message has its UID on disk');
  const w = / W(\d+) /.exec(listed);
  assert.ok(!w || Number(w[1]) === Buffer.byteLength(full), `uidlist record: ${listed}`);

  // Once settled the size is kept: after a restart (uidlist, index) it is still the whole message's.
  await new Promise((r) => setTimeout(r, 2200));
  assert.equal(sizes(await c.command('h', 'FETCH 1 (RFC822.SIZE BODY.PEEK[])')).size, Buffer.byteLength(full));
  await c.command('i', 'LOGOUT');
  await server.stop();
  const again = await startServer(tree);
  servers.push(again);
  const c2 = await RawImap.connect(again.port);
  t.after(() => c2.close());
  await c2.command('a', 'LOGIN bob bob-pass');
  await c2.command('b', 'SELECT INBOX');
  assert.match(await c2.command('c', 'FETCH 1 (RFC822.SIZE)'), new RegExp(`RFC822\\.SIZE ${Buffer.byteLength(full)}\\)`));
  const both = sizes(await c2.command('d', 'FETCH 1 (RFC822.SIZE BODY.PEEK[])'));
  assert.equal(both.size, Buffer.byteLength(full));
  assert.equal(both.literal, Buffer.byteLength(full));
});
