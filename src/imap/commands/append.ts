// APPEND (RFC 3501 §6.3.11) with UIDPLUS's APPENDUID (RFC 4315) and
// APPENDLIMIT (RFC 7889). The message literal was streamed to a spool file
// by the framer (see ../append-literal.ts); here it is only renamed into place.
import { ArgReader, flagList } from '../../wire/args.js';
import { BadError, NoError } from '../../wire/errors.js';
import type { IncomingMessage } from '../../mail/api.js';
import type { Connection } from '../connection.js';
import { catenate, parseCatenate, type CatPart } from '../catenate.js';
import type { Token } from '../../wire/parser.js';
import { formatSet } from '../../wire/sequence-set.js';
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

/** Messages in one MULTIAPPEND (RFC 3502); more is NO [LIMIT], none of them saved. */
export const MULTIAPPEND_MAX_MESSAGES = 50;

/** One message of the command, parsed: what to save and how. */
export interface AppendMessage {
  flags: string[];
  date: Date | null;
  /** The message, or null when it is built by CATENATE (RFC 4469) from `parts`. */
  literal: (Token & { type: 'string' }) | null;
  parts: CatPart[] | null;
}

/** RFC 3502 §6: append-message = append-opts SP append-data; append-opts = [SP flag-list] [SP date-time]. */
export function readMessage(r: ArgReader, utf8 = false): AppendMessage {
  let flags: string[] = [];
  let date: Date | null = null;
  if (r.peek()?.type === 'list') flags = flagList(r.any('flag list'), 'APPEND');
  const next = r.peek();
  if (next && next.type === 'string' && !next.literal) {
    date = parseDateTime(next.value.toString('latin1'));
    if (!date) throw new BadError('Invalid date-time');
    r.any();
  }
  if (flags.some((f) => f.startsWith('\\') && !/^\\(Answered|Flagged|Deleted|Seen|Draft)$/i.test(f))) throw new BadError('Invalid system flag');
  let literal = r.any('message literal');
  // RFC 4469 §5: append-data =/ "CATENATE" SP "(" cat-part *(SP cat-part) ")"
  if (literal.type === 'atom' && literal.value.toUpperCase() === 'CATENATE') return { flags, date, literal: null, parts: parseCatenate(r.list('CATENATE parts')) };
  if (literal.type === 'atom' && literal.value.toUpperCase() === 'UTF8') {
    // RFC 6855 §4: append-data =/ "UTF8" SP "(" literal8 ")" — a message with UTF-8 headers, stored as it came.
    if (!utf8) throw new BadError('APPEND: UTF8 needs ENABLE UTF8=ACCEPT first');
    const items = r.list('UTF8 data');
    if (items.length !== 1 || items[0].type !== 'string' || !items[0].binary) throw new BadError('APPEND: UTF8 takes one literal8: UTF8 (~{n}...)');
    literal = items[0];
  }
  // RFC 3516 §4.4: append-data = literal / literal8; the token keeps which one it was.
  if (literal.type !== 'string' || !literal.literal) throw new BadError('The message must be a literal');
  return { flags, date, literal, parts: null };
}

/**
 * The message's spool: the framer's (a streamed literal), one filled from the
 * buffered bytes, or one CATENATE fills. Each spool is handed to `made` at
 * once, so the caller discards it whatever fails later.
 */
export async function spoolOf(conn: Connection, m: AppendMessage, made: IncomingMessage[]): Promise<IncomingMessage> {
  const store = conn.store!;
  // A streamed literal's sink is always the store's (append-literal.ts opens it with openSpool()).
  if (m.literal?.sink) return take(m.literal.sink as IncomingMessage);
  const spool = take(store.openSpool());
  if (m.literal) spool.write(m.literal.value);
  else await catenate({ store, user: conn.user!.name, selected: conn.view?.mailbox ?? null, maxBytes: conn.ctx.config.limits.maxAppendBytes }, m.parts!, spool);
  return spool;
  function take(s: IncomingMessage): IncomingMessage {
    made.push(s);
    return s;
  }
}

export const append: Command = {
  names: ['APPEND'],
  states: AUTHED,
  async run(ctx) {
    const { conn } = ctx;
    const store = conn.store!;
    const r = new ArgReader(ctx.args, 'APPEND');
    const name = fromClient(r.astring('mailbox name'), conn.extensions.utf8);
    const messages: AppendMessage[] = [readMessage(r, conn.extensions.utf8)];
    while (!r.done) messages.push(readMessage(r, conn.extensions.utf8));

    const spools: IncomingMessage[] = [];
    try {
      for (const m of messages) await spoolOf(conn, m, spools);
      if (messages.length > MULTIAPPEND_MAX_MESSAGES) throw new NoError(`Too many messages in one APPEND (at most ${MULTIAPPEND_MAX_MESSAGES})`, 'LIMIT');
      for (const spool of spools) {
        spool.finish();
        spool.throwIfFailed(); // a full disk: NO [OVERQUOTA], with the literal read to its end
        if (spool.size === 0) throw new NoError("Can't save a zero byte message", null);
      }
      const mailbox = await store.mailbox(name);
      if (!mailbox) throw new NoError("Mailbox doesn't exist", 'TRYCREATE');
      if (spools.length === 1) {
        const { uid, uidValidity } = await store.append(mailbox, spools[0]!, messages[0]!.flags, messages[0]!.date);
        return { code: `APPENDUID ${uidValidity} ${uid}`, text: 'Append completed' };
      }
      // RFC 3502 §6.3.11: all or none; RFC 4315 §3: APPENDUID with the UIDs as a uid-set, in order.
      const { uids, uidValidity } = await store.appendMany(
        mailbox,
        messages.map((m, i) => ({ message: spools[i]!, flags: m.flags, date: m.date })),
      );
      return { code: `APPENDUID ${uidValidity} ${formatSet(uids)}`, text: 'Append completed' };
    } finally {
      for (const spool of spools) spool.discard(); // no-op once renamed into place
    }
  },
};
