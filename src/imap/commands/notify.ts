// NOTIFY (RFC 5465): NOTIFY SET [STATUS] event-groups, and NOTIFY NONE.
// The watching itself is notify/watch.ts; the arguments, notify/spec.ts.
import { BadError } from '../../wire/errors.js';
import { parseNotifySet } from '../notify/spec.js';
import { NotifyWatch } from '../notify/watch.js';
import { fromClient } from './mailbox-name.js';
import { AUTHED, type Command } from './types.js';

export const notify: Command = {
  names: ['NOTIFY'],
  states: AUTHED,
  async run(ctx) {
    const { conn } = ctx;
    const [verb, ...rest] = ctx.args;
    const word = verb?.type === 'atom' ? verb.value.toUpperCase() : '';
    if (word === 'NONE') {
      if (rest.length) throw new BadError('NOTIFY NONE: unexpected extra arguments');
      conn.setNotify(null);
      return;
    }
    if (word !== 'SET') throw new BadError('NOTIFY: expected SET or NONE');
    const spec = parseNotifySet(rest, (name) => fromClient(name, conn.extensions.utf8));
    // §3: a new SET replaces the old one whole, whether or not it succeeds.
    conn.setNotify(null);
    const watch = await NotifyWatch.start(conn, spec);
    conn.setNotify(watch);
    if (spec.status) conn.write(await watch.statusLines());
  },
};
