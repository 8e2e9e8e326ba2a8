// `maildir-imapd check`: gathers the inputs (config, users file, stat() of the
// Maildirs, TLS files, postconf/postmap output), runs the pure checks and
// prints every problem with its fix. Exit status 1 when any error was found.
import { existsSync, readFileSync, readdirSync, statSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ConfigError, DEFAULT_CONFIG_FILE, KEYS, loadConfig, type Config } from '../config.js';
import { groupsOfUser, isRoot, lookupGroup, lookupUser, resolveServiceIdentity } from '../privileges.js';
import { checkUsersText } from './users.js';
import { checkMaildirs, type EntriesFn, type Owner, type StatInfo } from './maildirs.js';
import { probeAccess, type AccessProbe } from './access.js';
import { expandMaildir } from '../auth/users.js';
import { checkTls, type Read } from './tls.js';
import { addressesFor, checkPostfix, isVirtual, parsePostconf, postfixList, POSTCONF_PARAMS } from './postfix.js';
import { checkPostfixWiring, WIRING_PARAMS, type SocketAccess, type SocketSetup } from './postfix-wiring.js';
import { error, result, warn, type CheckResult } from './types.js';
import type { UserEntry } from '../auth/passwd-file.js';

export interface CheckOptions {
  flags: Record<string, unknown>;
  configFile: string | undefined;
  /** Run `postconf -c DIR` (a private Postfix config) instead of the system one. */
  postconfDir?: string;
  now?: Date;
  out?: (s: string) => void;
}

function readText(p: string): Read {
  try {
    return { path: p, text: readFileSync(p, 'utf8') };
  } catch (err) {
    return { path: p, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}

function statOrNull(p: string): StatInfo | null {
  try {
    const st = statSync(p);
    return { isDirectory: st.isDirectory(), uid: st.uid, gid: st.gid, mode: st.mode };
  } catch {
    return null;
  }
}

const entriesOf: EntriesFn = (dir) => {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, symlink: e.isSymbolicLink(), directory: e.isDirectory() }));
  } catch {
    return null;
  }
};

/** Who serves the mail: service.user, else the current user (root with no service.user is itself a problem). */
function serviceCheck(cfg: Config): { res: CheckResult; owner: Owner | null } {
  const res = result('service');
  if (cfg.user) {
    try {
      const id = resolveServiceIdentity(cfg);
      if (!isRoot() && process.getuid!() !== id.uid) {
        // serve refuses this too: only root can become service.user.
        const me = lookupUser(String(process.getuid!()))?.name ?? String(process.getuid!());
        res.problems.push(error(`${cfg.source}: service.user = ${id.user}, but this runs as ${me} (uid ${process.getuid!()}), not root: it cannot become ${id.user}, and serve refuses to start so`, `start maildir-imapd as root (it drops to ${id.user} once the ports are bound) or as ${id.user} itself, or remove service.user`));
      } else res.passed.push(`serves mail as ${id.user}:${id.group} (uid ${id.uid}, gid ${id.gid})`);
      return { res, owner: { name: id.user, uid: id.uid, gid: id.gid } };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      res.problems.push(error(err.message, `set service.user to an existing unprivileged user that owns the mail (e.g. vmail)`));
      return { res, owner: null };
    }
  }
  const uid = process.getuid!();
  if (isRoot()) {
    res.problems.push(error(`${cfg.source}: service.user is not set: started as root, maildir-imapd refuses to serve mail as root`, `set service.user = "vmail" (the mail owner) in [service], or pass --user vmail`));
    return { res, owner: null };
  }
  const name = lookupUser(String(uid))?.name ?? String(uid);
  res.passed.push(`no service.user: serves mail as the current user ${name} (uid ${uid})`);
  return { res, owner: { name, uid, gid: process.getgid!() } };
}

/**
 * How our unix sockets will be owned, and who Postfix runs as. With no
 * owner/group set a socket belongs to the user serve starts as (the unit
 * starts it as service.user) and takes its directory's group when that
 * directory is setgid (README's `install -d -o vmail -g postfix -m 2750`).
 */
