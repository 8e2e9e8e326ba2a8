// LOGOUT (RFC 3501 §6.1.3).
import { ArgReader } from '../../wire/args.js';
import { ANY, type Command } from './types.js';

export const logout: Command = {
  names: ['LOGOUT'],
  states: ANY,
  async run({ conn, tag, args }) {
    new ArgReader(args, 'LOGOUT').end();
    conn.write(`* BYE Logging out\r\n${tag} OK Logout completed\r\n`);
    conn.log.info({ user: conn.user?.name }, 'logout');
    conn.close();
    return 'done';
  },
};
