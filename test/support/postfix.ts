// A private Postfix on 127.0.0.1 for end-to-end tests: its own config,
// queue and log under `stateDir`, delivering with virtual(8) into
// `<mailRoot>/<user>/Maildir/` — the path maildir-imapd serves. Nothing else
// listens and nothing is relayed (every other destination bounces).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { promises as fs, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './server.js';

const run = promisify(execFile);

export interface PostfixPeer {
  port: number;
  configDir: string;
  /** Changes main.cf settings (postconf -e) and reloads. */
  postconf(settings: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
  log(): Promise<string>;
}

export function postfixAvailable(): boolean {
  return existsSync('/usr/sbin/postfix') && process.getuid?.() === 0;
}

async function ensureVmail(): Promise<{ uid: number; gid: number }> {
  try {
    await run('id', ['-u', 'vmail']);
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'vmail']).catch(() => undefined);
  }
  const uid = Number((await run('id', ['-u', 'vmail'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'vmail'])).stdout.trim());
  return { uid, gid };
}

/**
 * `virtualTransport` hands the virtual domain's mail to another transport
 * instead of virtual(8) (e.g. `lmtp:inet:127.0.0.1:PORT`, `lmtp:unix:/path`);
 * `recipientDelimiter` lets `user+detail` match the user's entry.
 */
