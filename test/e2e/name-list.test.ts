// The persisted name list across real restarts (issue 14): SIGTERM writes it;
// what changed while the server was down (a delivery, a flag renamed by a
// script, an rm) is there after the restart, for STATUS and SELECT alike; a
// damaged list is read around; after kill -9 the folder is as on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer, deliver, type RunningServer } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';
import { NAME_LIST_FILE, parseNameList } from '../../src/mail/name-list.js';

async function session(server: RunningServer, commands: string[]): Promise<string[]> {
  const c = await RawImap.connect(server.port);
  try {
    await c.command('a', 'LOGIN bob bob-pass');
    const out: string[] = [];
    for (const [i, cmd] of commands.entries()) out.push(await c.command(`c${i}`, cmd));
    await c.command('z', 'LOGOUT');
    return out;
  } finally {
    c.close();
  }
}

test('changes made while the server was down are seen after the restart; the list is rewritten at SIGTERM', async (t) => {
  const tree = await makeMailTree();
  const inbox = tree.maildir('bob');
  for (let i = 1; i <= 4; i++) await deliver(inbox, `Subject: m${i}\nMessage-ID: <m${i}@test>\n\nbody ${i}\n`);
  let server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  await session(server, ['SELECT INBOX', 'UID STORE 1 +FLAGS (\\Seen)']);
  assert.equal(await server.stop(), 0);
  const list = parseNameList(await fs.readFile(path.join(inbox, NAME_LIST_FILE)));
  assert.ok(list, 'SIGTERM left a name list that checks out');
  assert.deepEqual(list.messages.map((m) => m.uid), [1, 2, 3, 4]);

  // While down: a delivery, UID 2 flagged by a script, UID 3 removed.
  await deliver(inbox, 'Subject: m5\nMessage-ID: <m5@test>\n\nbody 5\n');
  const cur = await fs.readdir(path.join(inbox, 'cur'));
  const two = list.messages.find((m) => m.uid === 2)!.filename;
  const three = list.messages.find((m) => m.uid === 3)!.filename;
  assert.ok(cur.includes(two) && cur.includes(three));
  await fs.rename(path.join(inbox, 'cur', two), path.join(inbox, 'cur', `${two.replace(/:2,.*$/, '')}:2,F`));
  await fs.unlink(path.join(inbox, 'cur', three));

  server = await startServer(tree);
  const [status] = await session(server, ['STATUS INBOX (MESSAGES UIDNEXT UNSEEN)']);
  assert.match(status, /\* STATUS INBOX \(MESSAGES 4 UIDNEXT 6 UNSEEN 3\)/);
  await server.stop();
  server = await startServer(tree);
  const [select, fetch] = await session(server, ['SELECT INBOX', 'UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])']);
  assert.match(select, /\* 4 EXISTS/);
  const rows = [...fetch.matchAll(/UID (\d+) FLAGS \(([^)]*)\)[^]*?Subject: (m\d)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
  assert.deepEqual(rows, ['1 \\Seen m1', '2 \\Flagged m2', '4  m4', '5 \\Recent m5']);
});

test('a damaged list and a kill -9 both end in a folder as on disk, UIDs kept', async (t) => {
  const tree = await makeMailTree();
  const inbox = tree.maildir('bob');
  for (let i = 1; i <= 3; i++) await deliver(inbox, `Subject: k${i}\n\nbody ${i}\n`);
  let server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  await session(server, ['SELECT INBOX']);
  await server.stop();
  const file = path.join(inbox, NAME_LIST_FILE);
  const text = await fs.readFile(file, 'utf8');
  await fs.writeFile(file, text.slice(0, Math.floor(text.length / 2)));
  await deliver(inbox, 'Subject: k4\n\nbody 4\n');
  server = await startServer(tree);
  const [s1] = await session(server, ['STATUS INBOX (MESSAGES UIDNEXT)']);
  assert.match(s1, /MESSAGES 4 UIDNEXT 5/);
  await server.kill9(); // no list written at this stop: the old (torn) one stays
  await deliver(inbox, 'Subject: k5\n\nbody 5\n');
  server = await startServer(tree);
  const [, fetch] = await session(server, ['SELECT INBOX', 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])']);
  assert.deepEqual([...fetch.matchAll(/UID (\d+) BODY\[[^]*?Subject: (k\d)/g)].map((m) => `${m[1]} ${m[2]}`), ['1 k1', '2 k2', '3 k3', '4 k4', '5 k5']);
});
