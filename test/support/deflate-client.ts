// The client's side of COMPRESS=DEFLATE (RFC 4978) over a socket that has just
// read the tagged OK: raw DEFLATE both ways, each send ended by a sync flush.
// Byte counts on the wire are kept for compression assertions.
import zlib from 'node:zlib';
import type { Duplex } from 'node:stream';

export class DeflateClient {
  private chunks: string[] = [];
  /** Chunks searched without a match. */
  private scanned = 0;
  private waiters: Array<() => void> = [];
  readonly deflater = zlib.createDeflateRaw();
  private readonly inflater = zlib.createInflateRaw();
  /** Compressed bytes received from the server. */
  wireIn = 0;
  /** Plain bytes they inflated to. */
  plainIn = 0;
  inflateError: Error | null = null;
  ended = false;

  /** `leading`: compressed bytes already read from the socket with the tagged OK. */
  constructor(
    readonly socket: Duplex,
    leading?: Buffer,
  ) {
    if (leading?.length) this.inflater.write(leading);
    socket.on('data', (d: Buffer) => {
      this.wireIn += d.length;
      this.inflater.write(d);
    });
    // Closed only once the inflater has given out what the socket brought before it closed.
    socket.on('close', () => this.inflater.end());
    this.inflater.on('close', () => ((this.ended = true), this.wake()));
    this.inflater.on('data', (d: Buffer) => {
      this.plainIn += d.length;
      this.chunks.push(d.toString('latin1'));
      this.wake();
    });
    this.inflater.on('error', (err) => ((this.inflateError = err), this.wake()));
    this.deflater.on('data', (d: Buffer) => socket.write(d));
  }

  /**
   * Sends `tag COMPRESS DEFLATE` in the clear on a fresh socket (greeted and
   * logged in), reads to the tagged OK and switches; `pipelined` is compressed
   * and sent in the same packet as the command.
   */
  static async start(socket: Duplex, tag = 'Z1', pipelined?: string): Promise<DeflateClient> {
    let seen = Buffer.alloc(0);
    const okLine = new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`);
    const got = new Promise<Buffer>((resolve, reject) => {
      const onData = (d: Buffer) => {
        seen = Buffer.concat([seen, d]);
        const m = okLine.exec(seen.toString('latin1'));
        if (!m) return;
        socket.off('data', onData);
        if (!/ OK /.test(m[0])) return reject(new Error(`COMPRESS refused: ${m[0]}`));
        resolve(seen.subarray(m.index + m[0].length));
      };
      socket.on('data', onData);
    });
    const command = Buffer.from(`${tag} COMPRESS DEFLATE\r\n`);
    if (pipelined === undefined) socket.write(command);
    else socket.write(Buffer.concat([command, zlib.deflateRawSync(pipelined, { finishFlush: zlib.constants.Z_SYNC_FLUSH })]));
    const client = new DeflateClient(socket, await got);
    return client;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Compresses `data` and flushes it to the wire at once. */
  send(data: string | Buffer): void {
    this.deflater.write(data);
    this.deflater.flush(zlib.constants.Z_SYNC_FLUSH);
  }

  /** Everything up to and including the first match of `marker`, which is consumed. */
  async readUntil(marker: string | RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Each chunk is searched once (with the end of the one before, for a marker split between them):
      // an 8 MiB response stays linear, no whole-text rescans or flattening.
      for (; this.scanned < this.chunks.length; this.scanned++) {
        const i = this.scanned;
        const before = i > 0 ? this.chunks[i - 1].slice(-1024) : '';
        const region = before + this.chunks[i];
        const at = typeof marker === 'string' ? region.indexOf(marker) : -1;
        const m = typeof marker === 'string' ? (at >= 0 ? { index: at, 0: marker } : null) : marker.exec(region);
        if (!m) continue;
        const endInChunk = m.index + m[0].length - before.length;
        const out = this.chunks.slice(0, i).join('') + this.chunks[i].slice(0, endInChunk);
        const rest = this.chunks[i].slice(endInChunk);
        this.chunks = rest ? [rest] : [];
        this.scanned = 0;
        return out;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.ended || this.inflateError) {
        const have = this.chunks.join('').slice(0, 300);
        throw new Error(`no ${marker} (${this.inflateError?.message ?? (this.ended ? 'closed' : 'timed out')}); have: ${JSON.stringify(have)}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  /** Sends `tag text` and reads up to its tagged reply. */
  async command(tag: string, text: string): Promise<string> {
    this.send(`${tag} ${text}\r\n`);
    return this.readUntil(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`));
  }
}
