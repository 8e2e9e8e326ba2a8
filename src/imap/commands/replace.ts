// REPLACE and UID REPLACE (RFC 8508): one message of the selected folder is
// replaced by a new one, saved to the named folder (the selected one or
// another) as APPEND saves it. The new message is in place first; only then
// is the old one expunged, so a failure leaves the old message where it was
// (§3.3: "MUST NOT expunge the original message" when the append fails).
import { ArgReader } from '../../wire/args.js';
import { BadError, NoError } from '../../wire/errors.js';
import { resolveMessages } from './messages.js';
import { readMessage, spoolOf } from './append.js';
import type { IncomingMessage } from '../../mail/api.js';
import { SELECTED, type Command } from './types.js';

export const replace: Command = {
  names: ['REPLACE'],
  states: SELECTED,
  uid: true,
  async run(ctx) {
    const { conn } = ctx;
    const view = conn.view!;
    const store = conn.store!;
    const r = new ArgReader(ctx.args, ctx.uid ? 'UID REPLACE' : 'REPLACE');
    const set = r.atom(ctx.uid ? 'UID' : 'message sequence number');
    // §6: replace = "REPLACE" SP seq-number SP mailbox append-message (one message, no set).
    if (!/^(\d+|\*)$/.test(set)) throw new BadError('REPLACE takes one message, not a set');
    const name = r.astring('mailbox name');
    const message = readMessage(r);
    r.end();
    const made: IncomingMessage[] = [];
    try {
      const spool = await spoolOf(conn, message, made);
      const [uid] = resolveMessages(view, set, ctx.uid);
      const meta = uid === undefined ? undefined : view.meta(uid);
      if (!meta || view.isExpunged(meta.uid)) throw new NoError('Message to replace no longer exists', 'EXPUNGEISSUED');
      // §3.3: the original must be expunged, so a read-only folder refuses before anything is saved.
      if (view.readOnly) throw new NoError('Mailbox is read-only', 'READ-ONLY');
      spool.finish();
      spool.throwIfFailed();
      if (spool.size === 0) throw new NoError("Can't save a zero byte message", null);
      const target = await store.mailbox(name);
      if (!target) throw new NoError("Mailbox doesn't exist", 'TRYCREATE');
      const { uid: newUid, uidValidity } = await store.append(target, spool, message.flags, message.date);
      // §3.4: APPENDUID in an untagged OK, then EXISTS (target selected) and the EXPUNGE, then the tagged OK.
      conn.write(`* OK [APPENDUID ${uidValidity} ${newUid}] Replacement Message ready\r\n`);
      await view.mailbox.setFlags([meta], 'add', ['\\Deleted'], view);
      await view.mailbox.expunge(new Set([meta.uid]));
      return { text: 'Replace completed' };
    } finally {
      for (const s of made) s.discard(); // no-op once renamed into place
    }
  },
};
