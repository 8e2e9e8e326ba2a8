// SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2).
import { ArgReader } from '../../wire/args.js';
import { NoError } from '../../wire/errors.js';
import { flagLines } from '../flag-lines.js';
import { BadError } from '../../wire/errors.js';
import { atom, quote } from '../../wire/encoder.js';
import { HIERARCHY_SEPARATOR, type MessageRef } from '../../mail/api.js';
import { parseSequenceSet, resolveUids, compressUids } from '../../wire/sequence-set.js';
import type { Connection } from '../connection.js';
import type { Token } from '../../wire/parser.js';
import { AUTHED, type Command } from './types.js';
import { MailboxView } from '../tracker.js';
import { fromClient, mailboxName } from './mailbox-name.js';

interface QresyncParams {
  uidValidity: number;
  modseq: number;
  knownUids: string | null;
}

/** SELECT/EXAMINE parameters: (CONDSTORE) or (QRESYNC (uidvalidity modseq [known-uids [seq-match]])) — RFC 7162 §3.1.8, §3.2.5. */
function parseSelectParams(items: Token[], conn: Connection): { condstore: boolean; qresync: QresyncParams | null } {
  let condstore = false;
  let qresync: QresyncParams | null = null;
  for (let i = 0; i < items.length; i++) {
    const t = items[i];
    const name = t.type === 'atom' ? t.value.toUpperCase() : '';
    if (name === 'CONDSTORE') condstore = true;
    else if (name === 'QRESYNC') {
      if (!conn.extensions.qresync) throw new BadError('QRESYNC parameter without ENABLE QRESYNC');
      const list = items[++i];
      if (!list || list.type !== 'list') throw new BadError('QRESYNC: expected (uidvalidity modseq [known-uids])');
      const [v, m, known] = list.items.map((x) => (x.type === 'atom' ? x.value : ''));
      const uidValidity = Number(v);
      const modseq = Number(m);
      if (!/^\d+$/.test(v ?? '') || !/^\d+$/.test(m ?? '') || uidValidity <= 0) throw new BadError('QRESYNC: invalid uidvalidity or modseq');
      if (known !== undefined && known !== '') parseSequenceSet(known);
      qresync = { uidValidity, modseq, knownUids: known || null };
    } else throw new BadError('Unknown SELECT parameter');
  }
  return { condstore, qresync };
}

/**
 * The message at `seq` of a view just selected: the view is in step with the
 * mailbox then, so it is taken from the mailbox's list (`all`) at the same
 * place instead of looked up by UID (50,000 lookups), and looked up only
 * where an event landed in between. (A plain function, not a generator: a
 * walk over 50,000 took 2.1 ms as one, 0.8 ms as a loop.)
 */
function metaAt(view: MailboxView, all: readonly MessageRef[], seq: number, uid: number): MessageRef | undefined {
  return all[seq - 1]?.uid === uid ? all[seq - 1] : view.meta(uid);
}

/**
 * QRESYNC (RFC 7162 §3.2.5.1): what the client missed since its modseq —
 * VANISHED (EARLIER) for expunged UIDs it may know, then the changed flags.
 */
async function resync(conn: Connection, q: QresyncParams): Promise<void> {
  const view = conn.view!;
  const mailbox = view.mailbox;
  let gone = mailbox.expungedSince(q.modseq);
  if (q.knownUids) {
    const known = new Set(resolveUids(parseSequenceSet(q.knownUids), gone));
    gone = gone.filter((u) => known.has(u));
  }
  if (gone.length) conn.write(`* VANISHED (EARLIER) ${compressUids(gone)}\r\n`);
  // Nothing changed since the client's modseq (a reconnect's usual case): no message can be above it.
  if (q.modseq >= mailbox.highestModseq) return;
  const all = mailbox.all;
  const count = view.exists; // as announced: what arrives meanwhile is told later
  for (let seq = 1; seq <= count; seq++) {
    const uid = view.uidAt(seq)!;
    const meta = metaAt(view, all, seq, uid);
    if (!meta || meta.modseq <= q.modseq) continue;
    await conn.untagged([seq, atom('FETCH'), [atom('UID'), uid, atom('FLAGS'), view.flagsOf(meta).map(atom), atom('MODSEQ'), [meta.modseq]]]);
  }
}

export const select: Command = {
  names: ['SELECT', 'EXAMINE'],
  states: AUTHED,
  async run(ctx) {
    const { conn } = ctx;
    const r = new ArgReader(ctx.args, ctx.name);
    const name = fromClient(r.astring('mailbox name'), conn.extensions.utf8);
    const params = r.done ? null : parseSelectParams(r.list('select parameters'), conn);
    r.end();
    const readOnly = ctx.name === 'EXAMINE';
    if (conn.view) {
      conn.select(null); // a failed SELECT leaves no mailbox selected (§6.3.1)
      // RFC 7162 §3.2.11: the end of the previous mailbox's responses, before the new one's (as Dovecot says it).
      conn.write('* OK [CLOSED] Previous mailbox closed.\r\n');
    }
    const mailbox = await conn.store!.mailbox(name);
    if (!mailbox) throw new NoError('Mailbox does not exist', 'NONEXISTENT');
    const view = await MailboxView.open(mailbox, readOnly);
    const rev2 = conn.extensions.rev2;
    view.hideRecent = rev2;
    conn.select(view);
    const keywords = view.newKeywords() ?? [];
    let firstUnseen = 0;
    const all = mailbox.all;
    for (let seq = 1; !rev2 && seq <= view.exists; seq++) {
      const meta = metaAt(view, all, seq, view.uidAt(seq)!);
      if (meta && !mailbox.isSeen(meta)) {
        firstUnseen = seq;
        break;
      }
    }
    let out = flagLines(keywords, readOnly, mailbox.keywordsFull);
    out += `* ${view.exists} EXISTS\r\n`;
    // RFC 9051 §6.3.2: a LIST response with the mailbox name (its attributes need not be accurate). No RECENT (gone
    // from IMAP4rev2) and no UNSEEN code (deprecated there, Appendix E; a rev2 client asks SEARCH UNSEEN).
    if (rev2) out += `* LIST () ${quote(HIERARCHY_SEPARATOR)} ${mailboxName(mailbox.name, conn.extensions.utf8)}\r\n`;
    else {
      out += `* ${view.recentCount} RECENT\r\n`;
      if (firstUnseen) out += `* OK [UNSEEN ${firstUnseen}] First unseen.\r\n`;
    }
    out += `* OK [UIDVALIDITY ${mailbox.uidValidity}] UIDs valid\r\n`;
    out += `* OK [UIDNEXT ${mailbox.uidNext}] Predicted next UID\r\n`;
    if (mailbox.mailboxId) out += `* OK [MAILBOXID (${mailbox.mailboxId})] Ok\r\n`; // RFC 8474 §4.1
    if (params?.condstore) conn.extensions.enable('CONDSTORE');
    if (conn.extensions.condstore) out += `* OK [HIGHESTMODSEQ ${mailbox.highestModseq}] Highest\r\n`;
    conn.write(out);
    if (params?.qresync && params.qresync.uidValidity === mailbox.uidValidity) await resync(conn, params.qresync);
    conn.log.info({ user: conn.user?.name, mailbox: mailbox.name, readOnly }, 'select');
    return { code: readOnly ? 'READ-ONLY' : 'READ-WRITE', text: `${ctx.name === 'EXAMINE' ? 'Examine' : 'Select'} completed` };
  },
};
