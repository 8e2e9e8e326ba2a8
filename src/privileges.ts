// Mail is never served as root. Started as root (to bind 143/993), the server
// drops to service.user/service.group after listen() and before open() — before
// it reads the users file or touches a Maildir. Started as root without
// service.user, it refuses to start.
import { readFileSync } from 'node:fs';
import { ConfigError, type Config } from './config.js';

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string | null;
}

export interface GroupEntry {
  name: string;
  gid: number;
  /** Users listed as supplementary members. */
  members?: string[];
}

/** Parses /etc/passwd text (name:x:uid:gid:gecos:home:shell). */
export function parsePasswd(text: string): Account[] {
  const out: Account[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] || null });
  }
  return out;
}

/** Parses /etc/group text (name:x:gid:members). */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * A user by name or numeric id, from /etc/passwd. (Users from NSS sources such
 * as LDAP are not seen here; the mail owner is a local system user.)
 */
export function lookupUser(nameOrId: string, passwd = readOr('/etc/passwd')): Account | undefined {
  const all = parsePasswd(passwd);
  return all.find((a) => a.name === nameOrId) ?? (/^\d+$/.test(nameOrId) ? all.find((a) => a.uid === Number(nameOrId)) : undefined);
}

export function lookupGroup(nameOrId: string, group = readOr('/etc/group')): GroupEntry | undefined {
  const all = parseGroup(group);
  return all.find((g) => g.name === nameOrId) ?? (/^\d+$/.test(nameOrId) ? all.find((g) => g.gid === Number(nameOrId)) : undefined);
}

/** The groups a user is in: the primary one and every group listing the user as a member. */
export function groupsOfUser(user: Account, group = readOr('/etc/group')): number[] {
  const gids = new Set([user.gid]);
  for (const g of parseGroup(group)) if (g.members?.includes(user.name)) gids.add(g.gid);
  return [...gids];
}

export interface Identity {
  uid: number;
  gid: number;
  user: string;
  group: string;
}

/**
 * The uid/gid to serve mail as, from service.user/service.group: the group
 * defaults to the user's primary group. Throws a ConfigError naming the key
 * when a name does not exist or resolves to root.
 */
export function resolveServiceIdentity(cfg: Pick<Config, 'user' | 'group' | 'source'>, passwd?: string, group?: string): Identity {
  if (!cfg.user) throw new ConfigError(`${cfg.source}: service.user is not set (the mail owner to serve as, e.g. vmail; pass --user or set it in [service])`);
  const acct = lookupUser(cfg.user, passwd);
  if (!acct) throw new ConfigError(`${cfg.source}: service.user = ${JSON.stringify(cfg.user)}: no such user in /etc/passwd (create it: useradd --system --user-group --no-create-home --shell /usr/sbin/nologin ${cfg.user})`);
  let gid = acct.gid;
  let groupName = lookupGroup(String(acct.gid), group)?.name ?? String(acct.gid);
  if (cfg.group) {
    const g = lookupGroup(cfg.group, group);
    if (!g) throw new ConfigError(`${cfg.source}: service.group = ${JSON.stringify(cfg.group)}: no such group in /etc/group`);
    gid = g.gid;
    groupName = g.name;
  }
  if (acct.uid === 0) throw new ConfigError(`${cfg.source}: service.user = ${JSON.stringify(cfg.user)} is root; mail is never served as root: set service.user to the mail owner (e.g. vmail)`);
  if (gid === 0) throw new ConfigError(`${cfg.source}: service.group resolves to gid 0 (root); set service.group to the mail owner's group (e.g. vmail)`);
  return { uid: acct.uid, gid, user: acct.name, group: groupName };
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Called between listen() and open(). As root: resolves service.user/group and
 * becomes them for good (supplementary groups, then gid, then uid); without
 * service.user it throws. Not root: nothing to do (returns null), unless
 * service.user names someone else, which is refused.
 */
export function dropPrivileges(cfg: Pick<Config, 'user' | 'group' | 'source'>): Identity | null {
  if (!isRoot()) {
    // service.user given but not started as root: only root can become it. Already it is fine; anyone
    // else would create mail files owned by the wrong user, so that is refused, never silently ignored.
    if (cfg.user) {
      const id = resolveServiceIdentity(cfg);
      const uid = process.getuid!();
      if (uid !== id.uid) {
        const me = lookupUser(String(uid))?.name ?? String(uid);
        throw new ConfigError(`${cfg.source}: service.user = ${id.user}, but started as ${me} (uid ${uid}), not root: cannot become ${id.user}. Start as root (it drops to ${id.user} once the ports are bound) or as ${id.user}, or remove service.user`);
      }
    }
    return null;
  }
  if (!cfg.user) throw new ConfigError(`${cfg.source}: started as root but service.user is not set; mail is never served as root: set service.user (--user) to the mail owner, e.g. vmail, or start as that user`);
  const id = resolveServiceIdentity(cfg);
  process.setgroups!([id.gid]);
  process.setgid!(id.gid);
  process.setuid!(id.uid);
  if (process.getuid!() !== id.uid || process.geteuid!() !== id.uid || process.getgid!() !== id.gid) {
    throw new Error(`privilege drop to ${id.user}:${id.group} did not take effect`);
  }
  return id;
}
