// ID (RFC 2971): who we are. The client's own ID is read and checked, then only logged.
import { BadError } from '../../wire/errors.js';
import { quote } from '../../wire/encoder.js';
import { ANY, type Command } from './types.js';
import { VERSION } from '../../version.js';

export const id: Command = {
  names: ['ID'],
  states: ANY,
  async run(ctx) {
    const [arg, ...rest] = ctx.args;
    if (!arg || rest.length) throw new BadError('ID: expected NIL or a parenthesised list');
    const fields: Record<string, string | null> = Object.create(null); // client strings as keys: no __proto__ games
    if (arg.type === 'list') {
      if (arg.items.length % 2 || arg.items.length > 60) throw new BadError('ID: expected field/value pairs');
      for (let i = 0; i < arg.items.length; i += 2) {
        const k = arg.items[i];
        const v = arg.items[i + 1];
        if (k.type !== 'string' || v.type === 'list') throw new BadError('ID: invalid field');
        const key = k.value.toString('utf8').slice(0, 30);
        fields[key] = v.type === 'atom' ? null : v.value.toString('utf8').slice(0, 1024);
      }
      ctx.conn.log.info({ client: fields }, 'client id');
    } else if (!(arg.type === 'atom' && arg.value.toUpperCase() === 'NIL')) throw new BadError('ID: expected NIL or a parenthesised list');
    ctx.conn.write(`* ID (${quote('name')} ${quote('maildir-imapd')} ${quote('version')} ${quote(VERSION)})\r\n`);
  },
};
