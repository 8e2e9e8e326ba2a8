// SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8), with ESEARCH's RETURN
// options (RFC 4731). Non-UID SEARCH answers with sequence numbers; the
// connection holds EXPUNGE responses back while it runs (RFC 3501 §7.4.1).
import { BadError } from '../../wire/errors.js';
import { isAtom } from '../../wire/parser.js';
import { charsetAndCriteria, CriteriaParser } from '../../wire/search-criteria.js';
import { searchView, type Candidate } from '../search/evaluate.js';
import { formatSet } from '../../wire/sequence-set.js';
import { sort } from './sort.js';
import { thread } from './thread.js';
import { SELECTED, type Command, type CommandContext } from './types.js';

type ReturnOpt = 'MIN' | 'MAX' | 'ALL' | 'COUNT';
const RETURN_OPTS = new Set<string>(['MIN', 'MAX', 'ALL', 'COUNT']);

export const search: Command = {
  names: ['SEARCH'],
  states: SELECTED,
  uid: true,
  async run(ctx: CommandContext) {
    const { conn } = ctx;
    const view = conn.view!;
    let args = ctx.args;
    let returns: Set<ReturnOpt> | null = null;
    if (isAtom(args[0], 'RETURN')) {
      const list = args[1];
      if (!list || list.type !== 'list') throw new BadError('SEARCH: RETURN needs a parenthesised list');
      returns = new Set();
      for (const o of list.items) {
        const name = o.type === 'atom' ? o.value.toUpperCase() : '';
        if (!RETURN_OPTS.has(name)) throw new BadError(`SEARCH: unsupported RETURN option ${name.slice(0, 20) || '(non-atom)'}`);
        returns.add(name as ReturnOpt);
      }
      if (!returns.size) returns.add('ALL'); // RETURN () means RETURN (ALL), RFC 4731 §3.1
      args = args.slice(2);
    }
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
      return;
    }
    let line = `ESEARCH (TAG "${ctx.tag}")${ctx.uid ? ' UID' : ''}`;
    if (nums.length) {
      if (returns.has('MIN')) line += ` MIN ${nums[0]}`;
      if (returns.has('MAX')) line += ` MAX ${nums[nums.length - 1]}`;
      if (returns.has('ALL')) line += ` ALL ${formatSet(nums)}`; // ascending already (RFC 4731 ALL is a sequence-set)
    }
    if (returns.has('COUNT')) line += ` COUNT ${nums.length}`;
    if (highest) line += ` MODSEQ ${highest}`;
    await conn.untagged(line);
  },
};

/** SEARCH, SORT and THREAD, for the command table. */
export const SEARCH_COMMANDS: Command[] = [search, sort, thread];