export async function startPostfix(opts: {
  mailRoot: string;
  stateDir: string;
  users: string[];
  domain?: string;
  virtualTransport?: string;
  recipientDelimiter?: string;
  /** More main.cf lines, after (and overriding) the ones here. */
  extraMain?: string[];
  /** More master.cf lines (e.g. a second smtpd with -o overrides). */
  extraServices?: string[];
}): Promise<PostfixPeer> {
  const domain = opts.domain ?? 'localdomain';
  const port = await freePort();
  const { uid, gid } = await ensureVmail();
  const cfg = path.join(opts.stateDir, 'etc');
  const spool = path.join(opts.stateDir, 'spool');
  const data = path.join(opts.stateDir, 'data');
  const logFile = path.join(opts.stateDir, 'maillog');
  // Postfix insists its config and queue are root-owned and not group/world writable.
  for (const d of [opts.stateDir, cfg, spool]) {
    await fs.mkdir(d, { recursive: true });
    await fs.chown(d, 0, 0);
    await fs.chmod(d, 0o755);
  }
  await fs.mkdir(data, { recursive: true });
  await run('chown', ['postfix:postfix', data]);
  await fs.chmod(data, 0o700);
  // virtual(8) writes as vmail: the Maildirs must be its own, and the path to them traversable.
  await run('chown', ['-R', `${uid}:${gid}`, opts.mailRoot]);
  await fs.writeFile(path.join(cfg, 'vmailbox'), opts.users.map((u) => `${u}@${domain} ${u}/Maildir/\n`).join(''));
  await fs.writeFile(
    path.join(cfg, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `config_directory = ${cfg}`,
      `queue_directory = ${spool}`,
      `data_directory = ${data}`,
      'meta_directory = /etc/postfix',
      `syslog_name = postfix-test-${port}`,
      `maillog_file = ${logFile}`,
      `maillog_file_prefixes = ${opts.stateDir}`,
      'myhostname = test-postfix.localhost',
      'mydomain = localhost',
      'mydestination =',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.0/8',
      'smtpd_relay_restrictions = reject_unauth_destination',
      'smtpd_recipient_restrictions =',
      'biff = no',
      'append_dot_mydomain = no',
      `virtual_mailbox_domains = ${domain}`,
      `virtual_mailbox_base = ${opts.mailRoot}`,
      `virtual_mailbox_maps = texthash:${cfg}/vmailbox`,
      `virtual_uid_maps = static:${uid}`,
      `virtual_gid_maps = static:${gid}`,
      `virtual_minimum_uid = ${Math.min(uid, 100)}`,
      'virtual_mailbox_limit = 0',
      ...(opts.virtualTransport ? [`virtual_transport = ${opts.virtualTransport}`] : []),
      ...(opts.recipientDelimiter ? [`recipient_delimiter = ${opts.recipientDelimiter}`] : []),
      'local_transport = error:local delivery disabled',
      'local_recipient_maps =',
      'alias_maps =',
      'alias_database =',
      'default_transport = error:outbound mail disabled',
      'relay_transport = error:outbound mail disabled',
      ...(opts.extraMain ?? []),
      '',
    ].join('\n'),
  );
  // No chroot, and smtpd on our port is the only TCP listener.
  const services = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'smtp unix - - n - - smtp',
    'lmtp unix - - n - - lmtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'virtual unix - n n - - virtual',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
    ...(opts.extraServices ?? []),
  ];
  await fs.writeFile(path.join(cfg, 'master.cf'), services.join('\n') + '\n');
  await fs.writeFile(logFile, '');
  await roomForLogDatagrams();
  await run('postfix', ['-c', cfg, 'check']);
  await run('postfix', ['-c', cfg, 'start']);
  const until = Date.now() + 30_000;
  let last = '';
  for (;;) {
    try {
      const banner = await smtpBanner(port);
      if (banner.startsWith('220')) break;
      last = `answered ${JSON.stringify(banner.slice(0, 200))}`;
    } catch (err) {
      last = (err as Error).message; // not listening yet, or no greeting
    }
    if (Date.now() > until) throw new Error(`postfix did not greet on port ${port} within 30 s (${last}); its log: ${await fs.readFile(logFile, 'utf8').catch(() => '')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    configDir: cfg,
    log: () => fs.readFile(logFile, 'utf8'),
    async postconf(settings) {
      await run('postconf', ['-c', cfg, '-e', ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)]);
      await run('postfix', ['-c', cfg, 'reload']);
    },
    async stop() {
      await run('postfix', ['-c', cfg, 'stop']).catch(() => undefined);
      const pidFile = path.join(spool, 'pid', 'master.pid');
      const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim());
      for (let i = 0; pid && i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/**
 * Every Postfix process logs through postlogd's unix datagram socket
 * (maillog_file). With the kernel's queue at 10 datagrams, as in this
 * container's network namespace, a burst at start fills it; postlogd was
 * then found blocked sending to that same socket, so nothing ever drained
 * it, and every smtpd hung before its greeting (all of them in the kernel's
 * unix_wait_for_peer): the test's "no greeting" flake. 512 is the usual default.
 */
async function roomForLogDatagrams(): Promise<void> {
  const knob = '/proc/sys/net/unix/max_dgram_qlen';
  const now = Number(await fs.readFile(knob, 'utf8').catch(() => '512'));
  if (now < 512) await fs.writeFile(knob, '512').catch(() => undefined); // not root, or read-only: as it is
}

/** The first reply on `port`; rejects after 3 s without one (a listener whose smtpd never greets must not hang the caller). */
function smtpBanner(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('data', (d) => {
      s.end('QUIT\r\n');
      resolve(d.toString());
    });
    s.once('error', reject);
    s.setTimeout(3000, () => s.destroy(new Error('no greeting within 3 s')));
  });
}

/** A minimal SMTP client: one message, one or more recipients. Resolves with the time the 250 after DATA arrived. */
export function sendMail(port: number, from: string, to: string | string[], message: string): Promise<{ acceptedAt: number; reply: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const rcpts = (Array.isArray(to) ? to : [to]).map((r) => `RCPT TO:<${r}>\r\n`);
    const steps = [`EHLO test.localhost\r\n`, `MAIL FROM:<${from}>\r\n`, ...rcpts, 'DATA\r\n', dotStuff(message) + '.\r\n', 'QUIT\r\n'];
    const dataEnd = steps.length - 2;
    let buf = '';
    let step = -1;
    s.on('data', (d) => {
      buf += d.toString();
      // Wait for a complete final reply line (code followed by a space).
      const lines = buf.split('\r\n');
      const last = lines.length >= 2 ? lines[lines.length - 2] : '';
      if (!/^\d{3} /.test(last)) return;
      const code = Number(last.slice(0, 3));
      buf = '';
      if (step === dataEnd) {
        if (code !== 250) return reject(new Error(`message refused: ${last}`));
        const acceptedAt = performance.now();
        s.end(steps[dataEnd + 1]);
        return resolve({ acceptedAt, reply: last });
      }
      if (code >= 400) {
        s.destroy();
        return reject(new Error(`SMTP error at step ${step}: ${last}`));
      }
      step++;
      s.write(steps[step]);
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`SMTP connection closed at step ${step}`)));
    s.setTimeout(30_000, () => s.destroy(new Error(`SMTP timed out at step ${step}`)));
  });
}

function dotStuff(message: string): string {
  const crlf = message.replace(/\r?\n/g, '\r\n');
  return (crlf.endsWith('\r\n') ? crlf : crlf + '\r\n').replace(/^\./gm, '..');
}

/**
 * One SMTP conversation, line by line: each line is sent once the reply to the
 * previous one (or the banner) is complete. Returns every reply (its lines
 * joined by LF), the banner's first.
 */
export function smtpDialog(port: number, lines: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buf = '';
    let reply: string[] = [];
    s.on('data', (d) => {
      buf += d.toString();
      const parts = buf.split('\r\n');
      buf = parts.pop()!;
      for (const line of parts) {
        reply.push(line);
        if (!/^\d{3} /.test(line)) continue;
        replies.push(reply.join('\n'));
        reply = [];
        const next = lines[replies.length - 1];
        if (next === undefined) {
          s.end();
          return resolve(replies);
        }
        s.write(next + '\r\n');
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(replies));
    s.setTimeout(30_000, () => s.destroy(new Error(`SMTP dialog timed out after ${replies.length} replies: ${replies.join(' | ')}`)));
  });
}
