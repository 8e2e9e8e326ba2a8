// The RETURN options of ESEARCH (RFC 4731) and ESORT (RFC 5267), and the
// ESEARCH response both answer with.
import { BadError } from '../../wire/errors.js';
import { isAtom, type Token } from '../../wire/parser.js';
import { formatSet } from '../../wire/sequence-set.js';

export type ReturnOpt = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE' | 'UPDATE' | 'PARTIAL';
const RETURN_OPTS = new Set<string>(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE', 'UPDATE', 'PARTIAL']);

/** The RETURN options; with PARTIAL (RFC 5267 §4.4) its range of result positions, low to high. */
export class ReturnSet extends Set<ReturnOpt> {
  partial: [number, number] | null = null;
}

/** `RETURN (opts)` at the start of `args`: the options and the arguments after them; null options when there is no RETURN. */
export function parseReturn(args: Token[], what: string): { returns: ReturnSet | null; rest: Token[] } {
  if (!isAtom(args[0], 'RETURN')) return { returns: null, rest: args };
  const list = args[1];
  if (!list || list.type !== 'list') throw new BadError(`${what}: RETURN needs a parenthesised list`);
  const returns = new ReturnSet();
  for (let i = 0; i < list.items.length; i++) {
    const o = list.items[i];
    const name = o.type === 'atom' ? o.value.toUpperCase() : '';
    if (!RETURN_OPTS.has(name)) throw new BadError(`${what}: unsupported RETURN option ${name.slice(0, 20) || '(non-atom)'}`);
    if (name === 'PARTIAL') returns.partial = partialRange(list.items[++i], what);
    returns.add(name as ReturnOpt);
  }
  if (!returns.size) returns.add('ALL'); // RETURN () means RETURN (ALL), RFC 4731 §3.1
  if (returns.has('PARTIAL') && returns.has('ALL')) throw new BadError(`${what}: PARTIAL and ALL exclude each other`); // RFC 5267 §4.4
  return { returns, rest: args.slice(2) };
}

/** RFC 5267 §4.4 partial-range: `m:n`, two nz-numbers (either order). */
function partialRange(t: Token | undefined, what: string): [number, number] {
  const m = t?.type === 'atom' ? /^([1-9]\d{0,9}):([1-9]\d{0,9})$/.exec(t.value) : null;
  const a = m ? Number(m[1]) : 0;
  const b = m ? Number(m[2]) : 0;
  if (!m || a > 0xffffffff || b > 0xffffffff) throw new BadError(`${what}: PARTIAL needs a range m:n of result positions`);
  return a <= b ? [a, b] : [b, a];
}

/** RFC 5182 §2.1: SAVE alone suppresses the (E)SEARCH response. */
export function onlySave(returns: Set<ReturnOpt>): boolean {
  return returns.size === 1 && returns.has('SAVE');
}

/** The numbers at positions lo..hi (1-based) of what is returned, RFC 5267 §4.4. */
export function partialOf<T>(returns: ReturnSet, found: readonly T[]): T[] {
  const [lo, hi] = returns.partial!;
  return found.slice(lo - 1, hi);
}

/**
 * What RETURN (SAVE …) keeps of `found` (in the order returned), RFC 5182
 * §2.4: with MIN and/or MAX and neither ALL nor COUNT, only those messages;
 * otherwise all of them.
 */
export function savedPart<T>(returns: ReturnSet, found: readonly T[]): T[] {
  if (returns.has('ALL') || returns.has('COUNT')) return [...found];
  if (returns.partial) return partialOf(returns, found); // as RFC 9394 §3.1 has it: the part returned
  if (!(returns.has('MIN') || returns.has('MAX'))) return [...found];
  if (!found.length) return [];
  const out: T[] = [];
  if (returns.has('MIN')) out.push(found[0]);
  if (returns.has('MAX') && (found.length > 1 || !out.length)) out.push(found[found.length - 1]);
  return out;
}

/**
 * `ESEARCH (TAG "t") [UID] MIN … MAX … ALL … COUNT …` for `nums` in the order
 * they are returned: ascending for SEARCH, sort order for SORT (RFC 5267 §3.2:
 * MIN and MAX are the first and last in that order, ALL keeps it, compressing
 * only ascending runs).
 */
export function esearchLine(tag: string, uid: boolean, returns: ReturnSet, nums: readonly number[], modseq = 0): string {
  let line = `ESEARCH (TAG "${tag}")${uid ? ' UID' : ''}`;
  if (nums.length) {
    if (returns.has('MIN')) line += ` MIN ${nums[0]}`;
    if (returns.has('MAX')) line += ` MAX ${nums[nums.length - 1]}`;
    if (returns.has('ALL')) line += ` ALL ${formatSet(nums)}`; // runs compressed, order kept
  }
  if (returns.partial) {
    const part = partialOf(returns, nums);
    line += ` PARTIAL (${returns.partial.join(':')} ${part.length ? formatSet(part) : 'NIL'})`;
  }
  if (returns.has('COUNT')) line += ` COUNT ${nums.length}`;
  if (modseq) line += ` MODSEQ ${modseq}`;
  return line;
}
