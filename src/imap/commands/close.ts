// CLOSE (RFC 3501 §6.4.2): silently expunges \Deleted messages if read-write, then deselects.
import { SELECTED, type Command } from './types.js';

export const close: Command = {
  names: ['CLOSE'],
  states: SELECTED,
  async run({ conn }) {
    const view = conn.view!;
    if (!view.readOnly) await view.mailbox.expunge(null);
    conn.select(null);
  },
};
