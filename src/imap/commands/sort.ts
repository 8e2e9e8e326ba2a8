// SORT and UID SORT (RFC 5256 §3): `SORT (criteria) charset search-key…`.
import { BadError } from '../../wire/errors.js';
import { isAtom } from '../../wire/parser.js';
import { parseSortCriteria, collectSortData, sortBy, type SortKeyName } from '../search/sort.js';
import { charsetAndCriteria } from '../../wire/search-criteria.js';
import { searchView } from '../search/evaluate.js';
import { SELECTED, type Command, type CommandContext } from './types.js';

export const sort: Command = {
  names: ['SORT'],
  states: SELECTED,
  uid: true,
  async run(ctx: CommandContext) {
    const { conn } = ctx;
    const view = conn.view!;
    if (isAtom(ctx.args[0], 'RETURN')) throw new BadError('SORT: RETURN options (ESORT) are not supported');
    const keys = parseSortCriteria(ctx.args[0]);
    const key = charsetAndCriteria(ctx.args.slice(1), 'SORT', true);
    const found = await searchView(view, key);
    const data = await collectSortData(view, found, new Set<SortKeyName>(keys.map((k) => k.key)));
    const nums = sortBy(data, keys).map((d) => (ctx.uid ? d.uid : d.seq));
    await conn.untagged(nums.length ? `SORT ${nums.join(' ')}` : 'SORT');
  },
};
