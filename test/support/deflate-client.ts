// The client's side of COMPRESS=DEFLATE (RFC 4978) over a socket that has just
// read the tagged OK: raw DEFLATE both ways, each send ended by a sync flush.
// Byte counts on the wire are kept for compression assertions.
import zlib from 'node:zlib';
import type { Duplex } from 'node:stream';

export class DeflateClient {
  private text = '';
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
    socket.on('close', () => ((this.ended = true), this.wake()));
    this.inflater.on('data', (d: Buffer) => {
      this.plainIn += d.length;
      this.text += d.toString('latin1');
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

  async readUntil(marker: string | RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = typeof marker === 'string' ? (this.text.includes(marker) ? { index: this.text.indexOf(marker), 0: marker } : null) : marker.exec(this.text);
      if (m) {
        const end = m.index + m[0].length;
        const out = this.text.slice(0, end);
        this.text = this.text.slice(end);
        return out;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.ended || this.inflateError) throw new Error(`no ${marker} (${this.inflateError?.message ?? (this.ended ? 'closed' : 'timed out')}); have: ${JSON.stringify(this.text.slice(0, 300))}`);
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
