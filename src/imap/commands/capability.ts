// CAPABILITY (RFC 3501 §6.1.1): lists exactly what works.
import { ArgReader } from '../../wire/args.js';
import { ANY, type Command } from './types.js';

export const capability: Command = {
  names: ['CAPABILITY'],
  states: ANY,
  async run({ conn, args }) {
    new ArgReader(args, 'CAPABILITY').end();
    conn.write(`* CAPABILITY ${conn.ctx.capabilities(conn).join(' ')}\r\n`);
  },
};
