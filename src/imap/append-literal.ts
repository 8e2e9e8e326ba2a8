// Which literals are streamed to disk instead of memory: the messages of an
// APPEND or REPLACE (RFC 8508; not the mailbox name, which may be a literal too). The store gives
// the sink (a spool file in the user's tmp/); the limit is APPENDLIMIT per
// message, and MULTIAPPEND_LIMIT_FACTOR x APPENDLIMIT for all the messages of one command.
import type { LiteralSinkOffer, LiteralSinkRequest } from '../wire/parser.js';
import type { MailUser } from '../mail/api.js';

const APPEND_START = /^[^ ]+ (APPEND|(UID )?REPLACE) /i;
/** Nothing but the command name (and REPLACE's message number) yet: this literal is the mailbox name. */
const MAILBOX_LITERAL = /^[^ ]+ (APPEND|(UID )?REPLACE [^ ]+) $/i;

/** One MULTIAPPEND (RFC 3502) spools at most this many APPENDLIMITs to disk before it is refused with [TOOBIG]. */
export const MULTIAPPEND_LIMIT_FACTOR = 4;

export function appendLiteralSink(store: MailUser | null, maxBytes: number, req: LiteralSinkRequest): LiteralSinkOffer | null {
  if (!store || !APPEND_START.test(req.text)) return null;
  if (req.index === 0 && MAILBOX_LITERAL.test(req.text)) return null;
  const left = maxBytes * MULTIAPPEND_LIMIT_FACTOR - req.streamedBytes;
  return { maxBytes: Math.min(maxBytes, left), open: () => store.openSpool() };
}
