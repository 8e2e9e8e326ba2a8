// COMPRESS (RFC 4978 §3): DEFLATE is the one mechanism. The tagged OK goes out
// uncompressed; every byte after it, both ways, is raw DEFLATE
// (../deflate-stream.ts). A second COMPRESS is NO [COMPRESSIONACTIVE].
import { ArgReader } from '../../wire/args.js';
import { BadError, NoError } from '../../wire/errors.js';
import { AUTHED, type Command } from './types.js';

export const compress: Command = {
  names: ['COMPRESS'],
  states: AUTHED,
  async run({ conn, tag, args }) {
    const reader = new ArgReader(args, 'COMPRESS');
    const mechanism = reader.atom('compression mechanism').toUpperCase();
    reader.end();
    if (mechanism !== 'DEFLATE') throw new BadError(`Unknown compression mechanism ${mechanism.slice(0, 32)}`);
    if (conn.isCompressed) throw new NoError('DEFLATE compression is already active', 'COMPRESSIONACTIVE');
    await conn.startCompression(tag);
    conn.log.debug({ user: conn.user?.name }, 'compression started');
    return 'done';
  },
};
