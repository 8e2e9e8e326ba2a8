// A client on a slow link that fetches every body of a folder of big
// messages: the server must wait for the socket as it goes, never gather more
// than its output limit (16 MiB) unread and drop the client for it, and the
// client must get every message whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer } from '../support/server.js';

const MESSAGES = 48;
/** Under the fast path's whole-message limit (1 MiB), so all of them are answered by it: 33 MiB in all. */
const BODY_LINES = 9000;

function message(i: number): string {
  const line = `message ${String(i).padStart(3, '0')} line of the body, long enough to add up quickly ..........\n`;
  return `From: a@example.org\nTo: b@example.org\nSubject: big ${i}\nMessage-ID: <big-${i}@example.org>\n\n${line.repeat(BODY_LINES)}`;
}

test('a client that reads slowly gets every big body of a whole-folder FETCH; the server waits for the socket instead of dropping it', async (t) => {
  const tree = await makeMailTree();
  const cur = path.join(tree.maildir('bob'), 'cur');
  const expected: number[] = [];
  for (let i = 1; i <= MESSAGES; i++) {
    const text = message(i);
    expected.push(Buffer.byteLength(text.replace(/\n/g, '\r\n')));
    await fs.writeFile(path.join(cur, `${1700000000 + i}.M${i}P1.test:2,S`), text);
  }
  const server = await startServer(tree);
  // One hook: the server stops before the tree goes.
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });

  const socket = net.connect(server.port, '127.0.0.1');
  t.after(() => socket.destroy());
  const chunks: Buffer[] = [];
  let total = 0;
  let closed = false;
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    total += d.length;
  });
  socket.on('close', () => (closed = true));
  const waitFor = async (re: RegExp, ms: number) => {
    const deadline = Date.now() + ms;
    while (!re.test(Buffer.concat(chunks).toString('latin1'))) {
      assert.ok(!closed, `the server closed the connection: ${server.stdout().split('\n').filter((l) => l.includes('closing')).join('\n')}`);
      assert.ok(Date.now() < deadline, `timed out waiting for ${re}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await waitFor(/^\* OK/m, 5000);
  socket.write('a LOGIN bob bob-pass\r\nb SELECT INBOX\r\n');
  await waitFor(/^b OK/m, 10_000);
  chunks.length = 0;
  total = 0;
  socket.write('c UID FETCH 1:* (BODY.PEEK[])\r\n');
  // Stop reading for a while, as a slow link does: the server's output backs up.
  await new Promise((r) => setTimeout(r, 200));
  socket.pause();
  await new Promise((r) => setTimeout(r, 2000));
  socket.resume();
  await waitFor(/^c OK/m, 60_000);

  const out = Buffer.concat(chunks);
  const text = out.toString('latin1');
  const sizes = [...text.matchAll(/^\* (\d+) FETCH \(UID \d+ BODY\[\] \{(\d+)\}\r\n/gm)].map((m) => Number(m[2]));
  assert.deepEqual(sizes, expected, 'every message, whole, in order');
  for (let i = 1; i <= MESSAGES; i++) assert.ok(text.includes(`message ${String(i).padStart(3, '0')} line`), `message ${i}'s body`);
  assert.ok(!/does not read/.test(server.stdout()), 'the server did not give up on the client');
  t.diagnostic(`${(total / 1048576).toFixed(1)} MiB read after a 2 s pause`);
});
