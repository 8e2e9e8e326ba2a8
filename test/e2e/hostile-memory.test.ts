// Memory a client can take, before and after login (issue "Hostile input",
// part A): replies to pipelined commands that are never read, unfinished
// literals before login, connections waiting to log in from one address, and
// LIST patterns that a backtracking matcher would take minutes over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { serveTree, deliver } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

/**
 * Writes `line` again and again without reading a byte back, until `bytes`
 * were handed to the kernel or the server stopped taking them for a second
 * (it is not reading: what we want). Returns what was written.
 */
async function flood(socket: net.Socket, line: string, bytes: number): Promise<number> {
  const block = Buffer.from(line.repeat(Math.ceil(65536 / line.length)));
  let written = 0;
  while (written < bytes) {
    if (!socket.write(block)) {
      const drained = await Promise.race([
        new Promise<boolean>((r) => socket.once('drain', () => r(true))),
        new Promise<boolean>((r) => setTimeout(() => r(false), 1000)),
      ]);
      if (!drained) break;
    }
    written += block.length;
  }
  return written;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

async function stillServes(port: number): Promise<void> {
  const c = await RawImap.connect(port);
  try {
    assert.match(await c.command('n1', 'LOGIN bob bob-pass'), /^n1 OK/m);
    assert.match(await c.command('n2', 'NOOP'), /^n2 OK/m);
  } finally {
    c.close();
  }
}

test('pipelined commands whose replies are never read do not grow the server (before and after login)', async (t) => {
  const { server } = await serveTree(t);
  const pid = server.proc.pid!;
  const before = rssMiB(pid);

  // 60 MB of CAPABILITY before login: ~1 GB of replies if each were buffered.
  const pre = await connect(server.port);
  const sentPre = await flood(pre, 'a CAPABILITY\r\n', 60 * 1024 * 1024);

  // And NOOPs after login.
  const post = await connect(server.port);
  post.write('l LOGIN bob bob-pass\r\n');
  await new Promise((r) => setTimeout(r, 300));
  const sentPost = await flood(post, 'n NOOP\r\n', 40 * 1024 * 1024);

  const grown = rssMiB(pid) - before;
  t.diagnostic(`sent ${(sentPre / 1048576).toFixed(1)} + ${(sentPost / 1048576).toFixed(1)} MiB of commands; server RSS grew ${grown.toFixed(1)} MiB`);
  // The server stops reading a connection whose replies are not being read.
  assert.ok(sentPre < 60 * 1024 * 1024, 'the server stopped reading the CAPABILITY flood');
  assert.ok(sentPost < 40 * 1024 * 1024, 'the server stopped reading the NOOP flood');
  assert.ok(grown < 32, `server RSS grew ${grown.toFixed(1)} MiB`);
  await stillServes(server.port);
  pre.destroy();
  post.destroy();
});

test('a client that reads its pipelined replies gets every one of them, in order', async (t) => {
  const { server } = await serveTree(t);
  const c = await RawImap.connect(server.port);
  t.after(() => c.close());
  let cmds = '';
  for (let i = 0; i < 20_000; i++) cmds += `c${i} CAPABILITY\r\n`;
  c.send(cmds);
  const out = await c.readUntil(/c19999 OK[^\r]*\r\n/, 60_000);
  const tags = [...out.matchAll(/^(c\d+) OK/gm)].map((m) => m[1]);
  assert.equal(tags.length, 20_000);
  assert.equal(tags[12345], 'c12345');
});

test('before login, literals are small: unfinished ones from many connections hold little memory', async (t) => {
  const { server } = await serveTree(t, undefined, ['--max-unauthenticated-per-ip', '1000']);
  const pid = server.proc.pid!;
  const c = await RawImap.connect(server.port);
  t.after(() => c.close());
  // A synchronizing literal above the pre-login limit is refused before the client sends it.
  assert.match(await c.command('a', 'LOGIN {9000}'), /^a NO \[TOOBIG\]/m);
  // A non-synchronizing one that large is on its way already: skipped, and the command refused.
  c.send(`b LOGIN {9000+}\r\n${'x'.repeat(9000)} pw\r\n`);
  assert.match(await c.readUntil('\r\n'), /^b NO \[TOOBIG\]/);
  // A huge one is not worth skipping: the connection ends.
  c.send('c LOGIN {1048576+}\r\n');
  assert.match(await c.readUntil('\r\n'), /^\* BYE /);

  // The attack as found: 7 literals of 1 MiB each, never finished, from 50 connections.
  let before = rssMiB(pid);
  const attackers = await Promise.all(
    Array.from({ length: 50 }, async () => {
      const s = await connect(server.port);
      s.on('error', () => undefined);
      const literal = Buffer.alloc(1048576, 'y');
      for (let j = 0; j < 7 && !s.destroyed; j++) {
        const ok = s.write(j === 0 ? 'x LOGIN {1048576+}\r\n' : ' {1048576+}\r\n');
        if (!ok || !s.write(literal)) {
          const drained = await Promise.race([
            new Promise<boolean>((r) => s.once('drain', () => r(true))),
            new Promise<boolean>((r) => s.once('close', () => r(false))),
            new Promise<boolean>((r) => setTimeout(() => r(false), 1000)),
          ]);
          if (!drained) break;
        }
      }
      return s;
    }),
  );
  await new Promise((r) => setTimeout(r, 500));
  let grown = rssMiB(pid) - before;
  t.diagnostic(`50 connections sending 7 literals of 1 MiB: server RSS grew ${grown.toFixed(1)} MiB`);
  assert.ok(grown < 64, `server RSS grew ${grown.toFixed(1)} MiB`);
  for (const s of attackers) s.destroy();

  // 200 connections, each with 7 literals of the largest size allowed, never finished.
  before = rssMiB(pid);
  const socks: net.Socket[] = [];
  for (let i = 0; i < 200; i++) {
    const s = await connect(server.port);
    let cmd = 'x LOGIN';
    for (let j = 0; j < 7; j++) cmd += ` {8192+}\r\n${'y'.repeat(8192)}`;
    s.write(cmd);
    socks.push(s);
  }
  await new Promise((r) => setTimeout(r, 500));
  grown = rssMiB(pid) - before;
  t.diagnostic(`200 connections with unfinished literals: server RSS grew ${grown.toFixed(1)} MiB`);
  assert.ok(grown < 64, `server RSS grew ${grown.toFixed(1)} MiB`);
  await stillServes(server.port);
  for (const s of socks) s.destroy();
});

test('connections still to log in are capped per address; logged-in ones do not count', async (t) => {
  const { server } = await serveTree(t, undefined, ['--max-unauthenticated-per-ip', '5']);
  const waiting: RawImap[] = [];
  t.after(() => waiting.forEach((c) => c.close()));
  for (let i = 0; i < 5; i++) waiting.push(await RawImap.connect(server.port));
  assert.match(await greeting(server.port), /^\* BYE Too many connections from your address/);
  assert.match(await waiting[0].command('l', 'LOGIN bob bob-pass'), /^l OK/m);
  assert.match(await greeting(server.port), /^\* OK/);
  assert.match(server.stdout(), /connection refused: too many not logged in from this IP/);
});

test('LIST and LSUB with 1,000 wildcards answer correctly and leave the server free', async (t) => {
  const { server } = await serveTree(t, async (tree) => {
    await deliver(tree.maildir('bob'), 'Subject: x\n\nx\n');
    for (const f of ['.Archive', '.Archive.2024', '.Zeta', '.Alpha.Z']) {
      for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(tree.maildir('bob'), f, sub), { recursive: true });
    }
  });
  const c = await RawImap.connect(server.port);
  t.after(() => c.close());
  await c.command('a', 'LOGIN bob bob-pass');
  const star = '*'.repeat(1000);
  let out = await c.command('b', `LIST "" "${star}Z"`);
  assert.deepEqual(listed(out), ['Alpha.Z']);
  out = await c.command('c', `LIST "" "${'%'.repeat(1000)}a"`);
  assert.deepEqual(listed(out), ['Alpha', 'Zeta']); // Alpha: the parent of Alpha.Z, listed \NonExistent
  assert.match(await c.command('d', 'SUBSCRIBE Zeta'), /^d OK/m);
  out = await c.command('e', `LSUB "" "${'*%'.repeat(500)}"`);
  assert.ok(out.includes('Zeta') && /^e OK/m.test(out));
  // Alternating wildcards and letters: no run collapses, still one pass per name.
  out = await c.command('f', `LIST "" "${'*A'.repeat(400)}"`);
  assert.deepEqual(listed(out), []);
  out = await c.command('g', `LIST "" "${'*'.repeat(5000)}"`);
  assert.match(out, /^g BAD .*pattern longer than/m);
  await stillServes(server.port);
});

/** The first line a new connection gets. */
async function greeting(port: number): Promise<string> {
  const s = await connect(port);
  try {
    return await new Promise<string>((resolve) => {
      let text = '';
      s.on('data', (d) => {
        text += d.toString('latin1');
        if (text.includes('\r\n')) resolve(text);
      });
      s.on('close', () => resolve(text));
    });
  } finally {
    s.destroy();
  }
}

function listed(out: string): string[] {
  return [...out.matchAll(/^\* LIST \([^)]*\) "\." "?([^"\r]+)"?\r$/gm)].map((m) => m[1]).sort();
}
