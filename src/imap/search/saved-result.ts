// The search result variable of SEARCHRES (RFC 5182): what SEARCH/SORT
// RETURN (SAVE …) keeps for "$", and when a failing command empties it.
import { BadError } from '../../wire/errors.js';
import type { CommandContext } from '../commands/types.js';
import type { ReturnOpt } from './esearch.js';

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

