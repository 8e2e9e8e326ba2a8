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

/** Every message's subject in every folder of a Maildir, one entry per file. */
async function subjectsIn(maildir: string, folders: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const folder of folders) {
    for (const sub of ['cur', 'new']) {
      const dir = path.join(maildir, folder, sub);
      for (const f of await fs.readdir(dir).catch(() => [] as string[])) {
        const text = await fs.readFile(path.join(dir, f), 'utf8').catch(() => '');
        out.push(/^Subject: (.*)$/m.exec(text)?.[1] ?? `?${f}`);
      }
    }
  }
  return out.sort();
}

test('kill -9 during a storm of MOVEs between three folders: every message in exactly one place (issue "Hostile input", C.10)', async (t) => {
  const COUNT = 40;
  const ROUNDS = 12;
  const tree = await makeMailTree();
  const inbox = tree.maildir('bob');
  const expected: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const subject = `storm ${String(i).padStart(2, '0')}`;
    expected.push(subject);
    await deliver(inbox, `Subject: ${subject}\n\nbody ${i}\n`);
  }
  for (const f of ['.Trash', '.Archive']) for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(inbox, f, sub), { recursive: true });
  let server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const folders = ['INBOX', 'Trash', 'Archive'];
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  for (let round = 0; round < ROUNDS; round++) {
    // Two sessions move messages around until the server is killed under them.
    const movers = [0, 1].map(async () => {
      const c = await RawImap.connect(server.port).catch(() => null);
      if (!c) return;
      try {
        await c.command('l', 'LOGIN bob bob-pass');
        for (;;) {
          const from = folders[rnd(3)];
          const to = folders[rnd(3)];
          await c.command('s', `SELECT ${from}`);
          await c.command('m', `UID MOVE 1:* ${to}`);
        }
      } catch {
        // the server died: this round is over
      } finally {
        c.close();
      }
    });
    await new Promise((r) => setTimeout(r, 100 + rnd(400)));
    await server.kill9();
    await Promise.all(movers);
    server = await startServer(tree);
  }
  const c = await RawImap.connect(server.port);
  await c.command('l', 'LOGIN bob bob-pass');
  let seen = 0;
  for (const f of folders) {
    const out = await c.command('s', `SELECT ${f}`);
    seen += Number(/^\* (\d+) EXISTS/m.exec(out)![1]);
    const uids = [...(await c.command('u', 'UID SEARCH ALL')).matchAll(/\d+/g)].map(Number);
    assert.equal(new Set(uids).size, uids.length, `${f}: UIDs unique`);
  }
  c.close();
  assert.equal(seen, COUNT, 'the server sees every message once');
  assert.deepEqual(await subjectsIn(inbox, ['', '.Trash', '.Archive']), expected, 'every message on disk exactly once');
});
