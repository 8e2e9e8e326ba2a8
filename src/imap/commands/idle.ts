// IDLE (RFC 2177): updates are pushed the moment the mailbox reports them.
// No upper time limit; "* OK Still here" keeps NAT mappings alive.
import { ArgReader } from '../../wire/args.js';
import { AUTHED, type Command } from './types.js';

export const idle: Command = {
  names: ['IDLE'],
  states: AUTHED,
  async run({ conn, args }) {
    new ArgReader(args, 'IDLE').end();
    conn.write('+ idling\r\n');
    conn.setIdle(true);
    const keepalive = setInterval(() => conn.write('* OK Still here\r\n'), conn.ctx.config.idleKeepaliveMs);
    try {
      const item = await conn.nextLine();
      if (conn.isClosed) return 'done';
      const text = 'cmd' in item && item.cmd.parts.length === 1 && item.cmd.parts[0].kind === 'text' ? item.cmd.parts[0].text.trim() : null;
      // A client that sends a command instead of DONE still gets it answered, after IDLE ends.
      if (text?.toUpperCase() !== 'DONE') conn.unshift(item);
    } finally {
      clearInterval(keepalive);
      conn.setIdle(false);
    }
    return { text: 'Idle completed' };
  },
};
