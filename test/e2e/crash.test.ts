// kill -9 in the middle of a burst of deliveries: after a restart every
// message is there exactly once, UIDs are unique and increasing, and no UID
// handed out before the crash changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { makeMailTree, startServer, deliver } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

const TOTAL = 500;

function uidMap(uidlist: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of uidlist.split('\n').slice(1)) {
    const m = /^(\d+)(?: \S+)* :(.+)$/.exec(line);
    if (m) map.set(m[2], Number(m[1]));
  }
  return map;
}

test('kill -9 during 500 deliveries loses and duplicates nothing', async (t) => {
  const tree = await makeMailTree();
  const inbox = tree.maildir('bob');
  let server = await startServer(tree);
  // One hook, in order: the server must be gone before its tree is removed.
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const c = await RawImap.connect(server.port);
  await c.command('a', 'LOGIN bob bob-pass');
  await c.command('b', 'SELECT INBOX');
  c.send('c IDLE\r\n');
  await c.readUntil('+ idling\r\n');

  const names: string[] = [];
  for (let i = 0; i < TOTAL; i++) {
    names.push(await deliver(inbox, `Subject: burst ${i}\nMessage-ID: <b${i}@test>\n\nmessage ${i}\n`));
    if (i === Math.floor(TOTAL / 2)) {
      await server.kill9(); // mid-burst: deliveries go on while it is down
      // Had it died holding the uidlist lock, the lock names it: the restart must take it over at once, not wait 120 s.
      await fs.writeFile(path.join(inbox, 'dovecot-uidlist.lock'), `${server.proc.pid}:${os.hostname()}\n`);
    }
  }
  c.close();
  const before = uidMap(await fs.readFile(path.join(inbox, 'dovecot-uidlist'), 'utf8'));
  assert.ok(before.size > 0, 'the server had assigned UIDs before it died');

  server = await startServer(tree);
  const d = await RawImap.connect(server.port);
  t.after(() => d.close());
  await d.command('a', 'LOGIN bob bob-pass');
  const sel = await d.command('b', 'SELECT INBOX');
  assert.match(sel, new RegExp(`\\* ${TOTAL} EXISTS`));
  const out = await d.command('c', 'UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])');
  const uids = [...out.matchAll(/UID (\d+)/g)].map((m) => Number(m[1]));
  const ids = [...out.matchAll(/Message-ID: <b(\d+)@test>/g)].map((m) => Number(m[1]));
  assert.equal(uids.length, TOTAL);
  for (let i = 1; i < uids.length; i++) assert.ok(uids[i] > uids[i - 1], 'UIDs strictly increase');
  assert.equal(new Set(ids).size, TOTAL, 'every message exactly once');

  // UIDs given out before the crash were kept.
  const after = uidMap(await fs.readFile(path.join(inbox, 'dovecot-uidlist'), 'utf8'));
  for (const [name, uid] of before) if (names.includes(name)) assert.equal(after.get(name), uid, `${name} kept UID ${uid}`);
  const files = [...(await fs.readdir(path.join(inbox, 'cur'))), ...(await fs.readdir(path.join(inbox, 'new')))];
  assert.equal(files.length, TOTAL);
});
