// A fault in one message or one folder is a NO for that command, never the
// end of the session (issue "Hostile input, faults and races", part B).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { serveTree, deliver } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

test('an unreadable message file is NO [NOPERM] for the commands that read it; the other messages are answered and the session goes on', async (t) => {
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
  for (const cmd of ['FETCH 1 BODY.PEEK[]', 'FETCH 1:* BODY.PEEK[HEADER]', 'FETCH 1:* (FLAGS BODY.PEEK[])', 'SEARCH SUBJECT one']) {
    const out = await c.command('x', cmd);
    assert.match(out, /^x NO \[NOPERM\] /m, cmd);
    // A FETCH of several messages answers the readable ones (a client's sync must not loop on one bad file).
    if (cmd.startsWith('FETCH 1:*')) assert.match(out, /^\* 2 FETCH .*Subject: two/ms, cmd);
    assert.doesNotMatch(out, /^\* 1 FETCH/m, cmd);
  }
  assert.match(await c.command('y', 'FETCH 2 BODY.PEEK[]'), /second[\s\S]*^y OK/m);
  assert.match(await c.command('z', 'NOOP'), /^z OK/m);
  const lines = server
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; user?: string; mailbox?: string; file?: string; err?: string });
  const perFile = lines.filter((l) => l.msg === 'cannot read a message file');
  assert.ok(perFile.length >= 1 && perFile.every((l) => l.file?.endsWith(first)), 'the log names the file');
  const perCommand = lines.filter((l) => l.msg === 'messages could not be read' || l.msg === 'command failed on a file-system error');
  assert.equal(perCommand.length, 4, 'one line per command');
  assert.ok(perCommand.every((l) => l.user === 'bob' && l.mailbox === 'INBOX'));
});
