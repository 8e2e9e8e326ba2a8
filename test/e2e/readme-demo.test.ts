// README's "Try it" as a newcomer runs it: the demo's banner is the one README
// shows, and README's push step — the curl IDLE watcher and the cp-into-tmp/,
// mv-into-new/ delivery — is taken from README itself and run with sh, so README
// and the demo cannot drift apart. The one change made to README's commands:
// the demo's port 1143 becomes a free one (other tests and demos may hold 1143).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(HERE, '../../src/cli.js');
const README = path.resolve(HERE, '../../../README.md');
const MARK = '<!-- test/e2e/readme-demo.test.ts';

/** The fenced code blocks that follow README's markers for this test, in order. */
function markedBlocks(text: string): string[] {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const m = text.indexOf(MARK, at);
    if (m < 0) return out;
    const block = /^-->\n```[a-z]*\n([\s\S]*?)\n```\n/.exec(text.slice(text.indexOf('-->', m)));
    assert.ok(block, `a fenced block right after README's marker at offset ${m}`);
    out.push(block[1] + '\n');
    at = m + MARK.length;
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Collects a stream's text; until() waits for a pattern in it. */
function collect(stream: NodeJS.ReadableStream): { text: () => string; until: (re: RegExp, ms: number, what: string) => Promise<void> } {
  let buf = '';
  stream.on('data', (d: Buffer) => (buf += d.toString('utf8')));
  return {
    text: () => buf,
    until: async (re, ms, what) => {
      const end = Date.now() + ms;
      while (!re.test(buf)) {
        if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; got:\n${buf}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

test("README's demo push step, run as written: the watcher prints the push at once, the demo logs it, one line per event", { timeout: 60_000 }, async (t) => {
  const blocks = markedBlocks(readFileSync(README, 'utf8'));
  assert.equal(blocks.length, 3, 'README marks three blocks: the banner, the watcher, the delivery');
  const port = await freePort();
  const [banner, watch, deliver] = blocks.map((b) => {
    assert.ok(b.includes('127.0.0.1:1143') || !b.includes('1143'), b);
    return b.replaceAll('127.0.0.1:1143', `127.0.0.1:${port}`);
  });
  assert.match(watch, /-X IDLE/);
  assert.match(deliver, /\bcp .*\/tmp\/.*&& mv .*\/tmp\/.* .*\/new\//, 'the delivery writes in tmp/, then renames into new/');

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'readme-demo-'));
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL'); // the whole group: sh, curl, grep
      } catch {
        // already gone
      }
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  // `npm start` is `npm run build && node dist/src/cli.js demo`, in the directory it is run from.
  const demo = spawn(process.execPath, [CLI, 'demo', '--listen', `127.0.0.1:${port}`], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(demo);
  const demoErr = collect(demo.stderr!);
  const demoLog = collect(demo.stdout!);
  await demoErr.until(/\$m\/new\/\$f\n/, 15_000, "the demo's banner");
  assert.equal(demoErr.text(), banner, "the demo prints README's banner");

  // The banner's first command.
  const read = spawnSync('sh', ['-c', /read message 1: +(curl .*)\n/.exec(banner)![1]], { cwd: dir, encoding: 'utf8', timeout: 10_000 });
  assert.equal(read.status, 0, read.stderr);
  assert.match(read.stdout, /^Subject: Welcome to maildir-imapd$/m);

  // A second terminal: the watcher.
  const watcher = spawn('sh', ['-c', watch], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(watcher);
  const seen = collect(watcher.stdout!);
  await seen.until(/^< \* 12 EXISTS\r?\n/m, 10_000, "the watcher's SELECT");
  await new Promise((r) => setTimeout(r, 1000)); // curl sends IDLE as soon as SELECT is answered

  // A third terminal: the delivery.
  const inbox = path.join(dir, 'demo/mail/demo/Maildir');
  const started = Date.now();
  const d = spawnSync('sh', ['-c', deliver], { cwd: dir, encoding: 'utf8', timeout: 10_000 });
  assert.equal(d.status, 0, d.stderr);
  assert.equal(d.stdout + d.stderr, '', 'the delivery prints nothing');
  await seen.until(/^< \* 13 EXISTS\r?\n/m, 5000, 'the push');
  const ms = Date.now() - started;
  assert.ok(ms < 3000, `pushed after ${ms} ms`);
  assert.deepEqual((await fs.readdir(path.join(inbox, 'tmp'))).filter((f) => f.endsWith('.demo')), [], 'the message left tmp/ when it was renamed');
  const landed = [...(await fs.readdir(path.join(inbox, 'new'))), ...(await fs.readdir(path.join(inbox, 'cur')))].filter((f) => /^\d+\.\d+\.demo(:2,.*)?$/.test(f)); // README's $(date +%s).$$.demo
  assert.equal(landed.length, 1, `the delivered file is in new/ or cur/: ${landed}`);

  // The demo's log: one pretty line per event, and the push among them.
  await demoLog.until(/DEBUG: push /, 5000, "the demo's push line");
  const lines = demoLog.text().trimEnd().split('\n');
  for (const l of lines) assert.match(l, /^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|DEBUG): [a-z][a-z ]+( \{.*\})?$/, `one line per event: ${JSON.stringify(l)}`);
  assert.ok(lines.some((l) => /DEBUG: push \{.*"user":"demo","mailbox":"INBOX","sent":\["\* 13 EXISTS","\* 1 RECENT"\]\}$/.test(l)), lines.join('\n'));
  for (const event of ['ready', 'connect', 'login', 'select', 'logout']) assert.ok(lines.some((l) => l.includes(`: ${event} `)), `a ${event} line`);

  // Ctrl-C on the watcher; SIGTERM on the demo: it says BYE and exits 0.
  process.kill(-watcher.pid!, 'SIGINT');
  const code = new Promise<number | null>((r) => demo.once('exit', r));
  demo.kill('SIGTERM');
  assert.equal(await code, 0);
});
