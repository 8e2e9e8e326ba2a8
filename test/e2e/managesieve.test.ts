// ManageSieve end to end: the real server process (serve
// --managesieve-listen) driven by a real client, Debian's sieve-connect
// (upload, list, activate, download, delete), then a raw socket for what a
// client library hides: a syntax error's line number, literals, limits, and
// the fail2ban line on stdout. The files land where Pigeonhole keeps them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveTree, freePort, deliver } from '../support/server.js';
import { hostsByPythonRe } from '../auth/fail2ban.js';

const haveSieveConnect = spawnSync('sieve-connect', ['--version']).status === 0;

/** Runs sieve-connect against the server as bob (password on fd 0); resolves with its exit code and output. */
function sieveConnect(port: number, args: string[], password = 'bob-pass'): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('sieve-connect', ['--server', '127.0.0.1', '--port', String(port), '--user', 'bob', '--passwordfd', '0', '--notls', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    p.stdin.end(password + '\n');
  });
}

async function startWithSieve(t: test.TestContext, extra: string[] = []) {
  const port = await freePort();
  const { tree, server } = await serveTree(t, undefined, ['--managesieve-listen', `127.0.0.1:${port}`, ...extra]);
  return { tree, server, port, home: path.dirname(tree.maildir('bob')) };
}

test('sieve-connect uploads, lists, activates, downloads and deletes; files in Pigeonhole’s layout', { skip: !haveSieveConnect && !process.env.CI && 'sieve-connect not installed (apt-get install sieve-connect)' }, async (t) => {
  const { tree, port, home } = await startWithSieve(t);
  const local = path.join(tree.dir, 'filters.sieve');
  const script = 'require ["fileinto", "imap4flags"];\nif header :contains "subject" "[list]" {\n  addflag "\\\\Seen";\n  fileinto "Lists";\n}\n';
  await fs.writeFile(local, script);
  let r = await sieveConnect(port, ['--upload', '--localsieve', local, '--remotesieve', 'filters']);
  assert.equal(r.code, 0, r.out);
  await fs.writeFile(local, 'keep;\n');
  r = await sieveConnect(port, ['--upload', '--localsieve', local, '--remotesieve', 'spare']);
  assert.equal(r.code, 0, r.out);
  r = await sieveConnect(port, ['--list']);
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(r.out.trim().split('\n'), ['"filters"', '"spare"']);
  r = await sieveConnect(port, ['--activate', '--remotesieve', 'filters']);
  assert.equal(r.code, 0, r.out);
  r = await sieveConnect(port, ['--list']);
  assert.deepEqual(r.out.trim().split('\n'), ['"filters" ACTIVE', '"spare"']);
  // Where Dovecot's Pigeonhole keeps them: the Maildir's parent is the home (no home in the users file).
  assert.equal(await fs.readFile(path.join(home, 'sieve', 'filters.sieve'), 'utf8'), script);
  assert.equal(await fs.readlink(path.join(home, '.dovecot.sieve')), 'sieve/filters.sieve');
  if (process.getuid?.() === 0) assert.equal((await fs.stat(path.join(home, 'sieve', 'filters.sieve'))).uid, Number(spawnSync('id', ['-u', 'vmail']).stdout.toString()), 'written by the service user');
  const downloaded = path.join(tree.dir, 'downloaded.sieve');
  r = await sieveConnect(port, ['--download', '--remotesieve', 'filters', '--localsieve', downloaded]);
  assert.equal(r.code, 0, r.out);
  assert.equal(await fs.readFile(downloaded, 'utf8'), script);
  r = await sieveConnect(port, ['--delete', '--remotesieve', 'filters']);
  assert.notEqual(r.code, 0, 'the active script cannot be deleted');
  assert.match(r.out, /NO \(ACTIVE\)/);
  r = await sieveConnect(port, ['--deactivate']);
  assert.equal(r.code, 0, r.out);
  await assert.rejects(fs.lstat(path.join(home, '.dovecot.sieve')));
  r = await sieveConnect(port, ['--delete', '--remotesieve', 'filters']);
  assert.equal(r.code, 0, r.out);
  r = await sieveConnect(port, ['--list']);
  assert.deepEqual(r.out.trim().split('\n'), ['"spare"']);
  // A script with an error: sieve-connect shows our line number.
  await fs.writeFile(local, 'require "fileinto";\nkeep;\n\nredirekt "x@example.org";\n');
  r = await sieveConnect(port, ['--upload', '--localsieve', local, '--remotesieve', 'broken']);
  assert.notEqual(r.code, 0);
  assert.match(r.out, /broken: line 4: error: unknown command 'redirekt'/);
  // A wrong password.
  r = await sieveConnect(port, ['--list'], 'wrong');
  assert.notEqual(r.code, 0);
});

