// COMPRESS=DEFLATE (RFC 4978) as a stream between the connection and its
// socket (plain or TLS: compression sits inside TLS). Raw DEFLATE both ways,
// no zlib header. What the connection writes in one turn of the event loop is
// compressed and then ended with a Z_SYNC_FLUSH (§4), so a pushed IDLE update
// leaves at once and a FETCH of many responses costs one flush.
//
// Backpressure runs end to end: a socket that does not drain pauses the
// compressor, which holds back this stream's write callbacks (the connection
// sees writableLength grow); a connection that stops reading pauses the
// inflater, which stops taking socket input. Inflated bytes go to the same
// command framer as plain ones, so a decompression bomb meets the same line
// and literal limits, and zlib never inflates more than one chunk ahead.
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

/**
 * Our compressor: a 4 KiB window (windowBits 12) and memLevel 5. IMAP
 * responses repeat themselves within a few hundred bytes (FETCH items, flags,
 * header names), so a bigger window gains little, while memory per idle
 * session is what a small machine runs out of. Measured on Node 20 (whose
 * zlib keeps a 64 KiB hash table whatever memLevel says): a deflate stream
 * costs 224 KiB with zlib's defaults (15/8), 110 KiB with 12/5, 91 KiB with
 * 10/3; a whole compressed IDLE session 119 KiB more than a plain one
 * (test/bench/compress-memory.ts). The decompressor must accept any window a
 * client chose (RFC 1951 allows 32 KiB), so it keeps windowBits 15.
 */
export const DEFLATE_OPTIONS: zlib.ZlibOptions = { windowBits: 12, memLevel: 5, level: 6, chunkSize: 8 * 1024 };
const INFLATE_OPTIONS: zlib.ZlibOptions = { windowBits: 15, chunkSize: 8 * 1024 };

export class DeflateStream extends Duplex {
  private readonly deflater = zlib.createDeflateRaw(DEFLATE_OPTIONS);
  private readonly inflater = zlib.createInflateRaw(INFLATE_OPTIONS);
  private flushQueued = false;

  /** `pending`: input that arrived after the COMPRESS command, before the switch (already compressed). */
  constructor(
    private readonly raw: Duplex,
    pending: Buffer | null,
  ) {
    super();
    const { deflater, inflater } = this;
    raw.on('data', (chunk: Buffer) => {
      if (!inflater.write(chunk)) raw.pause();
    });
    inflater.on('drain', () => raw.resume());
    inflater.on('data', (data: Buffer) => {
      if (!this.push(data)) inflater.pause();
    });
    deflater.on('data', (data: Buffer) => {
      if (!raw.write(data)) deflater.pause();
    });
    raw.on('drain', () => deflater.resume());
    raw.on('end', () => this.push(null));
    raw.on('close', () => this.destroy());
    raw.on('error', (err) => this.destroy(err));
    // Input that is not DEFLATE data ends the session: there is no way back to plain text.
    inflater.on('error', (err) => this.destroy(err));
    deflater.on('error', (err) => this.destroy(err));
    if (pending?.length) inflater.write(pending);
    raw.resume();
  }

  override _read(): void {
    this.inflater.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.deflater.write(chunk, done);
    if (this.flushQueued) return;
    this.flushQueued = true;
    // After the rest of this turn's writes: one sync flush per burst of responses.
    setImmediate(() => {
      this.flushQueued = false;
      if (!this.deflater.destroyed) this.deflater.flush(zlib.constants.Z_SYNC_FLUSH);
    });
  }

  override _final(done: (err?: Error | null) => void): void {
    this.deflater.once('end', () => {
      this.raw.end();
      done();
    });
    this.deflater.end();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.deflater.destroy();
    this.inflater.destroy();
    this.raw.destroy();
    done(err);
  }
}
