// Quota limits as Dovecot spells them in a passwd-file's extra fields
// (`userdb_quota_rule=*:storage=1G`, also `quota_rule=`) and in its config:
// `<mailbox>:<limit>=<value>[:<limit>=<value>…]`, where the mailbox `*` (or
// `?`) is the user's whole quota and the limits are `storage=` (a size whose
// bare number counts KiB, as in Dovecot), `bytes=` (bare number: bytes) and
// `messages=`. A size may end in B, K, M, G or T (powers of 1024; only the
// first letter counts, so 1GB is 1G). 0 means no limit, as in Dovecot.
import type { QuotaLimits } from '../mail/api.js';

export class QuotaRuleError extends Error {}

const UNITS: Record<string, number> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** A size with an optional unit; `bareUnit` multiplies a plain number (1024 for storage=, 1 for bytes=). */
export function parseQuotaSize(text: string, bareUnit = 1): number {
  const m = /^\s*(\d+)([A-Za-z%]?)[A-Za-z]*$/.exec(text);
  if (!m) throw new QuotaRuleError(`invalid size ${JSON.stringify(text)} (a number with an optional unit B, K, M, G or T, e.g. 1G)`);
  if (m[2] === '%') throw new QuotaRuleError(`relative limits (${text}) are not supported`);
  const unit = m[2] ? UNITS[m[2].toUpperCase()] : bareUnit;
  if (unit === undefined) throw new QuotaRuleError(`invalid unit in ${JSON.stringify(text)} (B, K, M, G or T)`);
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n)) throw new QuotaRuleError(`size ${JSON.stringify(text)} is too large`);
  return n;
}

/** A count: digits only. */
function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new QuotaRuleError(`invalid message count ${JSON.stringify(text)}`);
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n)) throw new QuotaRuleError(`message count ${JSON.stringify(text)} is too large`);
  return n;
}

/**
 * The limits one rule sets (only those it names): `*:storage=1G`,
 * `*:messages=1000`, `*:storage=500M:messages=1000`. A limit of 0 is
 * "unlimited" (null). Rules for one folder (`Trash:storage=+100M`, usually
 * quota_rule2) and `backend=` rules give null: we keep one quota per user,
 * and such a rule is left out rather than failing the whole users file.
 */
export function parseQuotaRule(rule: string): Partial<QuotaLimits> | null {
  const colon = rule.indexOf(':');
  if (colon < 0) throw new QuotaRuleError(`invalid quota rule ${JSON.stringify(rule)} (expected e.g. *:storage=1G)`);
  const box = rule.slice(0, colon);
  const rest = rule.slice(colon + 1);
  // A folder's own allowance (Trash:storage=+100M) or a backend= rule: not ours to enforce; ignored.
  if ((box !== '*' && box !== '?') || rest.startsWith('backend=')) return null;
  const out: Partial<QuotaLimits> = {};
  if (rest === 'ignore' || rest === '') throw new QuotaRuleError(`quota rule ${JSON.stringify(rule)}: expected storage=, bytes= or messages=`);
  for (const part of rest.split(':')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (key === 'storage' || key === 'bytes') {
      const n = parseQuotaSize(value, key === 'storage' ? 1024 : 1);
      out.storage = n === 0 ? null : n;
    } else if (key === 'messages') {
      const n = parseCount(value);
      out.messages = n === 0 ? null : n;
    } else {
      throw new QuotaRuleError(`quota rule ${JSON.stringify(rule)}: unknown limit ${JSON.stringify(key)} (storage=, bytes= or messages=)`);
    }
  }
  return out;
}

/** Extra-field names that carry a quota rule (Dovecot's userdb_ prefix, or without it). */
export function isQuotaRuleField(name: string): boolean {
  return /^(userdb_)?quota_rule\d*$/.test(name);
}
