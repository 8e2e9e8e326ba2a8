// GETQUOTA (RFC 9208 §4.3.1): the usage and limits of a quota root. A user
// has one root, "User quota" (Dovecot's name for it), holding STORAGE (in
// units of 1024 bytes, rounded down, as Dovecot counts) and MESSAGE when
// limited; a user without limits has no root, and no root has the name "".
import { ArgReader } from '../../wire/args.js';
import { NoError } from '../../wire/errors.js';
import { quote } from '../../wire/encoder.js';
import type { QuotaStatus } from '../../mail/api.js';
import { AUTHED, type Command } from './types.js';

export const QUOTA_ROOT = 'User quota';

/** Whether the user has a quota root at all (something is limited). */
export function hasQuotaRoot(q: QuotaStatus): boolean {
  return q.limits.storage !== null || q.limits.messages !== null;
}

/** `* QUOTA "User quota" (STORAGE used limit MESSAGE used limit)` with the resources that are limited. */
export function quotaLine(q: QuotaStatus): string {
  const res: string[] = [];
  if (q.limits.storage !== null) res.push(`STORAGE ${Math.floor(q.bytes / 1024)} ${Math.floor(q.limits.storage / 1024)}`);
  if (q.limits.messages !== null) res.push(`MESSAGE ${q.messages} ${q.limits.messages}`);
  return `* QUOTA ${quote(QUOTA_ROOT)} (${res.join(' ')})\r\n`;
}

export const getquota: Command = {
  names: ['GETQUOTA'],
  states: AUTHED,
  async run(ctx) {
    const r = new ArgReader(ctx.args, 'GETQUOTA');
    const root = r.astring('quota root');
    r.end();
    const q = await ctx.conn.store!.quota();
    if (root !== QUOTA_ROOT || !hasQuotaRoot(q)) throw new NoError("Quota root doesn't exist", null);
    ctx.conn.write(quotaLine(q));
    return { text: 'Getquota completed' };
  },
};
