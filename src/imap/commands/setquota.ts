// SETQUOTA (RFC 9208 §4.3.3): limits come from the users file and the
// configuration, never from a client, so it is refused (as Dovecot refuses
// it) once its arguments are well-formed.
import { ArgReader } from '../../wire/args.js';
import { BadError, NoError } from '../../wire/errors.js';
import { AUTHED, type Command } from './types.js';

export const setquota: Command = {
  names: ['SETQUOTA'],
  states: AUTHED,
  async run(ctx) {
    const r = new ArgReader(ctx.args, 'SETQUOTA');
    r.astring('quota root');
    const list = r.list('resource limits');
    r.end();
    // setquota-list: pairs of a resource name (atom) and a number.
    if (list.length % 2 !== 0) throw new BadError('SETQUOTA: expected resource/limit pairs');
    for (let i = 0; i < list.length; i += 2) {
      const [name, limit] = [list[i], list[i + 1]];
      if (name.type !== 'atom' || limit.type !== 'atom' || !/^\d+$/.test(limit.value)) throw new BadError('SETQUOTA: expected resource/limit pairs');
    }
    throw new NoError('Quota can be changed only by admin', 'NOPERM');
  },
};