/** A raw ManageSieve client: collects replies up to an OK/NO/BYE line, literals included. */
class Raw {
  private buf = Buffer.alloc(0);
  private closed = false;
  private constructor(private readonly s: net.Socket) {
    s.on('data', (d: Buffer) => (this.buf = Buffer.concat([this.buf, d])));
    s.on('close', () => (this.closed = true));
    s.on('error', () => undefined);
  }
  static async open(port: number): Promise<Raw> {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const raw = new Raw(s);
    await raw.reply();
    return raw;
  }
  send(x: string | Buffer): void {
    this.s.write(x);
  }
  async reply(): Promise<string> {
    const until = Date.now() + 10_000;
    for (;;) {
      const text = this.buf.toString('latin1');
      let i = 0;
      for (;;) {
        const nl = text.indexOf('\r\n', i);
        if (nl < 0) break;
        const line = text.slice(i, nl);
        const lit = /\{(\d+)\}$/.exec(line);
        if (lit && !/^(OK|NO|BYE)\b/.test(line)) {
          i = nl + 2 + Number(lit[1]);
          continue;
        }
        if (/^(OK|NO|BYE)\b/.test(line)) {
          let end = nl + 2;
          if (lit) {
            end = nl + 2 + Number(lit[1]);
            const close = text.indexOf('\r\n', end);
            if (close < 0) break;
            end = close + 2;
          }
          const out = this.buf.subarray(0, end).toString();
          this.buf = this.buf.subarray(end);
          return out;
        }
        i = nl + 2;
      }
      if (this.closed || Date.now() > until) throw new Error(`no reply: ${JSON.stringify(this.buf.toString())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  close(): void {
    this.s.destroy();
  }
}

const lit = (s: string) => `{${Buffer.byteLength(s)}+}\r\n${s}`;

test('raw socket: syntax error with its line number, literals in both forms, size limit, bad commands, fail2ban line', async (t) => {
  const { server, port, home } = await startWithSieve(t, ['--managesieve-max-script-size', '2000', '--managesieve-max-scripts', '3']);
  const c = await Raw.open(port);
  t.after(() => c.close());
  c.send(`AUTHENTICATE "PLAIN" "${Buffer.from('\0bob\0wrong').toString('base64')}"\r\n`);
  assert.equal(await c.reply(), 'NO "Authentication failed."\r\n');
  c.send(`AUTHENTICATE "PLAIN" {${Buffer.from('\0bob\0bob-pass').toString('base64').length}}\r\n${Buffer.from('\0bob\0bob-pass').toString('base64')}\r\n`);
  assert.equal(await c.reply(), 'OK "Logged in."\r\n');
  c.send(`PUTSCRIPT "vacation" ${lit('require ["vacation"];\r\n\r\nif header :contains "subject" "x" {\r\n  vacation :days 3 "away"\r\n}\r\n')}\r\n`);
  assert.match(await c.reply(), /^NO "vacation: line 5: error: [^\r\n]*"\r\n$/);
  c.send(`PUTSCRIPT "ok" {6}\r\nkeep;\n\r\nSETACTIVE "ok"\r\nGETSCRIPT "ok"\r\n`);
  assert.equal(await c.reply(), 'OK "PUTSCRIPT completed."\r\n');
  assert.equal(await c.reply(), 'OK "Setactive completed."\r\n');
  assert.equal(await c.reply(), '{6}\r\nkeep;\n\r\nOK "Getscript completed."\r\n');
  c.send(`PUTSCRIPT "big" {3000+}\r\n${'#'.repeat(3000)}\r\nHAVESPACE "big" 2001\r\nHAVESPACE "big" 2000\r\n`);
  assert.equal(await c.reply(), 'NO (QUOTA/MAXSIZE) "Script is too large (max 2000 bytes)."\r\n');
  assert.equal(await c.reply(), 'NO (QUOTA/MAXSIZE) "Script is too large (max 2000 bytes)."\r\n');
  assert.equal(await c.reply(), 'OK "Putscript would succeed."\r\n');
  c.send('PUTSCRIPT "b" "keep;"\r\nPUTSCRIPT "c" "keep;"\r\nPUTSCRIPT "d" "keep;"\r\n');
  assert.equal(await c.reply(), 'OK "PUTSCRIPT completed."\r\n');
  assert.equal(await c.reply(), 'OK "PUTSCRIPT completed."\r\n');
  assert.equal(await c.reply(), 'NO (QUOTA/MAXSCRIPTS) "Too many scripts (max 3)."\r\n');
  c.send('PUTSCRIPT "../escape" "keep;"\r\nXYZZY\r\nNOOP "done"\r\n');
  assert.equal(await c.reply(), `NO "Invalid script name: the name contains '/'."\r\n`);
  assert.equal(await c.reply(), 'NO "Unknown command \\"XYZZY\\"."\r\n');
  assert.equal(await c.reply(), 'OK (TAG "done") "Done"\r\n');
  assert.deepEqual((await fs.readdir(path.join(home, 'sieve'))).sort(), ['b.sieve', 'c.sieve', 'ok.sieve', 'tmp']);
  assert.deepEqual((await fs.readdir(path.dirname(home))).sort(), ['alice', 'bob'], 'nothing written beside the home');
  c.send('LOGOUT\r\n');
  assert.equal(await c.reply(), 'OK "Logout completed."\r\n');
  const failed = server.stdout().split('\n').filter((l) => l.includes('"login failed"'));
  assert.equal(failed.length, 1);
  assert.deepEqual(hostsByPythonRe(failed), ['127.0.0.1']);
  assert.match(failed[0], /"proto":"managesieve"/);
});

test('SETACTIVE applies at once to mail virtual(8) links into INBOX/new, with nobody logged in and no script before', async (t) => {
  const { tree, port, server } = await startWithSieve(t);
  const maildir = tree.maildir('bob');
  // made as the Maildir's owner: the server may run as vmail
  const owner = await fs.stat(maildir);
  for (const sub of ['', 'cur', 'new', 'tmp']) {
    await fs.mkdir(path.join(maildir, '.Lists', sub), { recursive: true });
    await fs.chown(path.join(maildir, '.Lists', sub), owner.uid, owner.gid);
  }
  const c = await Raw.open(port);
  t.after(() => c.close());
  c.send(`AUTHENTICATE "PLAIN" "${Buffer.from('\0bob\0bob-pass').toString('base64')}"\r\n`);
  assert.equal(await c.reply(), 'OK "Logged in."\r\n');
  const script = 'require "fileinto";\nif header :contains "subject" "[list]" { fileinto "Lists"; }\n';
  c.send(`PUTSCRIPT "lists" ${lit(script)}\r\nSETACTIVE "lists"\r\n`);
  assert.equal(await c.reply(), 'OK "PUTSCRIPT completed."\r\n');
  assert.equal(await c.reply(), 'OK "Setactive completed."\r\n');
  // bob had no script when the server started, so his INBOX was not watched; SETACTIVE starts that
  const name = await deliver(maildir, 'From: list@example.net\nTo: bob@example.org\nSubject: [list] news\n\nbody\n');
  const inLists = async () => [...(await fs.readdir(path.join(maildir, '.Lists', 'new'))), ...(await fs.readdir(path.join(maildir, '.Lists', 'cur')))].some((f) => f.startsWith(name));
  const end = Date.now() + 10_000;
  while (!(await inLists())) {
    assert.ok(Date.now() < end, `the message was filed into Lists\n${server.stdout().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.deepEqual(await fs.readdir(path.join(maildir, 'new')), [], 'nothing left in INBOX/new');
});

test('the ready line names the ManageSieve listener; a bad listen spec names its key', async (t) => {
  const port = await freePort();
  const { server } = await serveTree(t, undefined, ['--managesieve-listen', `127.0.0.1:${port}`]);
  // The banner on stderr (what startServer waits for) can come before the log line on stdout: wait for that too.
  const readyLine = () => server.stdout().split('\n').find((l) => l.includes('"msg":"ready"'));
  for (const end = Date.now() + 10_000; !readyLine() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  const ready = readyLine();
  assert.match(ready ?? '', new RegExp(`"managesieve":\\["127\\.0\\.0\\.1:${port}"\\]`));
  const bad = spawnSync(process.execPath, [fileURLToPath(new URL('../../src/cli.js', import.meta.url)), 'serve', '--listen', '127.0.0.1:1', '--users', '/nonexistent', '--maildir', '/tmp/%u', '--managesieve-listen', 'nowhere'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--managesieve-listen must be a list like \["0\.0\.0\.0:4190"\]/);
});
