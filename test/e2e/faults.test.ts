// A fault in one message or one folder is a NO for that command, never the
// end of the session (issue "Hostile input, faults and races", part B).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { serveTree, deliver } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

test('an unreadable message file is NO [NOPERM] for the commands that read it; the session and the other messages go on', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: the server runs as vmail and the file must be unreadable to it');
  const { tree, server } = await serveTree(t, async (tree) => {
    await deliver(tree.maildir('bob'), 'Subject: one\n\nfirst\n');
    await deliver(tree.maildir('bob'), 'Subject: two\n\nsecond\n');
  });
  const c = await RawImap.connect(server.port);
  t.after(() => c.close());
  await c.command('a', 'LOGIN bob bob-pass');
  await c.command('b', 'SELECT INBOX');
  const cur = path.join(tree.maildir('bob'), 'cur');
  const first = (await fs.readdir(cur)).sort()[0];
  await fs.chmod(path.join(cur, first), 0);
  for (const cmd of ['FETCH 1 BODY.PEEK[]', 'FETCH 1:* BODY.PEEK[HEADER]', 'SEARCH SUBJECT one']) {
    assert.match(await c.command('x', cmd), /^x NO \[NOPERM\] /m, cmd);
  }
  assert.match(await c.command('y', 'FETCH 2 BODY.PEEK[]'), /second[\s\S]*^y OK/m);
  assert.match(await c.command('z', 'NOOP'), /^z OK/m);
  const warned = server.stdout().split('\n').filter((l) => l.includes('command failed on a file-system error'));
  assert.ok(warned.length >= 3);
  const line = JSON.parse(warned[0]) as { user: string; mailbox: string; err: string };
  assert.equal(line.user, 'bob');
  assert.equal(line.mailbox, 'INBOX');
  assert.ok(line.err.includes(first), 'the log names the file');
});
