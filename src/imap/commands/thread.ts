// THREAD and UID THREAD (RFC 5256 §4): `THREAD algorithm charset search-key…`;
// algorithms REFERENCES, ORDEREDSUBJECT and REFS (search/thread.ts).
import { BadError } from '../../wire/errors.js';
import { charsetAndCriteria } from '../../wire/search-criteria.js';
import { searchView } from '../search/evaluate.js';
import { threadInputOf } from '../search/thread-facts.js';
import { THREAD_ALGORITHMS, threadData, type ThreadAlgorithm } from '../search/thread.js';
import { SELECTED, type Command, type CommandContext } from './types.js';

export { THREAD_ALGORITHMS };

export const thread: Command = {
  names: ['THREAD'],
  states: SELECTED,
  uid: true,
  async run(ctx: CommandContext) {
    const { conn } = ctx;
    const view = conn.view!;
    const alg = ctx.args[0];
    if (!alg || alg.type !== 'atom') throw new BadError('THREAD: missing threading algorithm');
    const algorithm = alg.value.toUpperCase();
    if (!THREAD_ALGORITHMS.includes(algorithm)) throw new BadError(`THREAD: unknown threading algorithm ${algorithm.slice(0, 32)}`);
    const key = charsetAndCriteria(ctx.args.slice(1), 'THREAD', true);
    const found = await searchView(view, key);
    const input = await threadInputOf(view, found, ctx.uid);
    const threadsText = await threadData(algorithm as ThreadAlgorithm, input);
    await conn.untagged(threadsText ? `THREAD ${threadsText}` : 'THREAD');
  },
};
