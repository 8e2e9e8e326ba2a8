// Numbers for texts given as UTF-8 byte ranges, without making a string of
// each: THREAD interns 100,000+ Message-IDs read from stored summaries, and
// a string and a Map entry for each were a third of its time and most of its
// garbage (issue 14). Equal bytes get the same number; texts are compared
// byte for byte, so there are no false matches. With `asciiUpper`, texts are
// keyed by their i;ascii-casemap form (a-z as A-Z), which is what is kept.

const EMPTY_SLOT = 0;

/** a-z as A-Z: the i;ascii-casemap comparator's form of a byte. */
const upper = (c: number): number => (c >= 0x61 && c <= 0x7a ? c - 0x20 : c);

export class ByteInterner {
  /** The texts' bytes, back to back. */
  private arena = new Uint8Array(16 * 1024);
  private used = 0;
  /** Per number: where its bytes start in the arena, and its hash. */
  private starts = new Int32Array(1024);
  private hashes = new Int32Array(1024);
  /** Open addressing: number + 1, or EMPTY_SLOT. */
  private slots = new Int32Array(2048);
  private n = 0;

  constructor(private readonly asciiUpper = false) {}

  /** Bytes held by its tables. */
  get bytes(): number {
    return this.arena.byteLength + this.starts.byteLength + this.hashes.byteLength + this.slots.byteLength;
  }

  /** How many distinct texts so far: they are numbered 0 to count - 1. */
  get count(): number {
    return this.n;
  }

  /** The number of the text whose UTF-8 is b[start, end). */
  intern(b: Uint8Array, start: number, end: number): number {
    const fold = this.asciiUpper;
    let h = 0x811c9dc5;
    if (fold) for (let i = start; i < end; i++) h = Math.imul(h ^ upper(b[i]), 0x01000193);
    else for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
    const mask = this.slots.length - 1;
    const len = end - start;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const slot = this.slots[s];
      if (slot === EMPTY_SLOT) return this.add(b, start, end, h, s);
      const id = slot - 1;
      if (this.hashes[id] !== h || this.byteLength(id) !== len) continue;
      const at = this.starts[id];
      let i = 0;
      if (fold) while (i < len && this.arena[at + i] === upper(b[start + i])) i++;
      else while (i < len && this.arena[at + i] === b[start + i]) i++;
      if (i === len) return id;
    }
  }

  /**
   * Whether text `id` is b[start, end), compared natively (for long texts:
   * a field-name shape is hundreds of bytes). Not with `asciiUpper`.
   */
  equals(id: number, b: Buffer, start: number, end: number): boolean {
    const len = end - start;
    if (this.byteLength(id) !== len) return false;
    const at = this.starts[id];
    if (this.arenaView?.buffer !== this.arena.buffer) this.arenaView = Buffer.from(this.arena.buffer, this.arena.byteOffset, this.arena.byteLength);
    return b.compare(this.arenaView, at, at + len, start, end) === 0;
  }

  private arenaView: Buffer | null = null;

  /** The number of a text given as a string (its UTF-8 interned as above). */
  internString(s: string): number {
    const b = Buffer.from(s, 'utf8');
    return this.intern(b, 0, b.length);
  }

  /** The text numbered `id`. */
  text(id: number): string {
    const at = this.starts[id];
    return Buffer.from(this.arena.buffer, this.arena.byteOffset + at, this.byteLength(id)).toString('utf8');
  }

  /** Orders two numbers by their texts' bytes (as kept: upper-cased with `asciiUpper`). */
  compare(a: number, b: number): number {
    const x = this.starts[a];
    const y = this.starts[b];
    const la = this.byteLength(a);
    const lb = this.byteLength(b);
    for (let i = 0; i < la && i < lb; i++) if (this.arena[x + i] !== this.arena[y + i]) return this.arena[x + i] - this.arena[y + i];
    return la - lb;
  }

  byteLength(id: number): number {
    return (id + 1 < this.n ? this.starts[id + 1] : this.used) - this.starts[id];
  }

  private add(b: Uint8Array, start: number, end: number, h: number, slot: number): number {
    const id = this.n++;
    if (id === this.starts.length) {
      this.starts = grown(this.starts, id * 2);
      this.hashes = grown(this.hashes, id * 2);
    }
    const len = end - start;
    if (this.used + len > this.arena.length) {
      const more = new Uint8Array(Math.max(this.arena.length * 2, this.used + len));
      more.set(this.arena.subarray(0, this.used));
      this.arena = more;
    }
    // short texts: a loop is cheaper than a subarray and set()
    if (this.asciiUpper) for (let i = 0; i < len; i++) this.arena[this.used + i] = upper(b[start + i]);
    else for (let i = 0; i < len; i++) this.arena[this.used + i] = b[start + i];
    this.starts[id] = this.used;
    this.used += len;
    this.hashes[id] = h;
    this.slots[slot] = id + 1;
    if (this.n * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.n; id++) {
      let s = this.hashes[id] & mask;
      while (slots[s] !== EMPTY_SLOT) s = (s + 1) & mask;
      slots[s] = id + 1;
    }
    this.slots = slots;
  }
}

function grown(a: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}
