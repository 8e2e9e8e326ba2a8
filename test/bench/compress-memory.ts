// Memory per compressed IDLE session (RFC 4978): the server's RSS with N
// sessions idling in INBOX, plain and then COMPRESS=DEFLATE, each on a fresh
// server process. Usage: node dist/test/bench/compress-memory.js [N=1000]
import { readFileSync, promises as fs } from 'node:fs';
import net from 'node:net';
import { makeMailTree, startServer } from '../support/server.js';
import { DeflateClient } from '../support/deflate-client.js';

/** Under the server's limit of 20 connections per IP waiting to log in. */
const BATCH = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

async function plainSession(port: number, compress: boolean): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  const until = (re: RegExp) =>
    new Promise<void>((resolve) => {
      const on = (d: Buffer) => {
        text += d.toString('latin1');
        if (re.test(text)) (socket.off('data', on), (text = ''), resolve());
      };
      socket.on('data', on);
    });
  let done = until(/l1 OK [^\r]*\r\n/);
  socket.write('l1 LOGIN bob bob-pass\r\n');
  await done;
  if (compress) {
    const z = await DeflateClient.start(socket, 'z1');
    await z.command('s1', 'SELECT INBOX');
    z.send('i1 IDLE\r\n');
    await z.readUntil(/^\+ [^\r]*\r\n/m);
    return socket;
  }
  done = until(/s1 OK [^\r]*\r\n/);
  socket.write('s1 SELECT INBOX\r\n');
  await done;
  done = until(/^\+ [^\r]*\r\n/m);
  socket.write('i1 IDLE\r\n');
  await done;
  return socket;
}

async function measure(n: number, compress: boolean): Promise<{ baseKiB: number; withKiB: number }> {
  const tree = await makeMailTree('mimapd-zmem-');
  const server = await startServer(tree, ['--max-connections', String(n + 100), '--max-connections-per-user-ip', String(n + 100)]);
  try {
    await sleep(500);
    const baseKiB = rssKiB(server.proc.pid!);
    const sockets: net.Socket[] = [];
    for (let i = 0; i < n; i += BATCH) sockets.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, () => plainSession(server.port, compress)))));
    await sleep(2000);
    const withKiB = rssKiB(server.proc.pid!);
    for (const s of sockets) s.destroy();
    return { baseKiB, withKiB };
  } finally {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  }
}

const n = Number(process.argv[2] ?? 1000);
const plain = await measure(n, false);
const compressed = await measure(n, true);
const per = (r: { baseKiB: number; withKiB: number }) => (r.withKiB - r.baseKiB) / n;
console.log(`| sessions | plain: RSS grew | per session | compressed: RSS grew | per session | compression's cost per session |`);
console.log(`| ${n} | ${((plain.withKiB - plain.baseKiB) / 1024).toFixed(1)} MiB | ${per(plain).toFixed(1)} KiB | ${((compressed.withKiB - compressed.baseKiB) / 1024).toFixed(1)} MiB | ${per(compressed).toFixed(1)} KiB | ${(per(compressed) - per(plain)).toFixed(1)} KiB |`);