function socketAccess(cfg: Config, params: Record<string, string>): SocketAccess {
  const starter = lookupUser(cfg.user ?? String(process.getuid!()));
  const fallback = { name: starter?.name ?? String(process.getuid!()), uid: starter?.uid ?? process.getuid!(), gid: starter?.gid ?? process.getgid!() };
  const groupName = (gid: number) => lookupGroup(String(gid))?.name ?? String(gid);
  const setup = (listen: string[], owner: string | null, group: string | null, mode: number, prefix: string, ownerKey: string): SocketSetup => {
    const u = owner ? lookupUser(owner) : undefined;
    const g = group ? lookupGroup(group) : undefined;
    let gid = fallback.gid;
    const unix = listen.find((l) => l.startsWith('unix:'));
    if (unix) {
      try {
        const dir = statSync(path.dirname(unix.slice(5)));
        if (dir.mode & 0o2000) gid = dir.gid;
      } catch {
        // not made yet: serve makes no directories, the listener's own error says so
      }
    }
    return {
      owner: u ? { name: u.name, uid: u.uid } : { name: fallback.name, uid: fallback.uid },
      group: g ? { name: g.name, gid: g.gid } : { name: groupName(gid), gid },
      mode,
      keys: { owner: `${prefix}.${ownerKey}`, group: `${prefix}.socket_group`, mode: `${prefix}.socket_mode` },
    };
  };
  const pf = lookupUser((params.mail_owner ?? '').trim() || 'postfix');
  return {
    sockets: {
      lmtp: setup(cfg.lmtpListen, cfg.lmtpSocketUser, cfg.lmtpSocketGroup, cfg.lmtpSocketMode, 'lmtp', 'socket_user'),
      sasl: setup(cfg.saslListen, cfg.saslSocketOwner, cfg.saslSocketGroup, cfg.saslSocketMode, 'sasl', 'socket_owner'),
      quotaStatus: setup(cfg.quotaStatusListen, cfg.quotaStatusSocketUser, cfg.quotaStatusSocketGroup, cfg.quotaStatusSocketMode, 'quota_status', 'socket_user'),
    },
    postfix: pf ? { name: pf.name, uid: pf.uid, gids: groupsOfUser(pf) } : null,
  };
}

