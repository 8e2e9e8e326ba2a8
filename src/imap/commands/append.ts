// APPEND (RFC 3501 §6.3.11) with UIDPLUS's APPENDUID (RFC 4315) and
// APPENDLIMIT (RFC 7889). The message literal was streamed to a spool file
// by the framer (see ../append-literal.ts); here it is only renamed into place.
import { ArgReader, flagList } from '../../wire/args.js';
import { BadError, NoError } from '../../wire/errors.js';
import type { IncomingMessage } from '../../mail/api.js';
import { AUTHED, type Command } from './types.js';
import { fromClient } from './mailbox-name.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 3501 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be space-padded). */
export function parseDateTime(s: string): Date | null {
  const m = /^([ \d]?\d)-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(s);
  if (!m) return null;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === m[2].toLowerCase());
  const [day, year, hh, mm, ss, zh, zm] = [m[1], m[3], m[4], m[5], m[6], m[8], m[9]].map((x) => Number(x.trim()));
  if (month < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || zm > 59) return null;
  const offset = (m[7] === '-' ? -1 : 1) * (zh * 60 + zm);
  const ms = Date.UTC(year, month, day, hh, mm, ss) - offset * 60_000;
  if (new Date(Date.UTC(year, month, day)).getUTCMonth() !== month) return null; // 31-Feb
  return new Date(ms);
}

export const append: Command = {
  names: ['APPEND'],
  states: AUTHED,
  async run(ctx) {
    const { conn } = ctx;
    const store = conn.store!;
    const r = new ArgReader(ctx.args, 'APPEND');
    const name = fromClient(r.astring('mailbox name'), conn.extensions.utf8);
    let flags: string[] = [];
    let date: Date | null = null;
    if (r.peek()?.type === 'list') flags = flagList(r.any('flag list'), 'APPEND');
    const next = r.peek();
    if (next && next.type === 'string' && !next.literal) {
      date = parseDateTime(next.value.toString('latin1'));
      if (!date) throw new BadError('APPEND: invalid date-time');
      r.any();
    }
    let msg = r.any('message literal');
    if (msg.type === 'atom' && msg.value.toUpperCase() === 'UTF8') {
      // RFC 6855 §4: append-data =/ "UTF8" SP "(" literal8 ")" — a message with UTF-8 headers, stored as it came.
      if (!conn.extensions.utf8) throw new BadError('APPEND: UTF8 needs ENABLE UTF8=ACCEPT first');
      const items = r.list('UTF8 data');
      if (items.length !== 1 || items[0].type !== 'string' || !items[0].literal8) throw new BadError('APPEND: UTF8 takes one literal8: UTF8 (~{n}...)');
      msg = items[0];
    } else if (msg.type === 'string' && msg.literal8) throw new BadError('APPEND: a ~{n} literal is only allowed inside UTF8 (...)');
    if (msg.type !== 'string' || !msg.literal) throw new BadError('APPEND: the message must be a literal');
    if (!r.done) throw new BadError('APPEND: MULTIAPPEND is not supported');
    if (flags.some((f) => f.startsWith('\\') && !/^\\(Answered|Flagged|Deleted|Seen|Draft)$/i.test(f))) throw new BadError('APPEND: invalid system flag');

    let spool: IncomingMessage;
    // A streamed literal's sink is always the store's (append-literal.ts opens it with openSpool()).
    if (msg.sink) spool = msg.sink as IncomingMessage;
    else {
      // Not streamed (a framer without the hook): spool the buffered bytes the same way.
      spool = store.openSpool();
      spool.write(msg.value);
    }
    try {
      spool.finish();
      spool.throwIfFailed(); // a full disk: NO [OVERQUOTA], with the literal read to its end
      if (spool.size === 0) throw new NoError("Can't save a zero byte message", null);
      const mailbox = await store.mailbox(name);
      if (!mailbox) throw new NoError("Mailbox doesn't exist", 'TRYCREATE');
      const { uid, uidValidity } = await store.append(mailbox, spool, flags, date);
      return { code: `APPENDUID ${uidValidity} ${uid}`, text: 'Append completed' };
    } finally {
      spool.discard(); // no-op once renamed into place
    }
  },
};
