// UNSELECT (RFC 3691): like CLOSE, without expunging.
import { ArgReader } from '../../wire/args.js';
import { SELECTED, type Command } from './types.js';

export const unselect: Command = {
  names: ['UNSELECT'],
  states: SELECTED,
  async run(ctx) {
    new ArgReader(ctx.args, 'UNSELECT').end();
    ctx.conn.select(null);
  },
};
