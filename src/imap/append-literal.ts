// Which literals are streamed to disk instead of memory: the message of an
// APPEND (not its mailbox name, which may be a literal too). The store gives
// the sink (a spool file in the user's tmp/); the limit is APPENDLIMIT.
import type { LiteralSinkOffer, LiteralSinkRequest } from '../wire/parser.js';
import type { MailUser } from '../mail/api.js';

const APPEND_START = /^[^ ]+ APPEND /i;
/** Nothing but the command name yet: this literal is the mailbox name. */
const MAILBOX_LITERAL = /^[^ ]+ APPEND $/i;

export function appendLiteralSink(store: MailUser | null, maxBytes: number, req: LiteralSinkRequest): LiteralSinkOffer | null {
  if (!store || !APPEND_START.test(req.text)) return null;
  if (req.index === 0 && MAILBOX_LITERAL.test(req.text)) return null;
  return { maxBytes, open: () => store.openSpool() };
}
