// STATUS (RFC 3501 §6.3.10), and APPENDLIMIT (RFC 7889 §3), SIZE (RFC 8438:
// the sum of RFC822.SIZE), DELETED and DELETED-STORAGE (RFC 9208 §4.2: the
// messages with \Deleted, and their size in units of 1024 bytes).
import { ArgReader } from '../../wire/args.js';
import { BadError, NoError } from '../../wire/errors.js';
import type { Token } from '../../wire/parser.js';
import type { MailboxHandle } from '../../mail/api.js';
import { fromClient, mailboxName } from './mailbox-name.js';
import { AUTHED, type Command } from './types.js';

const ITEMS = new Set(['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'APPENDLIMIT', 'HIGHESTMODSEQ', 'SIZE', 'DELETED', 'DELETED-STORAGE', 'MAILBOXID']); // MAILBOXID: RFC 8474 §4.2

/** Status item names from a parenthesised list; BAD for an unknown one. */
export function statusItems(list: Token[]): string[] {
  return list.map((t) => {
    const v = t.type === 'atom' ? t.value.toUpperCase() : '';
    if (!ITEMS.has(v)) throw new BadError('STATUS: unknown status item');
    return v;
  });
}

/** `* STATUS name (items)` for a mailbox, brought up to date first. */
export async function statusLine(name: string, mailbox: MailboxHandle, items: string[], appendLimit: number, utf8 = false, hideRecent = false): Promise<string> {
  await mailbox.refresh();
  /** CRLF sizes, from what the store knows (a size it does not know yet is computed once and kept). */
  const sizeOf = async (deletedOnly: boolean): Promise<number> => {
    let total = 0;
    for (const m of mailbox.all.slice()) {
      if (deletedOnly && !mailbox.isDeleted(m)) continue;
      total += m.vsize ?? (await mailbox.vsizeOf(m).catch(() => 0));
    }
    return total;
  };
  const value = async (item: string): Promise<number> => {
    switch (item) {
      case 'MESSAGES':
        return mailbox.count;
      case 'RECENT':
        return hideRecent ? 0 : mailbox.recentCount; // IMAP4rev2 has no \Recent (RFC 9051 Appendix E); STATUS RECENT is a rev1 item
      case 'UIDNEXT':
        return mailbox.uidNext;
      case 'UIDVALIDITY':
        return mailbox.uidValidity;
      case 'UNSEEN':
        return mailbox.all.reduce((n, m) => n + (mailbox.isSeen(m) ? 0 : 1), 0);
      case 'HIGHESTMODSEQ':
        return mailbox.highestModseq;
      case 'SIZE':
        return sizeOf(false);
      case 'DELETED':
        return mailbox.all.reduce((n, m) => n + (mailbox.isDeleted(m) ? 1 : 0), 0);
      case 'DELETED-STORAGE':
        return Math.floor((await sizeOf(true)) / 1024);
      default:
        return appendLimit;
    }
  };
  const parts: string[] = [];
  for (const i of items) parts.push(i === 'MAILBOXID' ? `MAILBOXID (${mailbox.mailboxId})` : `${i} ${await value(i)}`);
  return `* STATUS ${mailboxName(name, utf8)} (${parts.join(' ')})\r\n`;
}

export const status: Command = {
  names: ['STATUS'],
  states: AUTHED,
  async run(ctx) {
    const { conn } = ctx;
    const r = new ArgReader(ctx.args, 'STATUS');
    const name = fromClient(r.astring('mailbox name'), conn.extensions.utf8);
    const items = statusItems(r.list('status items'));
    r.end();
    const mailbox = await conn.store!.mailbox(name);
    if (!mailbox) throw new NoError('Mailbox does not exist', 'NONEXISTENT');
    conn.write(await statusLine(mailbox.name, mailbox, items, conn.ctx.config.limits.maxAppendBytes, conn.extensions.utf8, conn.extensions.rev2));
  },
};
