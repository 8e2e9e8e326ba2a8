// Pigeonhole's sieve-test (Debian dovecot-sieve) as a reference: run a script
// on a message and read back the actions it would take, and put our result
// into the same plain form so the two can be compared line by line.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { SieveAction, SieveResult } from '../../src/sieve/index.js';

export function sieveTestBinary(): string | null {
  for (const d of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin']) {
    if (d && existsSync(path.join(d, 'sieve-test'))) return path.join(d, 'sieve-test');
  }
  return null;
}

/** Owner sieve-test runs as: Dovecot never reads mail as root, so as root a `vmail` user (created if missing). */
function owner(): { uid: number; gid: number } {
  if (process.getuid?.() !== 0) return { uid: process.getuid!(), gid: process.getgid!() };
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'vmail'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'vmail']);
    } catch {
      // created concurrently by another test: the lookup decides
    }
    return { uid: id('-u'), gid: id('-g') };
  }
}

export interface Reference {
  dir: string;
  config: string;
  binary: string;
}

/** A private config (no /etc/dovecot) and a Maildir with the folders `folders` for mailboxexists; `pluginSettings` go into its plugin { } block. */
export async function setupReference(dir: string, folders: string[], pluginSettings: string[] = []): Promise<Reference> {
  const binary = sieveTestBinary();
  if (!binary) throw new Error('sieve-test is not installed (apt-get install dovecot-sieve)');
  const { uid, gid } = owner();
  const maildir = path.join(dir, 'Maildir');
  for (const f of ['', ...folders.map((n) => '.' + n)]) {
    for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(maildir, f, sub), { recursive: true });
  }
  const config = path.join(dir, 'dovecot.conf');
  await fs.writeFile(
    config,
    [`mail_uid = ${uid}`, `mail_gid = ${gid}`, `first_valid_uid = ${Math.min(uid, 500)}`, `first_valid_gid = ${Math.min(gid, 500)}`, `mail_location = maildir:${maildir}`, 'log_path = /dev/stderr', '# RFC 6131 :seconds, which Debian leaves off by default', 'plugin {', '  sieve_extensions = +vacation-seconds', ...pluginSettings.map((l) => `  ${l}`), '}', ''].join('\n'),
  );
  await chownTree(dir, uid, gid);
  return { dir, config, binary };
}

async function chownTree(p: string, uid: number, gid: number): Promise<void> {
  await fs.chmod(p, 0o755).catch(() => {});
  if (process.getuid?.() === 0) await fs.chown(p, uid, gid);
  const st = await fs.stat(p);
  if (!st.isDirectory()) return;
  for (const e of await fs.readdir(p)) await chownTree(path.join(p, e), uid, gid);
}

export interface Envelope {
  from: string;
  to: string;
}

/** sieve-test's verdict in the plain form (see normalize). */
export function runReference(ref: Reference, script: string, message: string, env: Envelope): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      ref.binary,
      ['-c', ref.config, '-f', env.from, '-r', env.to, script, message],
      { env: { ...process.env, TZ: 'UTC' }, timeout: 20_000, encoding: 'utf8' },
      (err, stdout, stderr) => resolve(parseSieveTest(stdout, stderr, err ? ((err as { code?: number }).code ?? -1) : 0)),
    );
  });
}

/**
 * The plain form:
 *   compile error
 *   runtime error
 *   or one line per action, then "implicit keep …" / "no implicit keep".
 * Flags are lower-cased and sorted (IMAP flags compare without case); empty
 * flag lists are left out, as sieve-test prints nothing for them.
 */
