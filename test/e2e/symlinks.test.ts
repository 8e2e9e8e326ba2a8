// Symbolic links in a Maildir are never followed (issue "Hostile input",
// D.15): a folder `.Evil -> ../alice/Maildir` planted in bob's Maildir, or a
// link in cur/ to another file, gives bob nothing of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { serveTree, deliver } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

test('a folder that is a symlink to another user\'s Maildir is not a folder; a message file that is a symlink is not a message', async (t) => {
  const secret = 'Subject: alice only\n\nthe secret\n';
  const { server } = await serveTree(t, async (tree) => {
    await deliver(tree.maildir('alice'), secret);
    await deliver(tree.maildir('bob'), 'Subject: bob one\n\nhello\n');
    const bob = tree.maildir('bob');
    await fs.symlink(tree.maildir('alice'), path.join(bob, '.Evil'));
    // A real folder whose cur/ is a link to alice's.
    await fs.mkdir(path.join(bob, '.Sneaky'));
    await fs.symlink(path.join(tree.maildir('alice'), 'new'), path.join(bob, '.Sneaky', 'cur'));
    // A message file that is a link to alice's message.
    const [aliceFile] = await fs.readdir(path.join(tree.maildir('alice'), 'new'));
    await fs.symlink(path.join(tree.maildir('alice'), 'new', aliceFile), path.join(bob, 'new', '1700000000.M1P1.planted'));
  });
  const c = await RawImap.connect(server.port);
  t.after(() => c.close());
  await c.command('a', 'LOGIN bob bob-pass');
  const list = await c.command('b', 'LIST "" "*"');
  assert.doesNotMatch(list, /Evil|Sneaky/);
  assert.match(await c.command('c', 'SELECT Evil'), /^c NO \[NONEXISTENT\]/m);
  assert.match(await c.command('d', 'SELECT Sneaky'), /^d NO \[NONEXISTENT\]/m);
  assert.match(await c.command('e', 'STATUS Evil (MESSAGES)'), /^e NO /m);
  const inbox = await c.command('f', 'SELECT INBOX');
  assert.match(inbox, /^\* 1 EXISTS/m, 'the planted link is not a message');
  const all = await c.command('g', 'FETCH 1:* BODY.PEEK[]');
  assert.doesNotMatch(all, /secret/);
});
