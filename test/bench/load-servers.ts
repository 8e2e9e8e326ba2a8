// Servers for the load benchmark: maildir-imapd (through test/support's
// startServer, with the limits lifted and a raised fd limit) and a private
// Dovecot whose config the load rows can extend (connection limits, TLS),
// plus /proc readings (RSS, PSS, CPU) and the SIGUSR2 loop-stats line.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promises as fsp, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import crypto from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, startServer, warningLines, type MailTree, type RunningServer } from '../support/server.js';
import { chownToVmail, greeting } from '../support/dovecot.js';
import type { LoopReport } from '../../src/loop-stats.js';
import { shippedEnv } from './shipped-env.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const isRoot = () => process.getuid?.() === 0;

// --- /proc ---

export function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Proportional set size (shared pages divided among their users), kB. */
export function pssKb(pid: number): number | null {
  try {
    const m = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** utime+stime (+ reaped children's) of a process, in ms. */
export function cpuMs(pid: number, withChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): utime=14, stime=15, cutime=16, cstime=17
    const tick = 1000 / 100;
    const own = Number(f[11]) + Number(f[12]);
    return (withChildren ? own + Number(f[13]) + Number(f[14]) : own) * tick;
  } catch {
    return 0;
  }
}

export interface ProcInfo {
  pid: number;
  comm: string;
}

/** Processes in process group `pgid`. */
export function groupProcs(pgid: number): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === pgid) out.push({ pid: Number(name), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {
      // gone
    }
  }
  return out;
}

// --- maildir-imapd ---

/** A SIGUSR2 "loop stats" line (src/loop-stats.ts), stamped when this process read it (Date.now()). */
export type LoopLine = LoopReport & { at: number };

export interface Ours {
  server: RunningServer;
  pid: number;
  /** SIGUSR2, then the loop-stats line it produced (a new measuring window starts). */
  loopStats(): Promise<LoopLine>;
  warnings(): string[];
  stop(): Promise<void>;
}

/**
 * Our server as the systemd unit runs it (shipped-env.ts: its young
 * generation, and jemalloc where installed), like the sync, push and memory
 * benches: at 10,000 TLS sessions that is 31 KB a session instead of 34
 * under glibc and V8's defaults, and an 8 MiB smaller start.
 */