function postfixCheck(cfg: Config, users: UserEntry[], owner: Owner, postconfDir: string | undefined): CheckResult[] {
  const c = postconfDir ? ['-c', postconfDir] : [];
  const postconfCmd = postconfDir ? `postconf -c ${postconfDir}` : 'postconf';
  const pc = spawnSync('postconf', [...c, '-x', ...POSTCONF_PARAMS, ...WIRING_PARAMS], { encoding: 'utf8' });
  if ((pc.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    const res = result('postfix');
    res.passed.push('Postfix not installed (no postconf on PATH): delivery not checked');
    return [res];
  }
  if (pc.status !== 0) {
    const res = result('postfix');
    const why = (pc.stderr || '').split('\n').find((l) => l.includes('fatal')) ?? pc.stderr.trim();
    res.problems.push(warn(`${postconfCmd} failed: ${why}`, postconfDir ? `check that ${postconfDir}/main.cf exists` : `configure Postfix (/etc/postfix/main.cf), or pass --postconf-dir for another instance`));
    return [res];
  }
  const params = parsePostconf(pc.stdout);
  const mapEntries = new Map<string, string | null>();
  const lookupProblems: string[] = [];
  if (isVirtual(params)) {
    for (const u of users) {
      for (const addr of addressesFor(u, params)) {
        let found: string | null = null;
        for (const map of postfixList(params.virtual_mailbox_maps)) {
          const q = spawnSync('postmap', [...c, '-q', addr, map], { encoding: 'utf8' });
          if (q.status === 0) {
            found = q.stdout.trim();
            break;
          }
          if (q.status !== 1) lookupProblems.push(`postmap -q ${addr} ${map}: ${(q.stderr || String(q.error)).trim()}`);
        }
        mapEntries.set(addr, found);
      }
    }
  }
  const systemHomes = new Map<string, string | null>();
  for (const u of users) {
    const local = u.name.split('@')[0];
    systemHomes.set(local, lookupUser(local)?.home ?? null);
  }
  const res = checkPostfix({
    params,
    users,
    template: cfg.maildir,
    mapEntries,
    systemHomes,
    service: owner,
    postconfCmd,
    realpath: (p) => {
      try {
        return realpathSync(p);
      } catch {
        return p;
      }
    },
  });
  for (const l of [...new Set(lookupProblems)]) res.problems.push(warn(l, `check virtual_mailbox_maps (${params.virtual_mailbox_maps})`));
  const wiring = checkPostfixWiring(params, { lmtp: cfg.lmtpListen, sasl: cfg.saslListen, quotaStatus: cfg.quotaStatusListen }, postconfCmd, cfg.source, socketAccess(cfg, params));
  return wiring.passed.length || wiring.problems.length ? [res, wiring] : [res];
}

function print(results: CheckResult[], out: (s: string) => void): { errors: number; warnings: number; passed: number } {
  let errors = 0;
  let warnings = 0;
  let passed = 0;
  for (const r of results) {
    for (const p of r.passed) {
      out(`ok     ${r.area.padEnd(9)} ${p}\n`);
      passed++;
    }
    for (const p of r.problems) {
      out(`${p.severity === 'error' ? 'ERROR' : 'WARN '}  ${r.area.padEnd(9)} ${p.message}\n`);
      out(`       ${'fix:'.padEnd(9)} ${p.fix}\n`);
      if (p.severity === 'error') errors++;
      else warnings++;
    }
  }
  return { errors, warnings, passed };
}

const hasListener = (cfg: Config) => cfg.listen.length > 0 || cfg.tlsListen.length > 0;

/** Where the shipped unit is installed, if it is: it runs `serve --config /etc/maildir-imapd/config.toml`. */
const UNIT_FILES = ['/etc/systemd/system/maildir-imapd.service', '/lib/systemd/system/maildir-imapd.service', '/usr/lib/systemd/system/maildir-imapd.service'];

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * How to start what was just checked: the unit when it is installed and would
 * read the same settings (the default config file, no flags); otherwise serve
 * with the same config file and flags.
 */
export function startCommand(opts: Pick<CheckOptions, 'flags' | 'configFile'>, unitInstalled = UNIT_FILES.some((f) => existsSync(f))): string {
  const flags = KEYS.flatMap((k) => {
    const v = opts.flags[k.flag];
    if (v === undefined) return [];
    return (Array.isArray(v) ? v : [v]).map((x) => `--${k.flag} ${shellQuote(String(x))}`);
  });
  const file = opts.configFile;
  if (unitInstalled && flags.length === 0 && (file === undefined || file === DEFAULT_CONFIG_FILE)) return 'systemctl enable --now maildir-imapd';
  return ['maildir-imapd serve', ...(file !== undefined ? [`--config ${shellQuote(file)}`] : []), ...flags].join(' ');
}

/** Runs every check and prints the report; returns the exit status (0 all good or only warnings, 1 errors). */
export async function runCheck(opts: CheckOptions): Promise<number> {
  const out = opts.out ?? ((s: string) => process.stdout.write(s));
  const now = opts.now ?? new Date();
  const results: CheckResult[] = [];
  let cfg: Config;
  const configRes = result('config');
  try {
    cfg = await loadConfig(opts.flags, opts.configFile, { requireListener: false });
    configRes.passed.push(`${cfg.source}: valid (users ${cfg.users}, maildir ${cfg.maildir})`);
    if (!hasListener(cfg)) {
      configRes.problems.push(warn(`${cfg.source}: no listener (imap.listen, imap.tls_listen): the users, Maildirs and Postfix are checked, but serve would not start`, `to serve, set imap.listen = ["0.0.0.0:143"] in the config file or pass --listen 0.0.0.0:143`));
    }
    results.push(configRes);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    configRes.problems.push(error(err.message, `fix the config file or flags (see deploy/config.toml for every key)`));
    print([configRes], out);
    out(`\n1 problem: the configuration does not load, so nothing else was checked.\n`);
    return 1;
  }

  const { res: serviceRes, owner } = serviceCheck(cfg);
  results.push(serviceRes);

  const usersRead = readText(cfg.users);
  let users: UserEntry[] = [];
  let usersResult: CheckResult;
  if ('error' in usersRead) {
    usersResult = result('users');
    usersResult.problems.push(error(`users file ${cfg.users}: cannot read: ${usersRead.error}`, `create it (name:{SCHEME}password per line) or point auth.users at it; it must be readable by ${owner?.name ?? 'the service user'}`));
  } else {
    const checked = checkUsersText(usersRead.text, cfg.users);
    users = checked.users;
    usersResult = checked.result;
  }
  results.push(usersResult);

  // As root, with a service user to become: what serve will need after dropping privileges is tried as that user.
  let access: ((p: string) => string | null | undefined) | undefined;
  if (owner && isRoot() && owner.uid !== 0) {
    const probes: AccessProbe[] = [{ path: cfg.users, want: 'read' }];
    for (const u of users) {
      try {
        const dir = path.resolve(expandMaildir(cfg.maildir, u));
        for (const p of [dir, ...['cur', 'new', 'tmp'].map((s) => path.join(dir, s))]) probes.push({ path: p, want: 'rwx' });
      } catch {
        // a template error: reported by the Maildir check
      }
    }
    const probed = probeAccess({ uid: owner.uid, gid: owner.gid }, probes);
    if (probed.ok) {
      access = (p) => probed.denied.get(p);
      const denied = probed.denied.get(cfg.users);
      if (denied && !('error' in usersRead)) {
        usersResult.problems.push(
          error(
            `users file ${cfg.users}: ${owner.name} cannot read it (${denied}, tried as ${owner.name}): serve reads it after becoming ${owner.name}, and would fail to start`,
            `chgrp ${owner.gid} ${cfg.users} && chmod g+r ${cfg.users}  (or: setfacl -m u:${owner.name}:r ${cfg.users}; and ${owner.name} must be able to enter the directories above it)`,
          ),
        );
      } else if (!denied) usersResult.passed.push(`users file ${cfg.users} is readable by ${owner.name} (tried as ${owner.name})`);
    } else {
      usersResult.problems.push(warn(`could not try the users file and the Maildirs as ${owner.name}: ${probed.reason}`, `run: runuser -u ${owner.name} -- cat ${cfg.users} >/dev/null`));
    }
  }

  if (owner) results.push(checkMaildirs(users, cfg.maildir, owner, statOrNull, { sharedAllowed: cfg.sharedMaildir, access, entries: entriesOf }));
  else {
    const r = result('maildirs');
    r.problems.push(error(`Maildir ownership not checked: no user to serve as`, `set service.user, then run check again`));
    results.push(r);
  }

  results.push(checkTls(cfg.tlsCert ? readText(cfg.tlsCert) : null, cfg.tlsKey ? readText(cfg.tlsKey) : null, now, owner?.name ?? 'the service user'));

  if (owner) results.push(...postfixCheck(cfg, users, owner, opts.postconfDir));

  const { errors, warnings, passed } = print(results, out);
  if (errors === 0) {
    out(`\nAll good: ${passed} checks passed${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'} (see above)` : ''}.${hasListener(cfg) ? ` Start it with: ${startCommand(opts)}` : ''}\n`);
    return 0;
  }
  const total = errors + warnings;
  out(`\n${total} problem${total === 1 ? '' : 's'} (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}): fix them as shown, then run maildir-imapd check again.\n`);
  return 1;
}
