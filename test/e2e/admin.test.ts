// `maildir-imapd admin` against the real server over its admin socket: who
// lists an IDLE session with its folder, expunge --dry-run lists and expunge
// removes (the IDLE session hears it), kick ends the session with * BYE,
// quota and reindex answer; with the server stopped, sieve test and quota
// still work and who says it needs the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeMailTree, startServer, type MailTree } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs `maildir-imapd admin ARGS` with the tree's settings; resolves its exit code and output. */
function admin(tree: MailTree, socket: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const settings = ['--users', tree.usersFile, '--maildir', tree.template, '--admin-socket', `unix:${socket}`, ...(asRoot ? ['--user', 'vmail', '--group', 'vmail'] : [])];
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'admin', ...args, ...settings], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function writeMessages(maildir: string, folder: string, subjects: string[]): Promise<void> {
  const cur = path.join(maildir, '.' + folder, 'cur');
  let i = 0;
  for (const s of subjects) await fs.writeFile(path.join(cur, `17000000${10 + i}.adm${i++}.host:2,S`), `Subject: ${s}\n\nx\n`);
}

test('admin: who, expunge --dry-run then expunge seen by IDLE, quota, reindex, kick with * BYE; sieve test and quota without a server', async (t) => {
  const tree = await makeMailTree();
  const socket = path.join(tree.dir, 'admin.sock');
  const home = path.join(tree.dir, 'home', 'bob');
  await fs.writeFile(tree.usersFile, `bob:{PLAIN}bob-pass::::${home}\nalice:{PLAIN}alice-pass\n`);
  // bob's filter: sales to Junk, marked seen.
  await fs.mkdir(path.join(home, 'sieve'), { recursive: true });
  await fs.writeFile(path.join(home, 'sieve', 'main.sieve'), 'require ["fileinto", "imap4flags"];\nif header :contains "subject" "sale" { fileinto :flags "\\\\Seen" "Junk"; stop; }\n');
  await fs.symlink('sieve/main.sieve', path.join(home, '.dovecot.sieve'));
  const server = await startServer(tree, ['--admin-socket', `unix:${socket}`]);
  let stopped = false;
  t.after(async () => {
    if (!stopped) await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  assert.equal((await fs.stat(socket)).mode & 0o777, 0o600);

  const c = await RawImap.connect(server.port);
  t.after(() => c.close());
  await c.command('a1', 'LOGIN bob bob-pass');
  await c.command('a2', 'SELECT Trash');
  await writeMessages(tree.maildir('bob'), 'Trash', ['one', 'two']);
  c.send('a3 IDLE\r\n');
  await c.readUntil('+ idling');
  await c.readUntil('* 2 EXISTS\r\n', 10_000);

  const who = await admin(tree, socket, 'who');
  assert.equal(who.code, 0, who.stderr);
  assert.match(who.stdout, /^USER\s+IP\s+SINCE\s+FOLDER\s+IDLE\n/);
  assert.match(who.stdout, /\nbob\s+127\.0\.0\.1\s+\S+Z\s+Trash\s+yes\n/);
  const whoJson = JSON.parse((await admin(tree, socket, 'who', '--json')).stdout) as Array<{ user: string; folder: string; idle: boolean }>;
  assert.deepEqual(whoJson.map((s) => [s.user, s.folder, s.idle]), [['bob', 'Trash', true]]);

  // The files came into Trash just now: nothing is older than a day; all of them are older than a second, a moment later.
  const day = await admin(tree, socket, 'expunge', 'bob', 'Trash', '--before', '1d', '--dry-run');
  assert.match(day.stdout, /^bob Trash: 0 of 2 messages came in before \S+ \(dry run: would be expunged\)\n$/);
  await new Promise((r) => setTimeout(r, 1100));
  const dry = await admin(tree, socket, 'expunge', 'bob', 'Trash', '--before', '1s', '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^bob Trash: 2 of 2 messages came in before \S+ \(dry run: would be expunged\)\n  uid 1  came in \S+\n  uid 2  came in \S+\n$/);
  assert.equal((await fs.readdir(path.join(tree.maildir('bob'), '.Trash', 'cur'))).length, 2);
  const real = await admin(tree, socket, 'expunge', 'bob', 'Trash', '--before', '1s');
  assert.match(real.stdout, /^bob Trash: 2 of 2 messages came in before \S+ expunged\n$/);
  await c.readUntil(/\* 1 EXPUNGE\r\n\* 1 EXPUNGE\r\n/, 10_000);
  assert.deepEqual(await fs.readdir(path.join(tree.maildir('bob'), '.Trash', 'cur')), []);

  const noFolder = await admin(tree, socket, 'expunge', 'bob', 'Nope', '--before', '1s');
  assert.equal(noFolder.code, 1);
  assert.match(noFolder.stderr, /bob has no folder Nope/);
  const badAge = await admin(tree, socket, 'expunge', 'bob', 'Trash', '--before', 'soon');
  assert.match(badAge.stderr, /--before must be an age like "30d"/);

  await writeMessages(tree.maildir('bob'), 'Archive', ['kept']);
  const reindex = await admin(tree, socket, 'reindex', 'bob', 'Archive');
  assert.equal(reindex.stdout, 'bob Archive: 1 message reindexed\n');
  const quota = await admin(tree, socket, 'quota', 'bob');
  assert.match(quota.stdout, /^bob: storage \d+ bytes of no limit, messages 1 of no limit\n$/);

  const kick = await admin(tree, socket, 'kick', 'bob');
  assert.equal(kick.stdout, 'bob: 1 session ended\n');
  assert.match(await c.readUntil('* BYE Disconnected by the administrator\r\n'), /\* BYE Disconnected by the administrator\r\n$/);
  assert.equal((await admin(tree, socket, 'who')).stdout, 'USER  IP  SINCE  FOLDER  IDLE\n');

  // A bad request line gets an error reply, not a crash.
  const { adminRequest } = await import('../../src/admin/cli.js');
  const bad = await adminRequest(socket, { cmd: 'nonsense' } as never);
  assert.deepEqual(bad, { ok: false, error: 'unknown command "nonsense" (who, kick, expunge, reindex, quota)' });

  // Without a server: sieve test and quota work on the files; who says it needs the server.
  await server.stop();
  stopped = true;
  const msg = path.join(tree.dir, 'sale.eml');
  await fs.writeFile(msg, 'From: shop@example.com\nTo: bob@example.org\nSubject: Big sale today\n\nbuy\n');
  const sieve = await admin(tree, socket, 'sieve', 'test', 'bob', msg);
  assert.equal(sieve.code, 0, sieve.stderr);
  assert.equal(sieve.stdout, 'bob: main: fileinto Junk\n  store in: Junk (flags \\Seen)\n');
  const offQuota = await admin(tree, socket, 'quota', 'bob');
  assert.match(offQuota.stdout, /messages 1 of no limit/);
  assert.match(offQuota.stderr, /working on the Maildirs directly/);
  const offWho = await admin(tree, socket, 'who');
  assert.equal(offWho.code, 1);
  assert.match(offWho.stderr, /`admin who` needs the running server/);
});
