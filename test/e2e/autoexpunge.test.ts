// Autoexpunge with the real server: a session idling on Trash hears the
// expunge as it happens; a user who never logs in is cleaned too; a folder
// whose files have old mtimes (INTERNALDATE years ago) but arrived just now
// keeps them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { serveTree } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

const LONG_AGO = new Date('2020-01-01T00:00:00Z');

/** A Maildir++ folder with `n` messages whose mtime is 2020 (written now: their ctime is now). */
async function folderWithOldFiles(maildir: string, name: string, n: number, tag: string): Promise<void> {
  const dir = path.join(maildir, '.' + name);
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, sub), { recursive: true });
  await fs.writeFile(path.join(dir, 'maildirfolder'), '');
  for (let i = 1; i <= n; i++) {
    const f = path.join(dir, 'cur', `157788000${i}.${tag}${i}.host:2,S`);
    await fs.writeFile(f, `Subject: ${tag} ${i}\n\nold\n`);
    await fs.utimes(f, LONG_AGO, LONG_AGO);
  }
}

test('autoexpunge: the IDLE sessions on Trash hear EXPUNGE (and VANISHED with QRESYNC), a never-logged-in user is cleaned, old mtimes alone expunge nothing', async (t) => {
  const { tree, server } = await serveTree(
    t,
    async (tree) => {
      await folderWithOldFiles(tree.maildir('bob'), 'Old', 2, 'old');
      await folderWithOldFiles(tree.maildir('alice'), 'Trash', 2, 'alice');
    },
    ['--autoexpunge-trash', '3s', '--autoexpunge-folders', 'Old=1d', '--autoexpunge-interval', '1s'],
  );
  const c = await RawImap.connect(server.port);
  t.after(() => c.close());
  await c.command('a1', 'LOGIN bob bob-pass');
  assert.match(await c.command('a2', 'SELECT Trash'), /\* 0 EXISTS/);
  c.send('a3 IDLE\r\n');
  await c.readUntil('+ idling');
  // A second session of bob's with QRESYNC hears VANISHED instead (RFC 7162).
  const q = await RawImap.connect(server.port);
  t.after(() => q.close());
  await q.command('q1', 'LOGIN bob bob-pass');
  await q.command('q2', 'ENABLE QRESYNC');
  await q.command('q3', 'SELECT Trash');
  q.send('q4 IDLE\r\n');
  await q.readUntil('+ idling');
  await folderWithOldFiles(tree.maildir('bob'), 'Trash', 3, 'trash');
  await c.readUntil('* 3 EXISTS\r\n', 10_000);
  // Three seconds after they came into Trash (and within a run of the 1 s timer), they go.
  const expunges = await c.readUntil(/(\* 1 EXPUNGE\r\n[^]*){3}/, 20_000);
  assert.equal(expunges.match(/\* 1 EXPUNGE/g)?.length, 3);
  // Every UID vanished, in one VANISHED line or a few (a run may find some old enough a moment before the others).
  const vanished = new Set<number>();
  while (vanished.size < 3) {
    const line = await q.readUntil(/\* VANISHED [^\r]*\r\n/, 10_000);
    for (const part of /\* VANISHED (\S+)\r\n/.exec(line.slice(line.lastIndexOf('* VANISHED')))![1].split(',')) {
      const [a, b = a] = part.split(':').map(Number);
      for (let u = a; u <= b; u++) vanished.add(u);
    }
  }
  assert.deepEqual([...vanished].sort(), [1, 2, 3]);
  c.send('DONE\r\n');
  await c.readUntil(/a3 OK[^\r]*\r\n/);
  assert.deepEqual(await fs.readdir(path.join(tree.maildir('bob'), '.Trash', 'cur')), []);
  // 2020 mtimes, but they came into Old just now: a day's limit keeps them.
  assert.match(await c.command('a4', 'STATUS Old (MESSAGES)'), /\* STATUS Old \(MESSAGES 2\)/);
  assert.equal((await fs.readdir(path.join(tree.maildir('bob'), '.Old', 'cur'))).length, 2);
  // alice never logged in: her Trash is cleaned all the same.
  const aliceCur = path.join(tree.maildir('alice'), '.Trash', 'cur');
  for (let i = 0; i < 100 && (await fs.readdir(aliceCur)).length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(await fs.readdir(aliceCur), []);
  // …and no special folders were made for her by the housekeeping.
  assert.ok(!(await fs.stat(path.join(tree.maildir('alice'), '.Sent')).catch(() => null)));
  const lines = server
    .stdout()
    .split('\n')
    .filter((l) => l.includes('"msg":"autoexpunge"'))
    .map((l) => JSON.parse(l) as { user: string; folder: string; expunged: number; examined: number });
  assert.ok(lines.some((l) => l.user === 'bob' && l.folder === 'Trash' && l.expunged === 3), JSON.stringify(lines));
  assert.ok(lines.some((l) => l.user === 'alice' && l.folder === 'Trash' && l.expunged === 2), JSON.stringify(lines));
  assert.ok(lines.every((l) => !(l.folder === 'Old' && l.expunged > 0)), JSON.stringify(lines));
  await c.command('a5', 'LOGOUT');
});
