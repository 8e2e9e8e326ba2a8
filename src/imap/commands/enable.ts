// ENABLE (RFC 5161). Extensions that need enabling are listed in
// ../extensions.ts (ENABLABLE); the session's set is conn.extensions.
import { BadError } from '../../wire/errors.js';
import { ENABLABLE } from '../extensions.js';
import { AUTHED, type Command } from './types.js';

export const enable: Command = {
  names: ['ENABLE'],
  states: AUTHED,
  async run(ctx) {
    if (!ctx.args.length) throw new BadError('ENABLE: missing capability');
    const now: string[] = [];
    for (const t of ctx.args) {
      if (t.type !== 'atom') throw new BadError('ENABLE: expected capability names');
      const name = t.value.toUpperCase();
      if (!ENABLABLE.has(name)) continue;
      if (name === 'UTF8=ACCEPT' || name === 'IMAP4REV2') {
        // RFC 6855 §3, RFC 5161 §3.1: only in the authenticated state (a selected folder's responses were already
        // sent in the old form: its \Recent flags, its SEARCH replies). Answered spelled as CAPABILITY lists it.
        if (ctx.conn.state === 'auth' && ctx.conn.extensions.enable(name)) now.push(name === 'IMAP4REV2' ? 'IMAP4rev2' : name);
      } else if (ctx.conn.enableExtension(name as 'CONDSTORE' | 'QRESYNC')) now.push(name);
    }
    ctx.conn.write(`* ENABLED${now.map((n) => ' ' + n).join('')}\r\n`);
  },
};
