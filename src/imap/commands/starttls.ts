// STARTTLS (RFC 3501 §6.2.1): the tagged OK goes out in the clear, then the
// TLS handshake starts on the same socket. The client asks CAPABILITY again
// afterwards: STARTTLS is gone from it and LOGIN allowed.
import { ArgReader } from '../../wire/args.js';
import { BadError } from '../../wire/errors.js';
import type { Command } from './types.js';

export const starttls: Command = {
  names: ['STARTTLS'],
  states: ['notauth'],
  async run({ conn, tag, args }) {
    new ArgReader(args, 'STARTTLS').end();
    if (conn.isSecure) throw new BadError('TLS is already active');
    // TLS inside DEFLATE would leak through the compressed sizes what TLS should hide (RFC 4978 §6): TLS goes first.
    if (conn.isCompressed) throw new BadError('STARTTLS after COMPRESS is not allowed');
    const tls = conn.ctx.tls;
    if (!tls) {
      // Not offered in CAPABILITY, but some clients try it anyway (fetchmail does by default, and gives
      // up on BAD): the text says what to change on either side, the log tells the operator.
      conn.log.info({ ip: conn.remoteAddress }, 'starttls refused: no certificate configured (tls.cert, tls.key)');
      throw new BadError(`TLS support isn't enabled: this server has no certificate (tls.cert, tls.key); connect without STARTTLS (fetchmail: sslproto '')`);
    }
    conn.write(`${tag} OK Begin TLS negotiation now\r\n`);
    conn.startTls(tls.context);
    return 'done';
  },
};
