// CLOSE (RFC 3501 §6.4.2): silently expunges \Deleted messages if read-write, then deselects.
import { ArgReader } from '../../wire/args.js';
import { SELECTED, type Command } from './types.js';

export const close: Command = {
  names: ['CLOSE'],
  states: SELECTED,
  async run({ conn, args }) {
    new ArgReader(args, 'CLOSE').end();
    const view = conn.view!;
    if (!view.readOnly) await view.mailbox.expunge(null);
    conn.select(null);
  },
};
