// Starts the real maildir-imapd process (dist/src/cli.js) on 127.0.0.1 with
// a temp mail tree, for end-to-end tests and benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** Every server started by this process, so none outlives a failed test file. */
const running = new Set<ChildProcess>();
if (process.env.NODE_TEST_CONTEXT) {
  const { after } = await import('node:test');
  after(() => {
    for (const p of running) p.kill('SIGKILL');
  });
}

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');

export interface MailTree {
  dir: string;
  usersFile: string;
  /** The Maildir of a user, as the server's template resolves it. */
  maildir(user: string): string;
  template: string;
}

/** A temp tree with users bob/bob-pass and alice/alice-pass and their empty Maildirs (under `parent`, default the temp dir). */
export async function makeMailTree(prefix = 'mimapd-', parent = os.tmpdir()): Promise<MailTree> {
  const dir = await fs.mkdtemp(path.join(parent, prefix));
  const usersFile = path.join(dir, 'users');
  await fs.writeFile(usersFile, 'bob:{PLAIN}bob-pass\nalice:{PLAIN}alice-pass\n');
  const maildir = (user: string) => path.join(dir, 'mail', user, 'Maildir');
  for (const u of ['bob', 'alice']) for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(maildir(u), sub), { recursive: true });
  return { dir, usersFile, maildir, template: path.join(dir, 'mail', '%n', 'Maildir') };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface RunningServer {
  port: number;
  proc: ChildProcess;
  /** Everything the process wrote to stdout (pino JSON lines). */
  stdout: () => string;
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

/**
 * Mail is never served as root: as root, the tree is handed to the unprivileged
 * `vmail` user (created if missing, as the Dovecot harness does) and the server
 * is told to drop to it. Files a test writes later as root stay readable, and
 * their directories are vmail's, so the server can still rename them.
 */
async function serveAsArgs(tree: MailTree): Promise<string[]> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return [];
  const { execFile } = await import('node:child_process');
  const run = (cmd: string, args: string[]) => new Promise<void>((resolve, reject) => execFile(cmd, args, (err) => (err ? reject(err) : resolve())));
  await run('id', ['-u', 'vmail']).catch(() =>
    run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'vmail']).catch(() => undefined),
  );
  // Only the mail and the users file: other things in the tree (a private Postfix's spool) keep their owners.
  // Only what is not vmail's yet: a chown, even to the same owner, moves a directory's ctime, and a
  // restarted server would then see new/ and cur/ as changed (the name list's stamps) where nothing was.
  await run('find', [path.join(tree.dir, 'mail'), '(', '!', '-user', 'vmail', '-o', '!', '-group', 'vmail', ')', '-exec', 'chown', 'vmail:vmail', '{}', '+']);
  await run('chown', ['vmail:vmail', tree.usersFile]);
  await fs.chmod(tree.dir, 0o711); // mkdtemp makes it 0700; vmail must traverse it
  return ['--user', 'vmail', '--group', 'vmail'];
}

export async function startServer(tree: MailTree, extraArgs: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const port = await freePort();
  const asUser = await serveAsArgs(tree);
  const proc = spawn(
    process.execPath,
    // No admin socket unless a test asks: the default one (/run/maildir-imapd) may belong to an installed server.
    [CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--users', tree.usersFile, '--maildir', tree.template, '--log-level', 'info', ...asUser, ...(extraArgs.includes('--admin-socket') ? [] : ['--admin-socket', '']), ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    // Generous: on a loaded 2-core machine a cold node start alone has taken over 10 s; a hang still fails.
    const timer = setTimeout(() => reject(new Error(`server did not start within 30 s: ${err}`)), 30_000);
    const check = () => {
      if (err.includes('ready on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stderr!.on('data', check);
    proc.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`server exited: ${err}`));
    });
  });
  return {
    port,
    proc,
    stdout: () => out,
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

let seq = 0;
/** Delivers like Postfix's virtual(8): write tmp/X, link() to new/Y, unlink tmp/X. Returns the new/ name. */
export async function deliver(maildir: string, content: string | Buffer): Promise<string> {
  const now = Date.now();
  const secs = Math.floor(now / 1000);
  const tmpName = `${secs}.P${process.pid}_${seq}.test`;
  const name = `${secs}.V801I${(++seq).toString(16)}M${(now % 1000) * 1000}.test`;
  const tmp = path.join(maildir, 'tmp', tmpName);
  await fs.writeFile(tmp, content);
  await fs.link(tmp, path.join(maildir, 'new', name));
  await fs.unlink(tmp);
  return name;
}

/**
 * A temp tree and a server on it, both gone when the test ends (server first:
 * it must not outlive its files). `prepare` runs before the server starts.
 */
export async function serveTree(
  t: { after(fn: () => Promise<void>): void },
  prepare?: (tree: MailTree) => Promise<void>,
  extraArgs: string[] = [],
): Promise<{ tree: MailTree; server: RunningServer }> {
  const tree = await makeMailTree();
  if (prepare) await prepare(tree);
  const server = await startServer(tree, extraArgs);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  return { tree, server };
}

/** The server's pino lines at warn level or above (JSON lines of its stdout). */
export function warningLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => {
    try {
      return (JSON.parse(l) as { level?: number }).level! >= 40;
    } catch {
      return false;
    }
  });
}
