// EXPUNGE (RFC 3501 §6.4.3). The EXPUNGE responses come from this session's
// view, flushed by the connection before the tagged OK.
import { NoError } from '../errors.js';
import { SELECTED, type Command } from './types.js';

export const expunge: Command = {
  names: ['EXPUNGE'],
  states: SELECTED,
  async run({ conn }) {
    const view = conn.view!;
    if (view.readOnly) throw new NoError('Mailbox is read-only', 'READ-ONLY');
    await view.mailbox.expunge(null);
  },
};
