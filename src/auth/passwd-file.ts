// Dovecot-style passwd-file: name:{SCHEME}secret[:uid:gid:gecos:home:shell:extra]
// The same file an existing Dovecot install uses, so it can be pointed at as is.
import { promises as fs } from 'node:fs';
import { verifyScheme, UnsupportedScheme } from './schemes.js';
import type { QuotaLimits } from '../mail/api.js';
import { isQuotaRuleField, parseQuotaRule, QuotaRuleError } from './quota-rules.js';

export interface UserEntry {
  name: string;
  scheme: string;
  secret: string;
  uid: number | null;
  gid: number | null;
  home: string | null;
  /** Quota limits the extra fields set (`userdb_quota_rule=*:storage=1G`); unset ones take the configured default. */
  quota: Partial<QuotaLimits>;
}

export class UsersFileError extends Error {}

export function parseUsersFile(text: string, file: string): Map<string, UserEntry> {
  const users = new Map<string, UserEntry>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(':');
    const name = fields[0];
    if (!name || fields.length < 2) throw new UsersFileError(`${file}:${i + 1}: expected name:{SCHEME}password`);
    const pw = fields[1];
    const m = /^\{([A-Za-z0-9._-]+)\}(.*)$/.exec(pw);
    // Dovecot's passwd-file default scheme is CRYPT when none is given.
    const scheme = m ? m[1].toUpperCase() : 'CRYPT';
    const secret = m ? m[2] : pw;
    const num = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : null);
    let quota: Partial<QuotaLimits> = {};
    try {
      quota = quotaOfExtraFields(fields.slice(7).join(':'));
    } catch (err) {
      if (err instanceof QuotaRuleError) throw new UsersFileError(`${file}:${i + 1}: ${err.message}`);
      throw err;
    }
    users.set(name, { name, scheme, secret, uid: num(fields[2]), gid: num(fields[3]), home: fields[5] || null, quota });
  });
  return users;
}

/**
 * The quota limits in a line's extra fields: space-separated name=value
 * pairs after the shell field (`userdb_quota_rule=*:storage=1G
 * userdb_quota_rule2=*:messages=1000`), later rules overriding earlier ones.
 */
export function quotaOfExtraFields(extra: string): Partial<QuotaLimits> {
  const out: Partial<QuotaLimits> = {};
  for (const field of extra.split(/\s+/)) {
    const eq = field.indexOf('=');
    if (eq <= 0 || !isQuotaRuleField(field.slice(0, eq))) continue;
    Object.assign(out, parseQuotaRule(field.slice(eq + 1)) ?? {});
  }
  return out;
}

export async function loadUsersFile(file: string): Promise<Map<string, UserEntry>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new UsersFileError(`cannot read users file ${file}: ${(err as Error).message}`);
  }
  return parseUsersFile(text, file);
}

/**
 * Checks a password against an entry. Schemes we cannot verify fail closed:
 * 'unsupported' lets the caller say which scheme is missing.
 */
export async function checkPassword(entry: UserEntry, password: string): Promise<'ok' | 'bad' | 'unsupported'> {
  try {
    return (await verifyScheme(entry.scheme, entry.secret, password)) ? 'ok' : 'bad';
  } catch (err) {
    if (err instanceof UnsupportedScheme) return 'unsupported';
    throw err;
  }
}

export async function verifyPassword(entry: UserEntry, password: string): Promise<boolean> {
  return (await checkPassword(entry, password)) === 'ok';
}