export async function startOurs(tree: MailTree, extra: string[] = []): Promise<Ours> {
  // The load comes from a few loopback addresses, 50-100 handshakes at a time each.
  const server = await startServer(tree, ['--max-unauthenticated-per-ip', '1000', ...extra], shippedEnv());
  const pid = server.proc.pid!;
  // 10,000 sessions need more descriptors than a shell's default.
  // Raised to the hard limit (raising the hard limit itself needs CAP_SYS_RESOURCE).
  try {
    const hard = execFileSync('prlimit', ['--pid', String(pid), '--nofile', '--output=HARD', '--noheadings'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${hard}:${hard}`], { stdio: 'ignore' });
  } catch {
    // no prlimit: the inherited limit stays
  }
  // Scans only what the server wrote since the last reading (its stdout grows by a line per connection event).
  let scanned = 0;
  const MARK = '"msg":"loop stats"';
  const nextLine = (): string | null => {
    const out = server.stdout();
    const at = out.indexOf(MARK, scanned);
    if (at < 0) {
      scanned = Math.max(scanned, out.lastIndexOf('\n') + 1);
      return null;
    }
    const start = out.lastIndexOf('\n', at) + 1;
    const end = out.indexOf('\n', at);
    if (end < 0) return null;
    scanned = end + 1;
    return out.slice(start, end);
  };
  while (nextLine() !== null);
  return {
    server,
    pid,
    async loopStats() {
      server.proc.kill('SIGUSR2');
      for (let i = 0; i < 1000; i++) {
        const line = nextLine();
        if (line) return { ...(JSON.parse(line) as LoopLine), at: Date.now() };
        await sleep(10);
      }
      throw new Error('no "loop stats" line within 10 s of SIGUSR2');
    },
    warnings() {
      return warningLines(server.stdout());
    },
    async stop() {
      await server.stop();
    },
  };
}

// --- Dovecot ---

export interface DovecotOptions {
  mailRoot: string;
  stateDir: string;
  users: Array<[string, string]>;
  /** Appended to the generated config (limits). */
  extraConf?: string;
  tls?: { cert: string; key: string };
}

export interface TunedDovecot {
  port: number;
  tlsPort: number | null;
  pid: number;
  conf: string;
  log(): Promise<string>;
  stop(): Promise<void>;
}

function findDovecot(): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin']) {
    if (d && existsSync(path.join(d, 'dovecot'))) return path.join(d, 'dovecot');
  }
  return undefined;
}

export const dovecotInstalled = () => findDovecot() !== undefined;


/**
 * A private Dovecot like test/support/dovecot.ts starts (same layout: mail as
 * vmail, logins as dovenull, everything under stateDir), with users of our
 * choosing, optional implicit TLS on its own port, and extra settings.
 */
export async function startTunedDovecot(o: DovecotOptions): Promise<TunedDovecot> {
  const bin = findDovecot();
  if (!bin) throw new Error('dovecot is not installed');
  await fsp.mkdir(o.mailRoot, { recursive: true });
  await fsp.mkdir(path.join(o.stateDir, 'state'), { recursive: true });
  const mailRoot = await fsp.realpath(o.mailRoot);
  const stateDir = await fsp.realpath(o.stateDir);
  await fsp.chmod(stateDir, 0o755);
  const root = isRoot();
  const uid = root ? Number(execFileSync('id', ['-u', 'vmail'], { encoding: 'utf8' }).trim()) : process.getuid!();
  const gid = root ? Number(execFileSync('id', ['-g', 'vmail'], { encoding: 'utf8' }).trim()) : process.getgid!();
  await chownToVmail(mailRoot);
  const usersFile = path.join(stateDir, 'users');
  await fsp.writeFile(usersFile, o.users.map(([u, p]) => `${u}:{PLAIN}${p}:${uid}:${gid}::${path.join(mailRoot, u)}::\n`).join(''));
  if (root) {
    await run('chown', ['root:dovecot', usersFile]);
    await fsp.chmod(usersFile, 0o640);
  }
  const id = crypto.randomBytes(4).toString('hex');
  let base = path.join(stateDir, 'run');
  if (base.length > 70) base = path.join(root ? '/run' : os.tmpdir(), `mimapd-load-dovecot-${id}`);
  await fsp.mkdir(base, { recursive: true });
  await fsp.chmod(base, 0o755);
  const logPath = path.join(stateDir, 'dovecot.log');
  await fsp.appendFile(logPath, '');
  const port = await freePort();
  const tlsPort = o.tls ? await freePort() : null;
  const priv = root
    ? 'default_internal_user = dovecot\ndefault_login_user = dovenull\n'
    : `default_internal_user = ${os.userInfo().username}\ndefault_login_user = ${os.userInfo().username}\n`;
  const chroot = root ? '' : '  chroot =\n';
  const ssl = o.tls ? `ssl = yes\nssl_cert = <${o.tls.cert}\nssl_key = <${o.tls.key}\nssl_min_protocol = TLSv1.2\n` : 'ssl = no\n';
  const conf = `# Generated by test/bench/load-servers.ts (load benchmark peer)
instance_name = mimapd-load-dovecot-${id}
base_dir = ${base}
state_dir = ${path.join(stateDir, 'state')}
log_path = ${logPath}
info_log_path = ${logPath}
protocols = imap
listen = 127.0.0.1
${ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
${priv}mail_uid = ${uid}
mail_gid = ${gid}
first_valid_uid = ${uid}
last_valid_uid = ${uid}
first_valid_gid = 1
mail_location = maildir:${mailRoot}/%n/Maildir
namespace inbox {
  inbox = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n ${usersFile}
}
userdb {
  driver = passwd-file
  args = username_format=%n ${usersFile}
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${tlsPort ?? 0}
  }
${chroot}}
service anvil {
${chroot}}
${o.extraConf ?? ''}
`;
  const confPath = path.join(stateDir, 'dovecot.conf');
  await fsp.writeFile(confPath, conf);
  const startupLog = path.join(stateDir, 'startup.log');
  const out = await fsp.open(startupLog, 'w');
  const proc = spawn(bin, ['-F', '-c', confPath], { stdio: ['ignore', out.fd, out.fd], detached: true });
  await out.close();
  const pid = proc.pid!;
  proc.unref();
  let exited = false;
  const exit = new Promise<void>((resolve) => proc.on('exit', () => ((exited = true), resolve())));
  proc.on('error', () => undefined);
  const killAll = async () => {
    if (!exited) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
      await Promise.race([exit, sleep(10_000)]);
    }
    for (let i = 0; i < 100 && groupProcs(pid).length; i++) {
      if (i === 30) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await sleep(100);
    }
    rmSync(base, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited || Date.now() > deadline) {
      await killAll();
      throw new Error(`dovecot did not start: ${await fsp.readFile(startupLog, 'utf8').catch(() => '')}${(await fsp.readFile(logPath, 'utf8').catch(() => '')).split('\n').slice(-10).join('\n')}`);
    }
    if (await greeting(port)) break;
    await sleep(50);
  }
  let stopped: Promise<void> | undefined;
  return { port, tlsPort, pid, conf: confPath, log: () => fsp.readFile(logPath, 'utf8'), stop: () => (stopped ??= killAll()) };
}

/** RSS and PSS summed over a Dovecot's processes of the given names (kB). */
export function dovecotMemory(masterPid: number, names: string[]): { processes: number; rssKb: number; pssKb: number; byName: Record<string, { n: number; rssKb: number; pssKb: number }> } {
  const byName: Record<string, { n: number; rssKb: number; pssKb: number }> = {};
  let rss = 0;
  let pss = 0;
  let n = 0;
  for (const p of groupProcs(masterPid)) {
    if (!names.includes(p.comm)) continue;
    const r = procStatusKb(p.pid, 'VmRSS') ?? 0;
    const s = pssKb(p.pid) ?? 0;
    const b = (byName[p.comm] ??= { n: 0, rssKb: 0, pssKb: 0 });
    b.n++;
    b.rssKb += r;
    b.pssKb += s;
    rss += r;
    pss += s;
    n++;
  }
  return { processes: n, rssKb: rss, pssKb: pss, byName };
}

/** CPU (ms) of a Dovecot: every live process of its group plus the children its master reaped. */
export function dovecotCpuMs(masterPid: number): number {
  let ms = 0;
  for (const p of groupProcs(masterPid)) ms += cpuMs(p.pid, true);
  return ms;
}

/** A self-signed ECDSA P-256 certificate (what certbot issues by default) in `dir`, readable by vmail. */
export async function makeCert(dir: string): Promise<{ cert: string; key: string }> {
  await fsp.mkdir(dir, { recursive: true });
  await fsp.chmod(dir, 0o755);
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost']);
  await fsp.chmod(cert, 0o644);
  await fsp.chmod(key, 0o644); // a throwaway test key: vmail (our server after the drop) must read it
  return { cert, key };
}
