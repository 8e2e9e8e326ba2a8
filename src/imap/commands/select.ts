// SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2).
import { ArgReader } from '../args.js';
import { NoError } from '../errors.js';
import { MailboxNameError } from '../../mail/store.js';
import { SYSTEM_FLAGS } from '../../mail/flags.js';
import { AUTHED, type Command } from './types.js';

export const select: Command = {
  names: ['SELECT', 'EXAMINE'],
  states: AUTHED,
  async run(ctx) {
    const { conn } = ctx;
    const r = new ArgReader(ctx.args, ctx.name);
    const name = r.astring('mailbox name');
    r.end();
    const readOnly = ctx.name === 'EXAMINE';
    conn.select(null); // a failed SELECT leaves no mailbox selected (§6.3.1)
    let mailbox;
    try {
      mailbox = await conn.store!.mailbox(name);
    } catch (err) {
      if (err instanceof MailboxNameError) throw new NoError(err.message, 'CANNOT');
      throw err;
    }
    if (!mailbox) throw new NoError('Mailbox does not exist', 'NONEXISTENT');
    const view = await mailbox.attach(readOnly);
    conn.select(view);
    const keywords = mailbox.keywords.list.filter((k) => k !== undefined);
    const flags = [...SYSTEM_FLAGS, ...keywords].join(' ');
    let firstUnseen = 0;
    for (let i = 0; i < view.exists; i++) {
      const meta = view.meta(view.uidAt(i + 1)!);
      if (meta && !meta.info.includes('S')) {
        firstUnseen = i + 1;
        break;
      }
    }
    let out = `* FLAGS (${flags})\r\n`;
    out += readOnly
      ? '* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n'
      : `* OK [PERMANENTFLAGS (${flags} \\*)] Flags permitted.\r\n`;
    out += `* ${view.exists} EXISTS\r\n* ${view.recent.size} RECENT\r\n`;
    if (firstUnseen) out += `* OK [UNSEEN ${firstUnseen}] First unseen.\r\n`;
    out += `* OK [UIDVALIDITY ${mailbox.uidValidity}] UIDs valid\r\n`;
    out += `* OK [UIDNEXT ${mailbox.uidNext}] Predicted next UID\r\n`;
    conn.write(out);
    conn.log.info({ user: conn.user?.name, mailbox: mailbox.name, readOnly }, 'select');
    return { code: readOnly ? 'READ-ONLY' : 'READ-WRITE', text: `${ctx.name === 'EXAMINE' ? 'Examine' : 'Select'} completed` };
  },
};
