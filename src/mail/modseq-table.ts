// The live messages' modseqs and flags, as the modseq log (modseq.ts) keeps
// them in memory: three arrays ordered by UID instead of a Map of one object
// per message (77 bytes a message in a heap snapshot, 20 here). Found by
// binary search; new UIDs, the usual case, are appended. An expunge leaves a
// hole (modseq 0) that goes at the next compaction of the arrays.

export class ModseqTable {
  private uids = new Uint32Array(64);
  private modseqs = new Float64Array(64);
  /** Flags as Maildir letters: few distinct strings, shared (the log's reader interns them). */
  private infos: string[] = [];
  private n = 0;
  private holes = 0;

  /** The table of a map built while reading the log (any UID order). */
  static fromMap(map: Map<number, { modseq: number; info: string }>): ModseqTable {
    const t = new ModseqTable();
    const uids = [...map.keys()].sort((a, b) => a - b);
    t.grow(uids.length);
    for (const uid of uids) {
      const e = map.get(uid)!;
      t.uids[t.n] = uid;
      t.modseqs[t.n] = e.modseq;
      t.infos[t.n++] = e.info;
    }
    return t;
  }

  get size(): number {
    return this.n - this.holes;
  }

  /** Where `uid` is, or would go: the first index whose UID is not below it. */
  private position(uid: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.uids[mid] < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of `uid`'s live entry, or -1. */
  private find(uid: number): number {
    const i = this.position(uid);
    return i < this.n && this.uids[i] === uid && this.modseqs[i] !== 0 ? i : -1;
  }

  get(uid: number): { modseq: number; info: string } | undefined {
    const i = this.find(uid);
    return i < 0 ? undefined : { modseq: this.modseqs[i], info: this.infos[i] };
  }

  set(uid: number, modseq: number, info: string): void {
    const lo = this.position(uid);
    if (lo < this.n && this.uids[lo] === uid) {
      if (this.modseqs[lo] === 0) this.holes--; // a hole filled again
      this.modseqs[lo] = modseq;
      this.infos[lo] = info;
      return;
    }
    this.grow(this.n + 1);
    // `lo` is where it goes: at the end for a new message; below that (a UID from before) the rest moves up.
    if (lo < this.n) {
      this.uids.copyWithin(lo + 1, lo, this.n);
      this.modseqs.copyWithin(lo + 1, lo, this.n);
      this.infos.splice(lo, 0, info);
    } else this.infos[lo] = info;
    this.uids[lo] = uid;
    this.modseqs[lo] = modseq;
    this.n++;
  }

  delete(uid: number): void {
    const i = this.find(uid);
    if (i < 0) return;
    this.modseqs[i] = 0;
    this.infos[i] = '';
    if (++this.holes > 1024 && this.holes > this.n / 4) this.compact();
  }

  clear(): void {
    this.uids = new Uint32Array(64);
    this.modseqs = new Float64Array(64);
    this.infos = [];
    this.n = 0;
    this.holes = 0;
  }

  /** Every live entry, ascending UID. */
  *entries(): IterableIterator<[uid: number, modseq: number, info: string]> {
    for (let i = 0; i < this.n; i++) if (this.modseqs[i] !== 0) yield [this.uids[i], this.modseqs[i], this.infos[i]];
  }

  uidList(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) if (this.modseqs[i] !== 0) out.push(this.uids[i]);
    return out;
  }

  private grow(need: number): void {
    if (need <= this.uids.length) return;
    const size = Math.max(need, this.uids.length * 2);
    const uids = new Uint32Array(size);
    uids.set(this.uids.subarray(0, this.n));
    const modseqs = new Float64Array(size);
    modseqs.set(this.modseqs.subarray(0, this.n));
    this.uids = uids;
    this.modseqs = modseqs;
  }

  private compact(): void {
    let w = 0;
    for (let r = 0; r < this.n; r++) {
      if (this.modseqs[r] === 0) continue;
      this.uids[w] = this.uids[r];
      this.modseqs[w] = this.modseqs[r];
      this.infos[w++] = this.infos[r];
    }
    this.n = w;
    this.infos.length = w;
    this.holes = 0;
  }
}
