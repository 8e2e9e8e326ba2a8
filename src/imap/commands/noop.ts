// NOOP and CHECK (RFC 3501 §6.1.2, §6.4.1): nothing to do but report pending
// mailbox updates, which the connection writes before every tagged reply.
import { ArgReader } from '../../wire/args.js';
import { ANY, SELECTED, type Command } from './types.js';

export const noop: Command = {
  names: ['NOOP'],
  states: ANY,
  async run({ args }) {
    new ArgReader(args, 'NOOP').end();
  },
};

export const check: Command = {
  names: ['CHECK'],
  states: SELECTED,
  async run({ args }) {
    new ArgReader(args, 'CHECK').end();
  },
};
