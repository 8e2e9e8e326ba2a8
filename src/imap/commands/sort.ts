// SORT and UID SORT (RFC 5256 §3): `SORT [RETURN (opts)] (criteria) charset
// search-key…`, with ESORT's RETURN options (RFC 5267 §3) answered as ESEARCH,
// and SAVE (RFC 5182) kept for "$".
import { esearchLine, onlySave, parseReturn, savedPart } from '../search/esearch.js';
import { keepingResult, keepLive } from '../search/saved-result.js';
import { parseSortCriteria, collectSortData, sortBy, numericOrder, type SortKeyName } from '../search/sort.js';
import { charsetAndCriteria } from '../../wire/search-criteria.js';
import { searchView } from '../search/evaluate.js';
import { SELECTED, type Command, type CommandContext } from './types.js';

export const sort: Command = {
  names: ['SORT'],
  states: SELECTED,
  uid: true,
  async run(ctx: CommandContext) {
    const { returns, rest } = parseReturn(ctx.args, 'SORT');
    await keepingResult(ctx, returns, async () => {
      const { conn } = ctx;
      const view = conn.view!;
      const keys = parseSortCriteria(rest[0]);
      const key = charsetAndCriteria(rest.slice(1), 'SORT', true);
      const found = await searchView(view, key);
      // Dates and sizes already in memory sort without a SortData object per message.
      const order = numericOrder(found, keys);
      const sorted: ReadonlyArray<{ uid: number; seq: number }> = order
        ? Array.from(order, (i) => found[i])
        : sortBy(await collectSortData(view, found, new Set<SortKeyName>(keys.map((k) => k.key))), keys);
      const nums = sorted.map((d) => (ctx.uid ? d.uid : d.seq));
      if (!returns) {
        await conn.untagged(nums.length ? `SORT ${nums.join(' ')}` : 'SORT');
        return [];
      }
      if (returns.has('UPDATE')) keepLive(ctx, key, keys, sorted.map((d) => d.uid));
      if (!onlySave(returns)) await conn.untagged(esearchLine(ctx.tag, ctx.uid, returns, nums));
      // RFC 5182 §2.4 with RFC 5267 §3.2: MIN and MAX are the first and last in sort order.
      return savedPart(returns, sorted).map((d) => d.uid);
    });
  },
};