export function parseSieveTest(stdout: string, stderr: string, code: number | string): string {
  const all = stdout + stderr;
  if (/failed to compile sieve script/.test(all)) return 'compile error';
  if (/final result: failed/.test(all)) return 'runtime error';
  if (code !== 0) return `sieve-test exited ${code}: ${stderr.trim().split('\n').slice(-1)[0]}`;
  const perf = stdout.indexOf('\nPerformed actions:');
  const impl = stdout.indexOf('\nImplicit keep:');
  if (perf < 0 || impl < 0) return `unreadable sieve-test output: ${stdout.slice(0, 200)}`;
  const out: string[] = [];
  const actions = stdout.slice(perf, impl).split('\n').slice(2);
  let cur: string[] | null = null;
  const flush = (): void => {
    if (cur) out.push(cur.join(' '));
    cur = null;
  };
  let inBody = false;
  let lastKey: string | null = null; // a vacation parameter whose value runs over several lines
  for (let line of actions) {
    line = line.replace(/\r$/, '');
    if (inBody) {
      if (line === 'END MESSAGE') inBody = false;
      else cur!.push(`body=${JSON.stringify(line)}`);
      continue;
    }
    if (line === 'START MESSAGE') {
      inBody = true;
      // the blank line before START MESSAGE is a separator, not part of the last parameter
      if (lastKey !== null) {
        const v = JSON.parse(cur!.pop()!.slice(lastKey.length + 1)) as string;
        cur!.push(`${lastKey}=${JSON.stringify(v.replace(/\n$/, ''))}`);
        lastKey = null;
      }
      continue;
    }
    if (lastKey !== null && line !== 'START MESSAGE' && !line.startsWith(' * ') && !/^ {4}=> /.test(line)) {
      const v = JSON.parse(cur!.pop()!.slice(lastKey.length + 1)) as string;
      cur!.push(`${lastKey}=${JSON.stringify(v + '\n' + line)}`);
      continue;
    }
    lastKey = null;
    let m: RegExpExecArray | null;
    if ((m = /^ \* store message in folder: (.*)$/.exec(line))) {
      flush();
      cur = [`store ${JSON.stringify(m[1])}`];
    } else if ((m = /^ \* redirect message to: <(.*)>$/.exec(line))) {
      flush();
      cur = [`redirect ${m[1]}`];
    } else if (line === ' * discard') {
      flush();
      cur = ['discard'];
    } else if ((m = /^ \* reject message with reason: (.*)$/.exec(line))) {
      flush();
      cur = [`reject ${JSON.stringify(m[1].slice(0, 60))}`];
    } else if (line === ' * send vacation message:') {
      flush();
      cur = ['vacation'];
    } else if ((m = /^ {8}\+ add IMAP flags: (.*)$/.exec(line))) {
      cur!.push(`flags=${flagText(m[1].split(' '))}`);
    } else if (/^ {8}\+ create mailbox if it does not exist$/.test(line)) {
      cur!.push('create');
    } else if (/^ {8}\+ preserve implicit keep$/.test(line)) {
      // shown again in the implicit keep section
    } else if ((m = /^ {4}=> (\w+)\s*: (.*)$/.exec(line))) {
      cur!.push(`${m[1]}=${JSON.stringify(m[2])}`);
      lastKey = m[1];
    } else if (line.trim() !== '' && line.trim() !== '(none)') {
      flush();
      cur = [`? ${line.trim()}`];
    }
  }
  flush();
  const implicit = stdout.slice(impl).split('\n').slice(2);
  const store = implicit.find((l) => l.startsWith(' * store message in folder: INBOX'));
  if (store) {
    const flags = implicit.find((l) => l.startsWith('        + add IMAP flags: '));
    out.push('implicit keep' + (flags ? ` flags=${flagText(flags.slice(27).split(' '))}` : ''));
  } else out.push('no implicit keep');
  return out.join('\n');
}

function flagText(flags: string[]): string {
  return flags
    .filter((f) => f !== '')
    .map((f) => f.toLowerCase())
    .sort()
    .join(',');
}

function sanitize(s: string): string {
  // sieve-test prints control characters (CR, LF) as '?'
  return s.replace(/[\x00-\x1f]/g, '?');
}

/** Our result in the same plain form. */
export function normalize(r: SieveResult | { compileError: true }): string {
  if ('compileError' in r) return 'compile error';
  if (r.status === 'error') return 'runtime error';
  const out: string[] = r.actions.map(actionText);
  const ik = r.implicitKeep;
  out.push(ik ? 'implicit keep' + (ik.flags && ik.flags.length ? ` flags=${flagText(ik.flags)}` : '') : 'no implicit keep');
  return out.join('\n');
}

function actionText(a: SieveAction): string {
  const flags = (f: string[] | null): string[] => (f && f.length ? [`flags=${flagText(f)}`] : []);
  switch (a.type) {
    case 'keep':
      return ['store "INBOX"', ...flags(a.flags)].join(' ');
    case 'fileinto':
      return [`store ${JSON.stringify(a.mailbox)}`, ...flags(a.flags), ...(a.create ? ['create'] : [])].join(' ');
    case 'redirect':
      return `redirect ${a.address}`;
    case 'discard':
      return 'discard';
    case 'reject':
      return `reject ${JSON.stringify(sanitize(a.reason).slice(0, 60))}`;
    case 'vacation': {
      const parts = ['vacation', `seconds=${JSON.stringify(String(a.seconds))}`];
      if (a.subject !== null) parts.push(`subject=${JSON.stringify(a.subject)}`);
      if (a.from !== null) parts.push(`from=${JSON.stringify(a.from)}`);
      parts.push(`handle=${JSON.stringify(a.handle.replace(/\r/g, ''))}`);
      for (const l of a.reason.split(/\r?\n/)) parts.push(`body=${JSON.stringify(l)}`);
      return parts.join(' ');
    }
  }
}
