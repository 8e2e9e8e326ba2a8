// Which user an LMTP recipient address names, with the same login forms as
// IMAP LOGIN: the users file names users either by whole address
// ("bob@example.org", Dovecot's %u) or by local part alone ("bob", %n).
// "bob+lists@example.org" is bob with the detail "lists" (Postfix's and
// Dovecot's recipient_delimiter: any one of a set of characters).
import { encodeMutf7 } from '../wire/mutf7.js';

export interface ResolvedRecipient<U> {
  user: U;
  /** The folder a +detail names (modified UTF-7, as folder names are on the wire and on disk); null without one. */
  detailFolder: string | null;
}

/**
 * `lookup` finds a user by login (exact, then lower-cased, as LOGIN does).
 * The whole address is tried first, then its local part alone (a users file
 * of bare names: Postfix only hands us domains it routes here). A name that
 * contains the delimiter wins over the detail reading, as in Postfix.
 */
export function resolveRecipient<U extends { name: string }>(
  address: string,
  lookup: (login: string) => U | undefined,
  delimiters: string,
): ResolvedRecipient<U> | null {
  const at = address.lastIndexOf('@');
  const local = at < 0 ? address : address.slice(0, at);
  const domain = at < 0 ? null : address.slice(at + 1);
  const find = (loc: string): U | undefined => {
    if (domain !== null) {
      const whole = lookup(`${loc}@${domain}`);
      if (whole) return whole;
    }
    const bare = lookup(loc);
    // A bare local part only finds a user named without a domain.
    return bare && !bare.name.includes('@') ? bare : undefined;
  };
  const user = find(local);
  if (user) return { user, detailFolder: null };
  if (!delimiters) return null;
  let cut = -1;
  for (const d of delimiters) {
    const i = local.indexOf(d);
    if (i > 0 && (cut < 0 || i < cut)) cut = i;
  }
  if (cut < 0) return null;
  const base = find(local.slice(0, cut));
  if (!base) return null;
  const detail = local.slice(cut + 1);
  return { user: base, detailFolder: detail ? encodeMutf7(detail) : null };
}
