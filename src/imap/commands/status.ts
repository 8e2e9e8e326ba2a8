// STATUS (RFC 3501 §6.3.10).
import { ArgReader } from '../args.js';
import { BadError, NoError } from '../errors.js';
import { quote } from '../encoder.js';
import { MailboxNameError } from '../../mail/store.js';
import { AUTHED, type Command } from './types.js';

const ITEMS = new Set(['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN']);

export const status: Command = {
  names: ['STATUS'],
  states: AUTHED,
  async run(ctx) {
    const { conn } = ctx;
    const r = new ArgReader(ctx.args, 'STATUS');
    const name = r.astring('mailbox name');
    const items = r.list('status items').map((t) => {
      const v = t.type === 'atom' ? t.value.toUpperCase() : '';
      if (!ITEMS.has(v)) throw new BadError('STATUS: unknown status item');
      return v;
    });
    r.end();
    let mailbox;
    try {
      mailbox = await conn.store!.mailbox(name);
    } catch (err) {
      if (err instanceof MailboxNameError) throw new NoError(err.message, 'CANNOT');
      throw err;
    }
    if (!mailbox) throw new NoError('Mailbox does not exist', 'NONEXISTENT');
    await mailbox.refresh();
    const values: Record<string, number> = {
      MESSAGES: mailbox.count,
      RECENT: mailbox.recentCount,
      UIDNEXT: mailbox.uidNext,
      UIDVALIDITY: mailbox.uidValidity,
      UNSEEN: mailbox.all.reduce((n, m) => n + (m.info.includes('S') ? 0 : 1), 0),
    };
    const shown = mailbox.name === 'INBOX' ? 'INBOX' : /^[\x21\x23-\x27\x2a-\x5b\x5d-\x7a\x7c-\x7e]+$/.test(name) ? name : quote(name);
    conn.write(`* STATUS ${shown} (${items.map((i) => `${i} ${values[i]}`).join(' ')})\r\n`);
  },
};
