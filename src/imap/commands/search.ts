// SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8), with ESEARCH's RETURN
// options (RFC 4731) and SAVE (RFC 5182, SEARCHRES). Non-UID SEARCH answers with sequence numbers; the
// connection holds EXPUNGE responses back while it runs (RFC 3501 §7.4.1).
import { BadError } from '../../wire/errors.js';
import { charsetAndCriteria, CriteriaParser } from '../../wire/search-criteria.js';
import { searchView, type Candidate } from '../search/evaluate.js';
import { esearchLine, onlySave, parseReturn, ReturnSet, savedPart } from '../search/esearch.js';
import { keepingResult, keepLive } from '../search/saved-result.js';
import type { Token } from '../../wire/parser.js';
import { sort } from './sort.js';
import { thread } from './thread.js';
import { cancelupdate } from './cancelupdate.js';
import { SELECTED, type Command, type CommandContext } from './types.js';

export const search: Command = {
  names: ['SEARCH'],
  states: SELECTED,
  uid: true,
  async run(ctx: CommandContext) {
    const parsed = parseReturn(ctx.args, 'SEARCH');
    const rest = parsed.rest;
    // RFC 9051 §6.4.4: under IMAP4rev2 a SEARCH without RETURN is RETURN (ALL), answered with ESEARCH (§7.3.4).
    const returns = parsed.returns ?? (ctx.conn.extensions.rev2 ? new ReturnSet(['ALL']) : null);
    await keepingResult(ctx, returns, () => runSearch(ctx, returns, rest));
  },
};

async function runSearch(ctx: CommandContext, returns: ReturnSet | null, args: Token[]): Promise<number[]> {
  const { conn } = ctx;
  const view = conn.view!;
  // RFC 6855 §3: after ENABLE UTF8=ACCEPT everything is UTF-8; a CHARSET label would conflict with that.
  if (conn.extensions.utf8 && args[0]?.type === 'atom' && args[0].value.toUpperCase() === 'CHARSET') throw new BadError('SEARCH: CHARSET is not allowed after ENABLE UTF8=ACCEPT');
  const key = charsetAndCriteria(args, 'SEARCH', false);
  const withModseq = CriteriaParser.usesModseq(key);
  if (withModseq) conn.enableExtension('CONDSTORE'); // RFC 7162 §3.1: CONDSTORE-enabling
  const found: Candidate[] = await searchView(view, key);
  const nums = found.map((c) => (ctx.uid ? c.uid : c.seq));
  // RFC 7162 §3.1.5: with MODSEQ in the criteria, the result carries the highest modseq of what it
  // returns — of that one message for RETURN (MIN) or (MAX) alone (RFC 4731 §3.2 as RFC 7162 amends it).
  let returned = found;
  if (returns && found.length && !returns.has('ALL') && !returns.has('COUNT')) {
    if (returns.has('MIN') && !returns.has('MAX')) returned = [found[0]];
    else if (returns.has('MAX') && !returns.has('MIN')) returned = [found[found.length - 1]];
  }
  const highest = withModseq && returned.length ? returned.reduce((max, c) => Math.max(max, c.meta.modseq), 0) : 0;
  if (!returns) {
    await conn.untagged(nums.length ? `SEARCH ${nums.join(' ')}${highest ? ` (MODSEQ ${highest})` : ''}` : 'SEARCH');
    return [];
  }
  if (returns.has('UPDATE')) keepLive(ctx, key, null, found.map((c) => c.uid));
  if (!onlySave(returns)) await conn.untagged(esearchLine(ctx.tag, ctx.uid, returns, nums, highest));
  return savedPart(returns, found).map((c) => c.uid);
}

/** SEARCH, SORT, THREAD and CANCELUPDATE, for the command table. */
export const SEARCH_COMMANDS: Command[] = [search, sort, thread, cancelupdate];
