// Two sessions on one folder stay consistent through a random mix of STORE,
// EXPUNGE, MOVE and delivery: each session's count, kept only from the
// untagged EXISTS/EXPUNGE it was sent, always matches the folder, and both
// see the same UIDs with the same flags as the files on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer, deliver } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

/** A small deterministic PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

class Session {
  count = 0;
  constructor(readonly c: RawImap) {}

  /** Runs a command and applies the EXISTS/EXPUNGE it carried to the session's own count. */
  async run(tag: string, cmd: string): Promise<string> {
    const out = await this.c.command(tag, cmd);
    for (const line of out.split('\r\n')) {
      const exists = /^\* (\d+) EXISTS$/.exec(line);
      if (exists) this.count = Number(exists[1]);
      if (/^\* \d+ EXPUNGE$/.test(line)) this.count--;
    }
    return out;
  }

  async state(tag: string): Promise<Map<number, string>> {
    const out = await this.run(tag, 'UID FETCH 1:* (UID FLAGS)');
    const m = new Map<number, string>();
    for (const f of out.matchAll(/UID (\d+) FLAGS \(([^)]*)\)/g)) m.set(Number(f[1]), f[2].split(' ').filter((x) => x && x !== '\\Recent').sort().join(' '));
    return m;
  }
}

test('two sessions stay consistent through 150 random STORE, EXPUNGE, MOVE and deliveries', async (t) => {
  const tree = await makeMailTree();
  const inbox = tree.maildir('bob');
  for (let i = 0; i < 10; i++) await deliver(inbox, `Subject: seed ${i}\n\nbody\n`);
  const server = await startServer(tree);
  const sessions: Session[] = [];
  t.after(async () => {
    sessions.forEach((s) => s.c.close());
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 2; i++) {
    const s = new Session(await RawImap.connect(server.port));
    await s.run('l', 'LOGIN bob bob-pass');
    await s.run('s', 'SELECT INBOX');
    sessions.push(s);
  }
  const rnd = prng(20261126);
  const flags = ['\\Seen', '\\Flagged', '\\Answered', '$Forwarded', 'custom1'];
  let n = 0;
  for (let step = 0; step < 150; step++) {
    const s = sessions[Math.floor(rnd() * 2)];
    const op = rnd();
    const tag = `t${n++}`;
    if (op < 0.2) {
      await deliver(inbox, `Subject: step ${step}\n\nbody ${step}\n`);
    } else if (s.count === 0) {
      continue;
    } else if (op < 0.6) {
      const seq = 1 + Math.floor(rnd() * s.count);
      const f = flags[Math.floor(rnd() * flags.length)];
      await s.run(tag, `STORE ${seq} ${rnd() < 0.7 ? '+' : '-'}FLAGS (${f})`);
    } else if (op < 0.8) {
      const seq = 1 + Math.floor(rnd() * s.count);
      await s.run(tag, `STORE ${seq} +FLAGS.SILENT (\\Deleted)`);
      await s.run(`${tag}e`, 'EXPUNGE');
    } else {
      const seq = 1 + Math.floor(rnd() * s.count);
      await s.run(tag, `MOVE ${seq} Archive`);
    }
    // Both sessions catch up (a delivery reaches them through the watcher; allow it a moment).
    if (step % 10 === 9) await new Promise((r) => setTimeout(r, 50));
    for (const [i, other] of sessions.entries()) await other.run(`n${n++}x${i}`, 'NOOP');
  }
  // Let the last deliveries reach both sessions: the watcher is fast, but a loaded machine may lag.
  const onDisk = async () => (await fs.readdir(path.join(inbox, 'cur'))).length + (await fs.readdir(path.join(inbox, 'new'))).length;
  for (let i = 0; i < 60; i++) {
    for (const [j, s] of sessions.entries()) await s.run(`f${i}x${j}`, 'NOOP');
    if (sessions.every((s) => s.count === sessions[0].count) && sessions[0].count === (await onDisk())) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const [a, b] = [await sessions[0].state('za'), await sessions[1].state('zb')];
  assert.deepEqual([...a.entries()], [...b.entries()], 'both sessions see the same messages and flags');
  for (const s of sessions) assert.equal(s.count, a.size, 'the count kept from EXISTS/EXPUNGE matches the folder');
  const files = [...(await fs.readdir(path.join(inbox, 'cur'))), ...(await fs.readdir(path.join(inbox, 'new')))];
  assert.equal(files.length, a.size, 'one file per message on disk');
  const archived = await fs.readdir(path.join(inbox, '.Archive', 'cur'));
  const search = await sessions[0].run('q', 'STATUS Archive (MESSAGES)');
  assert.match(search, new RegExp(`MESSAGES ${archived.length}\\)`));
});
