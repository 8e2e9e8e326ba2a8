// A private Dovecot 2.3 on 127.0.0.1 as a reference peer for interop tests.
// Modelled on /work/shared/peers/dovecot-up.sh, but self-contained so the
// project carries its own harness. Nothing touches /etc/dovecot: config,
// base_dir, state and log all live under the caller's stateDir (base_dir moves
// to /run or /tmp when stateDir is too long for unix socket paths).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promises as fs, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import crypto from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './server.js';

const run = promisify(execFile);

export interface DovecotPeer {
  port: number;
  /** Dovecot's LMTP on 127.0.0.1, when asked for (startDovecot's `lmtp`) and dovecot-lmtpd is installed. */
  lmtpPort?: number;
  stop(): Promise<void>;
  log(): Promise<string>;
  /** Every process of this Dovecot (master, its services, one imap per connection). */
  pids(): number[];
}

const MAIL_USER = 'vmail';
const USERS: Array<[string, string]> = [
  ['bob', 'bob-pass'],
  ['alice', 'alice-pass'],
];
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function findDovecot(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, 'dovecot');
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** True when a dovecot binary is installed (tests skip only when it is not). */
export function dovecotAvailable(): boolean {
  return findDovecot() !== undefined;
}

interface Owner {
  uid: number;
  gid: number;
}

/** The mail owner: `vmail` as root (created if missing), else the current user. */
async function mailOwner(): Promise<Owner> {
  if (!isRoot()) return { uid: process.getuid!(), gid: process.getgid!() };
  const lookup = async (): Promise<Owner | undefined> => {
    try {
      const uid = Number((await run('id', ['-u', MAIL_USER])).stdout.trim());
      const gid = Number((await run('id', ['-g', MAIL_USER])).stdout.trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  let owner = await lookup();
  if (!owner) {
    try {
      await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--comment', 'Maildir owner for Dovecot interop tests', MAIL_USER]);
    } catch {
      // A concurrent test may have created it first; the lookup below decides.
    }
    owner = await lookup();
    if (!owner) throw new Error(`could not create user ${MAIL_USER}`);
  }
  return owner;
}

/**
 * chown -R the tree to vmail. Dovecot never runs imap processes as root, so as
 * root every Maildir must belong to the unprivileged mail user. A no-op when
 * not root (Dovecot then runs as the current user).
 */
export async function chownToVmail(dir: string): Promise<void> {
  if (!isRoot()) return;
  const { uid, gid } = await mailOwner();
  await run('chown', ['-R', `${uid}:${gid}`, dir]);
}

/** Fails early with a clear message if `user` cannot reach `dir` (e.g. a 0700 mkdtemp parent). */
async function checkReachable(owner: Owner, dir: string, what: string): Promise<void> {
  if (!isRoot()) return;
  try {
    await run('setpriv', [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', 'test', '-x', dir]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // no setpriv: let Dovecot report it
    throw new Error(`uid ${owner.uid} cannot reach ${what} ${dir}: a parent directory is not world-executable (chmod o+x it)`);
  }
}

/** Whether something on 127.0.0.1:port answers with an IMAP `* OK` greeting within a second. */
export function greeting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('* OK'));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Process ids whose process group is `pgid` (Dovecot's master and every child it forked). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // Fields after the ")" that closes comm: state ppid pgrp ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === pgid) out.push(Number(name));
    } catch {
      // the process exited while we looked
    }
  }
  return out;
}

// Masters still running, so a crashing test process does not leave Dovecots behind.
const live = new Set<number>();
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** True when Debian's dovecot-lmtpd is installed (Dovecot's LMTP, for side-by-side delivery benchmarks). */
export function dovecotLmtpAvailable(): boolean {
  return ['/usr/lib/dovecot/lmtp', '/usr/libexec/dovecot/lmtp'].some((p) => existsSync(p));
}

function confText(o: { instance: string; base: string; stateDir: string; logPath: string; usersFile: string; mailRoot: string; port: number; owner: Owner; lmtpPort?: number; extraConf?: string }): string {
  const priv = isRoot()
    ? // Login processes as dovenull (chrooted), internals as dovecot, as in a stock install.
      'default_internal_user = dovecot\ndefault_login_user = dovenull\n'
    : `default_internal_user = ${os.userInfo().username}\ndefault_login_user = ${os.userInfo().username}\n`;
  const chroot = isRoot() ? '' : '  chroot =\n';
  return `# Generated by test/support/dovecot.ts (private interop peer)
instance_name = ${o.instance}
base_dir = ${o.base}
state_dir = ${path.join(o.stateDir, 'state')}
log_path = ${o.logPath}
info_log_path = ${o.logPath}
protocols = imap${o.lmtpPort ? ' lmtp' : ''}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
${priv}mail_uid = ${o.owner.uid}
mail_gid = ${o.owner.gid}
first_valid_uid = ${o.owner.uid}
last_valid_uid = ${o.owner.uid}
first_valid_gid = 1
mail_location = maildir:${o.mailRoot}/%n/Maildir
namespace inbox {
  inbox = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n ${o.usersFile}
}
userdb {
  driver = passwd-file
  args = username_format=%n ${o.usersFile}
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${o.port}
  }
  inet_listener imaps {
    port = 0
  }
${chroot}}
service anvil {
${chroot}}
${
  o.lmtpPort
    ? `service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${o.lmtpPort}
  }
}
`
    : ''
}${o.extraConf ?? ''}`;
}

