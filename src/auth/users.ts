// The user database: looks a login up in the passwd-file and checks its password.
import { loadUsersFile, verifyPassword, type UserEntry } from './passwd-file.js';

export class UserDb {
  private users = new Map<string, UserEntry>();

  constructor(readonly file: string) {}

  /** Reads the file; on error the previous users stay in place. */
  async load(): Promise<void> {
    this.users = await loadUsersFile(this.file);
  }

  get size(): number {
    return this.users.size;
  }

  /** Exact name first, then lower-cased (Dovecot installs often use auth_username_format=%Lu). */
  lookup(login: string): UserEntry | undefined {
    return this.users.get(login) ?? this.users.get(login.toLowerCase());
  }

  /** The entry if the password is right, else null. Unknown users cost the same hash work. */
  async authenticate(login: string, password: string): Promise<UserEntry | null> {
    const entry = this.lookup(login);
    if (!entry) {
      await verifyPassword({ name: '', scheme: 'PLAIN', secret: '\0', uid: null, gid: null, home: null }, password);
      return null;
    }
    return (await verifyPassword(entry, password)) ? entry : null;
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
