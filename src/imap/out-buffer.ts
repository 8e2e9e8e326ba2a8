// Response bytes gathered into large chunks before they reach the socket: a
// FETCH of 50,000 messages is 50,000 small responses, and one socket write
// each would cost more than building them.
import { SparePool } from '../runtime/spare-pool.js';

const CHUNK = 256 * 1024;

/** Chunks the socket is done with, for the next ones (a 50,000-message sync writes 30-50 MB of responses). */
const spareChunks = new SparePool<Buffer>(8);

/** Where the chunks go: `written`, when given, is called once the chunk's bytes are no longer needed (written, or copied by TLS or deflate). */
export type ChunkSink = (chunk: Buffer, written?: () => void) => void;

/** Text is gathered as a string up to this many characters, then encoded in one call (one per message cost more than building the lines). */
const TEXT_RUN = 4096;

/** Ranges up to this many bytes are copied by a loop: Buffer#copy of part of a buffer makes a view of it each call. */
const SHORT_COPY = 256;

/** A chunk being filled, and how many of its pieces the sink still holds. */
interface Chunk {
  buf: Buffer;
  held: number;
  /** No more is written into it: it goes back once the sink holds none of it. */
  retired: boolean;
}

export class OutBuffer {
  private chunk: Chunk = newChunk();
  private buf = this.chunk.buf;
  /** Bytes [start, n) of buf are gathered and not yet handed to the sink. */
  private start = 0;
  private n = 0;
  private pending = '';

  constructor(private readonly sink: ChunkSink) {}

  /** Bytes gathered and not yet handed to the sink (text counted in characters). */
  get length(): number {
    return this.n - this.start + this.pending.length;
  }

  /** Appends text as UTF-8 (IMAP syntax is 7-bit; a keyword or name may not be). */
  text(s: string): void {
    this.pending += s;
    if (this.pending.length >= TEXT_RUN) this.encodePending();
  }

  private encodePending(): void {
    const s = this.pending;
    if (!s) return;
    this.pending = '';
    // A UTF-16 unit is at most 3 bytes of UTF-8.
    if (this.n + s.length * 3 > this.buf.length) {
      this.next();
      if (s.length * 3 > this.buf.length) return this.sink(Buffer.from(s, 'utf8'));
    }
    this.n += this.buf.write(s, this.n, 'utf8');
  }

  /**
   * Appends ASCII text (response syntax, atoms), written byte by byte with no
   * string built; anything else goes through text(). The fast FETCH path
   * writes its lines this way: a line built as a string per message, and its
   * encoding, were most of a header sync's garbage.
   */
  ascii(s: string): void {
    this.encodePending();
    if (this.n + s.length > this.buf.length) {
      this.next();
      if (s.length > this.buf.length) return this.text(s);
    }
    const buf = this.buf;
    let n = this.n;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return this.text(s); // nothing was counted yet: text() writes it all
      buf[n++] = c;
    }
    this.n = n;
  }

  /** Appends a non-negative integer's decimal digits. */
  num(v: number): void {
    this.encodePending();
    if (this.n + 20 > this.buf.length) this.next();
    const buf = this.buf;
    const from = this.n;
    let n = from;
    do {
      buf[n++] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    } while (v > 0);
    for (let i = from, j = n - 1; i < j; i++, j--) {
      const d = buf[i];
      buf[i] = buf[j];
      buf[j] = d;
    }
    this.n = n;
  }

  /** Appends all of `b` (a constant: a label written for every message) with one native copy. */
  whole(b: Uint8Array): void {
    this.encodePending();
    if (this.n + b.length > this.buf.length) {
      this.next();
      if (b.length > this.buf.length) return this.sink(Buffer.from(b));
    }
    this.buf.set(b, this.n);
    this.n += b.length;
  }

  bytes(b: Buffer): void {
    this.range(b, 0, b.length);
  }

  /**
   * Appends a copy of bytes [start, end) of `b`: the caller may reuse `b` once
   * this returns (the fast FETCH path's summaries live in reused read buffers).
   */
  range(b: Buffer, start: number, end: number): void {
    this.encodePending();
    if (end - start <= SHORT_COPY && this.n + end - start <= this.buf.length) {
      // A header field or two.
      const buf = this.buf;
      let n = this.n;
      for (let i = start; i < end; i++) buf[n++] = b[i];
      this.n = n;
      return;
    }
    while (start < end) {
      if (this.n === this.buf.length) this.next();
      const n = b.copy(this.buf, this.n, start, Math.min(end, start + this.buf.length - this.n));
      this.n += n;
      start += n;
    }
  }

  /**
   * Hands `b` to the sink as it is, after what was gathered before it: a
   * whole message of a BODY[] sync is not copied again. `written` is called
   * once the sink no longer needs it (see ChunkSink).
   */
  share(b: Buffer, written: () => void): void {
    this.flush();
    this.sink(b, written);
  }

  /**
   * Hands what was gathered to the sink. The chunk it is in goes on being
   * filled after it (a FETCH that shares a literal per message hands a line
   * per message: a chunk each would be 256 KiB per message).
   */
  flush(): void {
    this.encodePending();
    if (this.n === this.start) return;
    const c = this.chunk;
    const piece = this.buf.subarray(this.start, this.n);
    this.start = this.n;
    c.held++;
    this.sink(piece, () => {
      if (--c.held === 0 && c.retired) spareChunks.give(c.buf);
    });
  }

  /** Hands what was gathered to the sink and goes on in a new chunk (when the one in hand has no room left). */
  private next(): void {
    this.flush();
    if (this.n === 0) return; // nothing written in this one yet
    this.retire();
    this.chunk = newChunk();
    this.buf = this.chunk.buf;
    this.start = this.n = 0;
  }

  private retire(): void {
    this.chunk.retired = true;
    if (this.chunk.held === 0) spareChunks.give(this.chunk.buf);
  }

  /** The chunk in hand goes back for reuse once the sink is done with it (nothing more will be written). */
  close(): void {
    this.flush();
    this.retire();
  }
}

function newChunk(): Chunk {
  return { buf: spareChunks.take() ?? Buffer.allocUnsafeSlow(CHUNK), held: 0, retired: false };
}
