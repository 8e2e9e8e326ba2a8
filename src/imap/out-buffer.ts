// Response bytes gathered into large chunks before they reach the socket: a
// FETCH of 50,000 messages is 50,000 small responses, and one socket write
// each would cost more than building them.
const CHUNK = 256 * 1024;
/** A given buffer this big is written as it is (smaller ones are gathered: a socket write each would cost more). */
const GIVE_MIN = 16 * 1024;

export class OutBuffer {
  private buf = Buffer.allocUnsafe(CHUNK);
  private n = 0;

  constructor(private readonly sink: (chunk: Buffer) => void) {}

  /** Bytes gathered and not yet handed to the sink. */
  get length(): number {
    return this.n;
  }

  /** Appends text as UTF-8 (IMAP syntax is 7-bit; a keyword or name may not be). */
  text(s: string): void {
    // A UTF-16 unit is at most 3 bytes of UTF-8.
    if (this.n + s.length * 3 > this.buf.length) {
      this.flush();
      if (s.length * 3 > this.buf.length) return this.sink(Buffer.from(s, 'utf8'));
    }
    this.n += this.buf.write(s, this.n, 'utf8');
  }

  bytes(b: Buffer): void {
    this.range(b, 0, b.length);
  }

  /**
   * Appends a copy of bytes [start, end) of `b`: the caller may reuse `b` once
   * this returns (the fast FETCH path's summaries live in reused read buffers).
   */
  range(b: Buffer, start: number, end: number): void {
    while (start < end) {
      if (this.n === this.buf.length) this.flush();
      const n = b.copy(this.buf, this.n, start, Math.min(end, start + this.buf.length - this.n));
      this.n += n;
      start += n;
    }
  }

  /**
   * Appends a buffer the caller gives away (it is not changed or reused
   * after): a big one goes to the sink as it is, not copied. A FETCH of
   * whole messages then allocates its bytes once, not twice; the copies were
   * half of what made V8 collect every 35 ms during one.
   */
  give(b: Buffer): void {
    if (b.length < GIVE_MIN) return this.range(b, 0, b.length);
    this.flush();
    this.sink(b);
  }

  flush(): void {
    if (!this.n) return;
    const out = this.buf.subarray(0, this.n);
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.n = 0;
    this.sink(out);
  }
}