/**
 * Starts a private Dovecot serving `<mailRoot>/%n/Maildir` for bob/bob-pass and
 * alice/alice-pass on 127.0.0.1 (a free port unless `port` is given). Config,
 * base_dir, state and log live under `<stateDir>`. As root: mail processes run
 * as user `vmail` (created with useradd --system if missing) and the whole
 * mailRoot is chown -R'd to vmail first.
 */
export async function startDovecot(opts: {
  mailRoot: string;
  stateDir: string;
  port?: number;
  lmtp?: boolean;
  /** Appended to the generated dovecot.conf (extra services and plugins, for benchmarks). */
  extraConf?: string;
}): Promise<DovecotPeer> {
  const bin = findDovecot();
  if (!bin) throw new Error('dovecot is not installed (apt-get install dovecot-imapd)');
  await fs.mkdir(opts.mailRoot, { recursive: true });
  await fs.mkdir(opts.stateDir, { recursive: true });
  const mailRoot = await fs.realpath(opts.mailRoot);
  const stateDir = await fs.realpath(opts.stateDir);
  // stateDir must be readable by the auth process (user dovecot) for the users file.
  await fs.chmod(stateDir, 0o755);
  await fs.mkdir(path.join(stateDir, 'state'), { recursive: true });

  const owner = await mailOwner();
  await chownToVmail(mailRoot);
  await checkReachable(owner, mailRoot, 'mailRoot');
  // The auth process (user dovecot) reads the users file there; same o+x requirement.
  await checkReachable(owner, stateDir, 'stateDir');

  const usersFile = path.join(stateDir, 'users');
  // passwd-file: user:{scheme}pass:uid:gid:gecos:home:shell:extra
  await fs.writeFile(usersFile, USERS.map(([u, p]) => `${u}:{PLAIN}${p}:${owner.uid}:${owner.gid}::${path.join(mailRoot, u)}::\n`).join(''));
  if (isRoot()) {
    await run('chown', ['root:dovecot', usersFile]);
    await fs.chmod(usersFile, 0o640);
  } else {
    await fs.chmod(usersFile, 0o600);
  }

  const id = crypto.randomBytes(4).toString('hex');
  // Unix socket paths are limited to 108 bytes; Dovecot's longest name under base_dir is ~30.
  let base = path.join(stateDir, 'run');
  if (base.length > 70) base = path.join(isRoot() ? '/run' : os.tmpdir(), `mimapd-dovecot-${id}`);
  await fs.mkdir(base, { recursive: true });
  await fs.chmod(base, 0o755);
  const logPath = path.join(stateDir, 'dovecot.log');
  await fs.appendFile(logPath, '');
  const confPath = path.join(stateDir, 'dovecot.conf');

  // A port from freePort() can be taken between probing and Dovecot's bind; retry then.
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const lmtpPort = opts.lmtp && dovecotLmtpAvailable() ? await freePort() : undefined;
    await fs.writeFile(confPath, confText({ instance: `mimapd-dovecot-${id}-${port}`, base, stateDir, logPath, usersFile, mailRoot, port, owner, lmtpPort, extraConf: opts.extraConf }));
    try {
      return { ...(await launch(bin, confPath, base, logPath, port)), lmtpPort };
    } catch (e) {
      if (opts.port !== undefined || attempt >= 2 || !/Address already in use/.test(String(e))) {
        await fs.rm(base, { recursive: true, force: true });
        throw e;
      }
    }
  }
}

async function launch(bin: string, confPath: string, base: string, logPath: string, port: number): Promise<DovecotPeer> {
  const startupLog = path.join(path.dirname(confPath), 'startup.log');
  const out = await fs.open(startupLog, 'w');
  let proc: ChildProcess;
  try {
    // -F keeps the master in the foreground so we own its pid; detached gives it
    // its own process group, so stop() can check that every child is gone too.
    proc = spawn(bin, ['-F', '-c', confPath], { stdio: ['ignore', out.fd, out.fd], detached: true });
  } finally {
    await out.close();
  }
  const pid = proc.pid!;
  live.add(pid);
  proc.unref(); // a forgotten peer must not keep the test process alive (the exit hook kills it)
  let exited = false;
  const exit = new Promise<void>((resolve) => proc.on('exit', () => ((exited = true), resolve())));
  proc.on('error', () => undefined);

  const why = async () => `${await fs.readFile(startupLog, 'utf8').catch(() => '')}${(await fs.readFile(logPath, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')}`;
  const killGroup = async () => {
    if (!exited) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exit, new Promise<void>((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
    }
    // Children (imap, auth, log, …) share the master's process group; wait for all.
    for (let i = 0; i < 100 && groupMembers(pid).length > 0; i++) {
      if (i === 50) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await sleep(100);
    }
    live.delete(pid);
    const left = groupMembers(pid);
    rmSync(base, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`dovecot processes still running after stop: ${left.join(' ')}`);
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) {
      await killGroup();
      throw new Error(`dovecot exited during startup:\n${await why()}`);
    }
    if (await greeting(port)) break;
    if (Date.now() > deadline) {
      await killGroup();
      throw new Error(`dovecot gave no greeting on 127.0.0.1:${port} within 10 s:\n${await why()}`);
    }
    await sleep(50);
  }

  let stopped: Promise<void> | undefined;
  return {
    port,
    stop: () => (stopped ??= killGroup()),
    log: () => fs.readFile(logPath, 'utf8'),
    pids: () => groupMembers(pid),
  };
}
