// CAPABILITY (RFC 3501 §6.1.1): lists exactly what works.
import { ANY, type Command } from './types.js';

export const capability: Command = {
  names: ['CAPABILITY'],
  states: ANY,
  async run({ conn }) {
    conn.write(`* CAPABILITY ${conn.ctx.capabilities(conn).join(' ')}\r\n`);
  },
};
