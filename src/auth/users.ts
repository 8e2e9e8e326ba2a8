// The user database: looks a login up in the passwd-file and checks its password.
import argon2 from 'argon2';
import crypto from 'node:crypto';
import { loadUsersFile, checkPassword, type UserEntry } from './passwd-file.js';
import { ARGON2ID_PARAMS } from './schemes.js';

export type AuthResult =
  | { ok: true; entry: UserEntry }
  /** `unsupported` is set the first time a user's scheme turns out uncheckable (log it once). */
  | { ok: false; unsupported?: string };

export class UserDb {
  private users = new Map<string, UserEntry>();
  /** user + scheme already reported as unsupported. */
  private readonly reported = new Set<string>();
  private dummy: Promise<string> | null = null;

  constructor(readonly file: string) {}

  /** Reads the file; on error the previous users stay in place. */
  async load(): Promise<void> {
    this.users = await loadUsersFile(this.file);
  }

  get size(): number {
    return this.users.size;
  }

  /** Every user (for checks over the whole file). */
  get all(): Iterable<UserEntry> {
    return this.users.values();
  }

  /** Exact name first, then lower-cased (Dovecot installs often use auth_username_format=%Lu). */
  lookup(login: string): UserEntry | undefined {
    return this.users.get(login) ?? this.users.get(login.toLowerCase());
  }

  /** Checks a login. Unknown users cost the same hash work as `passwd`'s, so timing does not tell names apart. */
  async authenticate(login: string, password: string): Promise<AuthResult> {
    const entry = this.lookup(login);
    if (!entry) {
      this.dummy ??= argon2.hash(crypto.randomBytes(16), ARGON2ID_PARAMS);
      await argon2.verify(await this.dummy, password).catch(() => false);
      return { ok: false };
    }
    const r = await checkPassword(entry, password);
    if (r === 'ok') return { ok: true, entry };
    if (r === 'unsupported') {
      const key = `${entry.name}\0${entry.scheme}`;
      if (!this.reported.has(key)) {
        this.reported.add(key);
        return { ok: false, unsupported: entry.scheme };
      }
    }
    return { ok: false };
  }
}

/**
 * Expands a Maildir template for a user: %u the login name, %n its local part,
 * %d its domain, %% a percent sign, and a leading ~ the home from the passwd-file.
 */
export function expandMaildir(template: string, user: UserEntry): string {
  const at = user.name.indexOf('@');
  const local = at < 0 ? user.name : user.name.slice(0, at);
  const domain = at < 0 ? '' : user.name.slice(at + 1);
  let out = template.replace(/%([%und])/g, (_m, c: string) => (c === '%' ? '%' : c === 'u' ? user.name : c === 'n' ? local : domain));
  if (out.startsWith('~')) {
    if (!user.home) throw new Error(`user ${user.name} has no home in the users file, but the Maildir template starts with ~`);
    out = user.home + out.slice(1);
  }
  return out;
}

/**
 * Maildirs that the template gives to more than one user ("/var/mail/Maildir",
 * or "%n" with bob@a.org and bob@b.org): each with the users who would share
 * it and read each other's mail. Users without a home under a ~ template are
 * left out (they are reported on their own).
 */
export function sharedMaildirs(users: Iterable<UserEntry>, template: string): Array<{ maildir: string; users: string[] }> {
  const byDir = new Map<string, string[]>();
  for (const u of users) {
    let dir: string;
    try {
      dir = expandMaildir(template, u);
    } catch {
      continue;
    }
    const list = byDir.get(dir);
    if (list) list.push(u.name);
    else byDir.set(dir, [u.name]);
  }
  return [...byDir].filter(([, names]) => names.length > 1).map(([maildir, names]) => ({ maildir, users: names }));
}
