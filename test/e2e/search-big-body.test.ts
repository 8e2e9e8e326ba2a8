// SEARCH BODY / TEXT on a folder holding one ~200 MB message, through the real
// server process: the answer is right, the server's memory does not grow with
// the message (it is matched in a stream, in a worker), and another client's
// NOOPs keep being answered meanwhile. Measured figures are printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { serveTree } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

const MESSAGE_MB = 200;
/**
 * What the server may grow by while searching (its RSS peak). Reading the file
 * whole cost 1,399 MiB; streaming in 1 MB reads 25-67 (it failed CI once);
 * in 64 KB reads 16-19, most of it the worker thread's own start-up.
 */
const MAX_GROWTH_MB = 40;
/** The slowest NOOP another client may wait for during the search. */
const MAX_NOOP_MS = 500;

/**
 * A multipart message of `mb` MiB, written a line at a time through a stream:
 * a base64 text part (the bulk), then a quoted-printable part that holds the
 * needle at its very end. LF line ends, as Postfix writes.
 */
async function writeBigMessage(file: string, mb: number): Promise<void> {
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('From: a@example.org\nTo: b@example.org\nSubject: big one\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="BIG"\n\n');
  await write('--BIG\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n');
  const line = Buffer.from('lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusm').toString('base64') + '\n';
  const block = line.repeat(Math.floor((1 << 20) / line.length));
  for (let i = 0; i < mb; i++) await write(block);
  await write('--BIG\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nthe end holds a Zebr=61needle=\n here\n--BIG--\n');
  out.end();
  await once(out, 'finish');
}

function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  return fs.readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(s)![1]) / 1024);
}

/** A tagged command with a long wait (RawImap.command waits 5 s). */
function tagged(c: RawImap, tag: string, text: string, timeoutMs: number): Promise<string> {
  c.send(`${tag} ${text}\r\n`);
  return c.readUntil(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), timeoutMs);
}

async function login(port: number): Promise<RawImap> {
  const c = await RawImap.connect(port);
  assert.match(await c.command('l', 'LOGIN bob bob-pass'), /l OK/);
  assert.match(await c.command('s', 'SELECT INBOX'), /s OK/);
  return c;
}

test('SEARCH BODY on a 200 MB message: bounded memory, other clients served', { timeout: 300_000 }, async (t) => {
  const { server } = await serveTree(t, async (tree) => {
    await writeBigMessage(path.join(tree.maildir('bob'), 'cur', '1700000000.M1P1.test:2,S'), MESSAGE_MB);
    await fs.writeFile(path.join(tree.maildir('bob'), 'cur', '1700000001.M2P1.test:2,'), 'Subject: small\n\nanother zebraneedle here\n');
  });
  const pid = server.proc.pid!;
  const searcher = await login(server.port);
  const other = await login(server.port);
  t.after(() => {
    searcher.close();
    other.close();
  });
  const rssBefore = await procStatusMb(pid, 'VmRSS');
  const hwmBefore = await procStatusMb(pid, 'VmHWM');

  // The other client: a NOOP every 20 ms while the searches run; the slowest answer counts.
  let searching = true;
  let worstNoop = 0;
  let noops = 0;
  const pinger = (async () => {
    for (let i = 0; searching; i++) {
      const t0 = performance.now();
      assert.match(await tagged(other, `n${i}`, 'NOOP', 240_000), new RegExp(`n${i} OK`));
      worstNoop = Math.max(worstNoop, performance.now() - t0);
      noops++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const t0 = performance.now();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => void procStatusMb(pid, 'VmRSS').then((mb) => (rssPeak = Math.max(rssPeak, mb)), () => undefined), 50);
  try {
    const body = await tagged(searcher, 'b', 'UID SEARCH BODY "zebraneedle"', 240_000);
    assert.match(body, /\* SEARCH 1 2\r\n/);
    const none = await tagged(searcher, 'c', 'UID SEARCH TEXT "absent-needle-xyz"', 240_000);
    assert.match(none, /\* SEARCH\r\n/);
    const both = await tagged(searcher, 'd', 'UID SEARCH BODY "end holds" NOT BODY "absent-needle-xyz"', 240_000);
    assert.match(both, /\* SEARCH 1\r\n/);
  } finally {
    clearInterval(sampler);
    searching = false;
    await pinger;
  }
  const searchMs = performance.now() - t0;
  const hwmAfter = await procStatusMb(pid, 'VmHWM');
  const rssAfter = await procStatusMb(pid, 'VmRSS');
  const growth = Math.max(rssPeak, hwmAfter) - Math.max(rssBefore, hwmBefore);
  t.diagnostic(
    `RSS ${rssBefore.toFixed(0)} → peak ${rssPeak.toFixed(0)} (VmHWM ${hwmBefore.toFixed(0)} → ${hwmAfter.toFixed(0)}), after ${rssAfter.toFixed(0)} MiB; ` +
      `growth ${growth.toFixed(0)} MiB; 3 searches ${searchMs.toFixed(0)} ms; other client ${noops} NOOPs, worst ${worstNoop.toFixed(0)} ms`,
  );
  assert.ok(growth < MAX_GROWTH_MB, `server grew by ${growth.toFixed(0)} MiB`);
  assert.ok(worstNoop < MAX_NOOP_MS, `a NOOP waited ${worstNoop.toFixed(0)} ms`);
});
