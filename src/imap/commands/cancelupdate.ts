// CANCELUPDATE (RFC 5267 §4.2): `CANCELUPDATE "tag" …` stops the updates of
// live searches (RETURN (UPDATE)) started under those tags. A tag with no
// live search is NO and nothing is cancelled, as Dovecot answers.
import { BadError, NoError } from '../../wire/errors.js';
import { SELECTED, type Command } from './types.js';

export const cancelupdate: Command = {
  names: ['CANCELUPDATE'],
  states: SELECTED,
  async run(ctx) {
    if (!ctx.args.length) throw new BadError('CANCELUPDATE: missing tag');
    const tags = ctx.args.map((t) => {
      if (t.type !== 'string') throw new BadError('CANCELUPDATE: each tag is a quoted string');
      return t.value.toString('utf8');
    });
    const contexts = ctx.conn.view!.contexts;
    const unknown = tags.find((t) => !contexts.has(t));
    if (unknown !== undefined) throw new NoError(`No search kept up to date under tag ${JSON.stringify(unknown.slice(0, 40))}`);
    for (const t of tags) contexts.cancel(t);
    return { text: 'Updates cancelled' };
  },
};
