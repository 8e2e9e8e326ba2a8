// LIST and LSUB (RFC 3501 §6.3.8, §6.3.9) over the Maildir++ folders on disk.
import { ArgReader } from '../args.js';
import { quote } from '../encoder.js';
import { HIERARCHY_SEPARATOR } from '../../mail/store.js';
import { AUTHED, type Command } from './types.js';

/** Compiles a LIST pattern: * matches anything, % anything but the separator. */
export function patternRegex(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '%') re += `[^${HIERARCHY_SEPARATOR === '.' ? '\\.' : HIERARCHY_SEPARATOR}]*`;
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

function mailboxName(name: string): string {
  return /^[\x21\x23-\x27\x2a-\x5b\x5d-\x7a\x7c-\x7e]+$/.test(name) ? name : quote(name);
}

export const list: Command = {
  names: ['LIST', 'LSUB'],
  states: AUTHED,
  async run(ctx) {
    const { conn } = ctx;
    const r = new ArgReader(ctx.args, ctx.name);
    const reference = r.astring('reference');
    const pattern = r.astring('mailbox pattern');
    r.end();
    const sep = quote(HIERARCHY_SEPARATOR);
    if (pattern === '') {
      // The hierarchy delimiter and root name (§6.3.8).
      conn.write(`* ${ctx.name} (\\Noselect) ${sep} ""\r\n`);
      return;
    }
    const full = reference + pattern;
    const isInbox = (n: string) => n === 'INBOX';
    // INBOX is case-insensitive (§5.1): match it against an upper-cased pattern too.
    const re = patternRegex(full);
    const reInbox = patternRegex(full.toUpperCase());
    const folders = await conn.store!.folders();
    const subscribed = ctx.name === 'LSUB' ? await conn.store!.subscriptions() : null;
    let out = '';
    for (const f of folders) {
      if (!(isInbox(f.name) ? reInbox.test(f.name) : re.test(f.name))) continue;
      if (subscribed && !isInbox(f.name) && !subscribed.has(f.name)) continue;
      const attrs = ctx.name === 'LSUB' ? '' : f.hasChildren ? '\\HasChildren' : '\\HasNoChildren';
      out += `* ${ctx.name} (${attrs}) ${sep} ${mailboxName(f.name)}\r\n`;
    }
    conn.write(out);
  },
};
