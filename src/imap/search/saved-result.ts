// What a SEARCH or SORT keeps after it answers: the search result variable of
// SEARCHRES (RFC 5182) for "$", and live searches (RFC 5267 RETURN (UPDATE)).
import { BadError } from '../../wire/errors.js';
import type { CommandContext } from '../commands/types.js';
import type { ReturnOpt } from './esearch.js';
import type { SearchKey } from '../../wire/search-criteria.js';
import type { SortKey } from './sort.js';
import { MAX_LIVE_SEARCHES } from './context.js';

/**
 * Runs a SEARCH or SORT whose RETURN options may include SAVE (RFC 5182 §2.1):
 * `body` gives the UIDs to save; when it fails with NO the saved result is
 * emptied, when with BAD (a syntax error) it is left as it was.
 */
export async function keepingResult(ctx: CommandContext, returns: Set<ReturnOpt> | null, body: () => Promise<number[]>): Promise<void> {
  const view = ctx.conn.view!;
  try {
    const saved = await body();
    if (returns?.has('SAVE')) view.savedSearch = saved.sort((a, b) => a - b);
  } catch (err) {
    if (returns?.has('SAVE') && !(err instanceof BadError)) view.savedSearch = [];
    throw err;
  }
}


/**
 * RETURN (UPDATE): keeps the search live under the command's tag (RFC 5267
 * §4.3). Past MAX_LIVE_SEARCHES the search is answered but not kept, and
 * the client is told so with NOUPDATE.
 */
export function keepLive(ctx: CommandContext, key: SearchKey, sort: SortKey[] | null, result: number[]): void {
  const view = ctx.conn.view!;
  if (!view.contexts.add({ tag: ctx.tag, uid: ctx.uid, key, sort, result }))
    ctx.conn.write(`* NO [NOUPDATE "${ctx.tag}"] At most ${MAX_LIVE_SEARCHES} searches are kept up to date\r\n`);
}
