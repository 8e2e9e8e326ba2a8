// CONDSTORE and QRESYNC (RFC 7162) against the real server process: modseqs
// that survive a restart, a QRESYNC SELECT that reports exactly what changed
// while the client was away, CHANGEDSINCE, UNCHANGEDSINCE, SEARCH MODSEQ,
// and VANISHED replacing EXPUNGE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { makeMailTree, startServer, deliver, type RunningServer } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

async function login(port: number): Promise<RawImap> {
  const c = await RawImap.connect(port);
  await c.command('l', 'LOGIN bob bob-pass');
  return c;
}

const num = (text: string, re: RegExp): number => {
  const m = re.exec(text);
  assert.ok(m, `${re} in ${JSON.stringify(text)}`);
  return Number(m[1]);
};

test('QRESYNC after a restart reports exactly what changed while the client was away', async (t) => {
  const tree = await makeMailTree();
  const inbox = tree.maildir('bob');
  for (let i = 1; i <= 4; i++) await deliver(inbox, `Subject: m${i}\n\nbody ${i}\n`);
  let server: RunningServer = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });

  // The client's last session: it remembers UIDVALIDITY and HIGHESTMODSEQ.
  const a = await login(server.port);
  assert.match(await a.command('e', 'ENABLE QRESYNC'), /^\* ENABLED QRESYNC\r\n/);
  const sel = await a.command('s', 'SELECT INBOX');
  const validity = num(sel, /UIDVALIDITY (\d+)/);
  const h0 = num(sel, /\[HIGHESTMODSEQ (\d+)\]/);
  const f = await a.command('f', 'UID FETCH 1:* (FLAGS MODSEQ)');
  assert.equal([...f.matchAll(/MODSEQ \((\d+)\)/g)].length, 4);
  a.close();

  // While it is away: a flag change, an expunge, a delivery — and a server restart.
  const b = await login(server.port);
  await b.command('s', 'SELECT INBOX');
  await b.command('a', 'UID STORE 2 +FLAGS (\\Flagged)');
  await b.command('b', 'UID STORE 3 +FLAGS (\\Deleted)');
  await b.command('c', 'EXPUNGE');
  b.close();
  await deliver(inbox, 'Subject: m5\n\nbody 5\n');
  await new Promise((r) => setTimeout(r, 100));
  await server.stop();
  server = await startServer(tree);

  const c = await login(server.port);
  await c.command('e', 'ENABLE QRESYNC');
  const re = await c.command('s', `SELECT INBOX (QRESYNC (${validity} ${h0} 1:4))`);
  assert.match(re, /\* VANISHED \(EARLIER\) 3\r\n/);
  const changed = [...re.matchAll(/\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) MODSEQ \((\d+)\)\)/g)].map((m) => [Number(m[1]), m[2], Number(m[3])] as const);
  assert.deepEqual(changed.map(([uid]) => uid), [2, 5], 'only the changed and the new message');
  assert.match(changed[0][1], /\\Flagged/);
  for (const [, , modseq] of changed) assert.ok(modseq > h0);
  const h1 = num(re, /\[HIGHESTMODSEQ (\d+)\]/);
  assert.ok(h1 > h0, 'HIGHESTMODSEQ rose');

  // CHANGEDSINCE: the same answer by FETCH; and with VANISHED, the expunge too.
  const since = await c.command('f', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${h0} VANISHED)`);
  assert.match(since, /^\* VANISHED \(EARLIER\) 3\r\n/);
  assert.deepEqual([...since.matchAll(/UID (\d+)/g)].map((m) => Number(m[1])), [2, 5]);
  assert.match(since, /MODSEQ \(\d+\)/);

  // SEARCH MODSEQ, with the highest modseq of the result.
  // RFC 7162 §3.1.5: the highest modseq of the messages found (HIGHESTMODSEQ may be above it: after a
  // restart it starts past the block reserved before the stop, whether or not a message got one since).
  const found = await c.command('q', `UID SEARCH MODSEQ ${h0 + 1}`);
  const top = Math.max(...changed.map(([, , modseq]) => modseq));
  assert.ok(top <= h1);
  assert.match(found, new RegExp(`^\\* SEARCH 2 5 \\(MODSEQ ${top}\\)\\r\\n`));

  // STATUS HIGHESTMODSEQ agrees.
  assert.match(await c.command('t', 'STATUS INBOX (HIGHESTMODSEQ)'), new RegExp(`HIGHESTMODSEQ ${h1}\\)`));
  c.close();
});

test('UNCHANGEDSINCE refuses a stale STORE with MODIFIED; VANISHED replaces EXPUNGE for an idling QRESYNC client', async (t) => {
  const tree = await makeMailTree();
  const inbox = tree.maildir('bob');
  for (let i = 1; i <= 3; i++) await deliver(inbox, `Subject: m${i}\n\nbody ${i}\n`);
  const server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const a = await login(server.port);
  await a.command('e', 'ENABLE QRESYNC');
  await a.command('s', 'SELECT INBOX');
  const m2 = num(await a.command('f', 'UID FETCH 2 (MODSEQ)'), /MODSEQ \((\d+)\)/);

  const b = await login(server.port);
  await b.command('s', 'SELECT INBOX');
  await b.command('x', 'UID STORE 2 +FLAGS (\\Seen)');

  // A's view of message 2 is now stale.
  const stale = await a.command('u', `UID STORE 2 (UNCHANGEDSINCE ${m2}) +FLAGS (\\Flagged)`);
  assert.match(stale, /u OK \[MODIFIED 2\]/);
  assert.doesNotMatch(stale, /\\Flagged/);
  const now = num(await a.command('g', 'UID FETCH 2 (MODSEQ)'), /MODSEQ \((\d+)\)/);
  assert.ok(now > m2);
  const ok = await a.command('v', `UID STORE 2 (UNCHANGEDSINCE ${now}) +FLAGS (\\Flagged)`);
  assert.match(ok, /\* 2 FETCH \(UID 2 FLAGS \([^)]*\\Flagged[^)]*\) MODSEQ \((\d+)\)\)\r\nv OK/);

  a.send('i IDLE\r\n');
  await a.readUntil('+ idling\r\n');
  await b.command('d', 'UID STORE 1 +FLAGS (\\Deleted)');
  await b.command('y', 'UID EXPUNGE 1');
  // B's STORE reaches A first (with its MODSEQ), then the expunge, as VANISHED by UID.
  assert.match(await a.readUntil('* VANISHED 1\r\n'), /^\* 1 FETCH \(UID 1 MODSEQ \(\d+\) FLAGS \([^)]*\\Deleted[^)]*\)\)\r\n\* VANISHED 1\r\n$/);
  a.send('DONE\r\n');
  await a.readUntil(/i OK[^\r]*\r\n/);
  a.close();
  b.close();
});

test('imapflow resyncs with QRESYNC after changes made while it was offline', async (t) => {
  const tree = await makeMailTree();
  const inbox = tree.maildir('bob');
  for (let i = 1; i <= 5; i++) await deliver(inbox, `Subject: m${i}\n\nbody ${i}\n`);
  const server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const opts = { host: '127.0.0.1', port: server.port, secure: false, auth: { user: 'bob', pass: 'bob-pass' }, logger: false as const, qresync: true };
  const first = new ImapFlow(opts);
  await first.connect();
  const box = await first.mailboxOpen('INBOX');
  const uidValidity = box.uidValidity;
  const modseq = box.highestModseq;
  assert.ok(modseq && modseq > 0n, 'HIGHESTMODSEQ is reported');
  await first.logout();

  const other = await login(server.port);
  await other.command('s', 'SELECT INBOX');
  await other.command('a', 'UID STORE 4 +FLAGS (\\Answered)');
  await other.command('b', 'UID STORE 1 +FLAGS (\\Deleted)');
  await other.command('c', 'UID EXPUNGE 1');
  other.close();

  const second = new ImapFlow(opts);
  const flags: Array<{ uid: number; flags: Set<string> }> = [];
  const vanished: number[] = [];
  second.on('flags', (d: { uid: number; flags: Set<string> }) => flags.push(d));
  second.on('expunge', (d: { uid?: number; vanished?: boolean }) => d.uid && vanished.push(d.uid));
  await second.connect();
  t.after(() => second.logout().catch(() => undefined));
  await second.mailboxOpen('INBOX', { changedSince: modseq!, uidValidity: uidValidity! });
  assert.deepEqual(vanished, [1]);
  assert.deepEqual(flags.map((f) => f.uid), [4]);
  assert.ok(flags[0].flags.has('\\Answered'));
  const changed = [];
  for await (const m of second.fetch('1:*', { flags: true, uid: true }, { uid: true, changedSince: modseq! })) changed.push(m.uid);
  assert.deepEqual(changed, [4]);
});
