// The text index's pure parts: the tokeniser, query plans, and immutable
// segments (an inverted index over a batch of messages) with their matching,
// merging and on-disk encoding. Used by the parse worker (text-index-parse.ts)
// and by the main thread (text-index.ts). No I/O here.
//
// Why the index is exact. TEXT/BODY match a folded search string q as a
// substring of the folded header text or of the folded body text (facts.ts;
// plain UTF-16 code-unit String.includes). We split those same strings into
// maximal runs of "word" code units (isWord below; the classification is
// arbitrary as long as the text and the query use the same one, code unit by
// code unit) and index every distinct run per message and part (header/body).
// - q made only of word units: every occurrence of q lies inside one maximal
//   run, so q occurs in a text iff some token of it contains q. Exact.
// - otherwise q = s0 w1 s1 … wk sk (w: word runs, s: separator runs, s0/sk
//   maybe empty): an occurrence puts each wi in one token, and a side of wi
//   that touches a separator in q touches one in the text, so that token
//   starts (left side) / ends (right side) with wi, or equals it (both).
//   That is necessary, not sufficient: candidates are verified by the
//   evaluator. q without any word unit gives no candidates filter at all.
// Header and body are indexed apart (mask bits 1 and 2) and every term must
// hold in the same part, as includes() is per string.

/** Mask bits of a posting: where the token occurs. */
export const IN_HEADER = 1;
export const IN_BODY = 2;

const WORD = new Uint8Array(65536);
(() => {
  for (let c = 0; c < 65536; c++) {
    if (c < 0x80) WORD[c] = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f ? 1 : 0;
    else if (c >= 0xd800 && c <= 0xdfff) WORD[c] = 1; // surrogates: astral letters stay whole
    else WORD[c] = /[\p{L}\p{N}\p{M}]/u.test(String.fromCharCode(c)) ? 1 : 0;
  }
})();

/** Whether code unit `c` belongs to a token. */
export function isWord(c: number): boolean {
  return WORD[c] === 1;
}

/** Calls `fn(start, end)` for each maximal run of word units in `text`: what indexing and queries both split on. */
function forEachWordRun(text: string, fn: (start: number, end: number) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && WORD[text.charCodeAt(i)] === 0) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && WORD[text.charCodeAt(i)] === 1) i++;
    fn(start, i);
  }
}

/** Adds the maximal word runs of `text` to `into` (token → mask), or-ing `mask`. */
export function addTokens(text: string, mask: number, into: Map<string, number>): void {
  forEachWordRun(text, (start, end) => {
    const tok = text.slice(start, end);
    const had = into.get(tok);
    if (had === undefined) into.set(tok, mask);
    else if ((had & mask) === 0) into.set(tok, had | mask);
  });
}

/** The tokens of one message: header text and body text as facts.searchTextsOf gives them. */
export function messageTokens(header: string, body: string): Map<string, number> {
  const m = new Map<string, number>();
  addTokens(header, IN_HEADER, m);
  addTokens(body, IN_BODY, m);
  return m;
}

// ---------------------------------------------------------------------------
// Query plans

export type TermKind = 'sub' | 'prefix' | 'suffix' | 'exact';
export interface Term {
  word: string;
  kind: TermKind;
}
export interface QueryPlan {
  terms: Term[];
  /** True when the candidates are the answer (q is one word run); else they must be verified. */
  exact: boolean;
}

/** How the index can answer the folded search string `q`; null: it cannot narrow it at all. */
export function planQuery(q: string): QueryPlan | null {
  const runs: Array<{ word: string; left: boolean; right: boolean }> = [];
  forEachWordRun(q, (start, end) => runs.push({ word: q.slice(start, end), left: start > 0, right: end < q.length }));
  if (!runs.length) return null;
  const terms = runs.map(({ word, left, right }): Term => ({ word, kind: left && right ? 'exact' : left ? 'prefix' : right ? 'suffix' : 'sub' }));
  return { terms, exact: runs.length === 1 && terms[0].kind === 'sub' };
}

// ---------------------------------------------------------------------------
// Segments

/**
 * An immutable inverted index over some messages. `dict` is "\n" + the
 * tokens joined by "\n" + "\n", so a scan with indexOf finds tokens
 * containing, starting with, ending with or equal to a word. Token i starts
 * at starts[i] and ends before starts[i+1]-1. Its postings are the varint
 * deltas in post[postOff[i], postOff[i+1]) of ascending (local << 2 | mask),
 * where local indexes `names` (message basenames).
 *
 * The dictionary is UTF-8 bytes (offsets in bytes): as a JavaScript string
 * it took two bytes a character in the heap as soon as one word was not
 * Latin-1 (25 MB at 50,000 messages instead of ~13 MB outside the heap).
 * UTF-8 matching is character matching, since no character's bytes occur
 * inside another's. A dictionary with lone surrogates (from `&#xd800;` in
 * HTML), which UTF-8 cannot hold, stays a string (offsets in UTF-16 units).
 */
export interface Segment {
  names: string[];
  dict: Buffer | string;
  starts: Uint32Array;
  postOff: Uint32Array;
  post: Uint8Array;
  /**
   * Set when the postings were left in the index file (`post` is then
   * empty): the file offset where they start. A search reads only the
   * postings of the tokens it matched; they were two thirds of a folder's
   * index in memory (27 of 41 MB at 50,000 messages, issue 14).
   */
  postAt?: number;
}

/** Where the postings of some tokens are: token t's bytes are bytes[at(t)] onwards (postOff[t + 1] - postOff[t] of them). */
export interface PostingBytes {
  bytes: Uint8Array;
  at(t: number): number;
}

/** A segment's postings held in memory. */
export function heldPostings(seg: Segment): PostingBytes {
  return { bytes: seg.post, at: (t) => seg.postOff[t] };
}

export function tokenCount(seg: Segment): number {
  return seg.starts.length - 1;
}

/** Bytes a segment holds (strings counted at 2 bytes a unit). */
export function segmentBytes(seg: Segment): number {
  let n = (typeof seg.dict === 'string' ? seg.dict.length * 2 : seg.dict.length) + seg.starts.byteLength + seg.postOff.byteLength + seg.post.byteLength;
  for (const s of seg.names) n += 16 + s.length * 2;
  return n;
}

class ByteSink {
  buf = new Uint8Array(1 << 16);
  len = 0;
  varint(v: number): void {
    if (this.len + 5 > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    while (v >= 0x80) {
      this.buf[this.len++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.len++] = v;
  }
  take(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Builds a segment from per-message token maps (token → mask), in `names` order. */
export function buildSegment(names: string[], tokens: Array<Map<string, number>>): Segment {
  // token → list of (local << 2 | mask), ascending by construction
  const inv = new Map<string, number[]>();
  for (let local = 0; local < tokens.length; local++) {
    for (const [tok, mask] of tokens[local]) {
      const v = local * 4 + mask;
      const l = inv.get(tok);
      if (l) l.push(v);
      else inv.set(tok, [v]);
    }
  }
  return fromInverted(names, inv);
}

/** The dictionary of `toks` (see Segment) and where each token starts in it. */
function dictionaryOf(toks: readonly string[]): { dict: Buffer | string; starts: Uint32Array } {
  const text = toks.length ? '\n' + toks.join('\n') + '\n' : '\n';
  let dict: Buffer | string = text;
  if (wellFormed(text)) {
    // Its own memory (never a slice of Node's shared pool): a worker thread moves it to the event loop.
    dict = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
    dict.write(text, 'utf8');
  }
  return { dict, starts: startsOf(dict, toks.length) };
}

/** A segment that came from a worker thread: its bytes dictionary arrives as a plain Uint8Array. */
export function revived(seg: Segment): Segment {
  const d = seg.dict as Uint8Array | string;
  if (typeof d !== 'string' && !Buffer.isBuffer(d)) seg.dict = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return seg;
}

const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Where each of `count` tokens starts in `dict` (after each "\n" but the last), and the dictionary's end; throws if the count is off. */
function startsOf(dict: Buffer | string, count: number): Uint32Array {
  const starts = new Uint32Array(count + 1);
  let t = 0;
  let i = dict.indexOf('\n');
  if (i !== 0) throw new Error('segment dictionary malformed');
  for (;;) {
    const j = dict.indexOf('\n', i + 1);
    if (j < 0) break;
    if (t >= count) throw new Error('segment dictionary too long');
    starts[t++] = i + 1;
    i = j;
  }
  if (t !== count || i !== dict.length - 1) throw new Error('segment dictionary count mismatch');
  starts[count] = dict.length;
  return starts;
}

/** Token t's text. */
function tokenText(seg: Segment, t: number): string {
  const { dict, starts } = seg;
  return typeof dict === 'string' ? dict.slice(starts[t], starts[t + 1] - 1) : dict.toString('utf8', starts[t], starts[t + 1] - 1);
}

function fromInverted(names: string[], inv: Map<string, number[]>): Segment {
  const toks = [...inv.keys()];
  const postOff = new Uint32Array(toks.length + 1);
  const sink = new ByteSink();
  for (let i = 0; i < toks.length; i++) {
    postOff[i] = sink.len;
    let prev = 0;
    for (const v of inv.get(toks[i])!) {
      sink.varint(v - prev);
      prev = v;
    }
  }
  postOff[toks.length] = sink.len;
  const { dict, starts } = dictionaryOf(toks);
  return { names, dict, starts, postOff, post: sink.take() };
}

/**
 * The fast way to build a segment (what the worker uses): tokens are looked
 * up in an open-addressing table by hashing code units in place, so only a
 * token new to the batch becomes a string; postings are appended to one
 * Int32Array as (token, value) pairs in message order and grouped by token
 * with a counting sort at the end. Gives the same segment as buildSegment
 * over messageTokens (tokens in first-seen order in both).
 */
export class SegmentBuilder {
  private readonly names: string[] = [];
  private toks: string[] = [];
  /** Open addressing: [hash, id + 1] pairs (0 = empty), so a probe touches one cache line. */
  private table: Int32Array = new Int32Array(4096);
  private slots = 2048;
  /** Per token, stride 4: [length, last message, index in pairs of that message's posting, -]. */
  private meta: Int32Array = new Int32Array(4096);
  private pairs: Int32Array = new Int32Array(1 << 16); // [token, doc << 2 | mask]
  private pairsLen = 0;
  private doc = -1;

  /** Starts the next message. */
  message(name: string): void {
    this.names.push(name);
    this.doc = this.names.length - 1;
  }

  get messages(): number {
    return this.names.length;
  }

  /** Adds the tokens of one part (IN_HEADER or IN_BODY) of the current message. */
  text(text: string, mask: number): void {
    const n = text.length;
    let i = 0;
    while (i < n) {
      while (i < n && WORD[text.charCodeAt(i)] === 0) i++;
      if (i >= n) break;
      const start = i;
      let h = 0x811c9dc5 | 0;
      let c: number;
      while (i < n && WORD[(c = text.charCodeAt(i))] === 1) {
        h = Math.imul(h ^ c, 16777619);
        i++;
      }
      const m = this.idOf(text, start, i, h) * 4;
      const meta = this.meta;
      if (meta[m + 1] === this.doc) this.pairs[meta[m + 2] + 1] |= mask;
      else {
        if (this.pairsLen + 2 > this.pairs.length) {
          const p = new Int32Array(this.pairs.length * 2);
          p.set(this.pairs);
          this.pairs = p;
        }
        meta[m + 1] = this.doc;
        meta[m + 2] = this.pairsLen;
        this.pairs[this.pairsLen++] = m >> 2;
        this.pairs[this.pairsLen++] = this.doc * 4 + mask;
      }
    }
  }

  private idOf(text: string, start: number, end: number, h: number): number {
    const table = this.table;
    const mask = this.slots - 1;
    const len = end - start;
    let slot = h & mask;
    for (;;) {
      const e = table[slot * 2 + 1];
      if (e === 0) break;
      if (table[slot * 2] === h) {
        const id = e - 1;
        if (this.meta[id * 4] === len && text.startsWith(this.toks[id], start)) return id;
      }
      slot = (slot + 1) & mask;
    }
    const id = this.toks.length;
    this.toks.push(text.slice(start, end));
    if (id * 4 + 4 > this.meta.length) {
      const b = new Int32Array(this.meta.length * 2);
      b.set(this.meta);
      this.meta = b;
    }
    this.meta[id * 4] = len;
    this.meta[id * 4 + 1] = -1;
    table[slot * 2] = h;
    table[slot * 2 + 1] = id + 1;
    if (this.toks.length * 2 > this.slots) this.rehash();
    return id;
  }

  private rehash(): void {
    const old = this.table;
    this.slots *= 2;
    const table = new Int32Array(this.slots * 2);
    const mask = this.slots - 1;
    for (let k = 0; k < old.length; k += 2) {
      if (old[k + 1] === 0) continue;
      let slot = old[k] & mask;
      while (table[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
      table[slot * 2] = old[k];
      table[slot * 2 + 1] = old[k + 1];
    }
    this.table = table;
  }

  finish(): Segment {
    const toks = this.toks;
    const n = toks.length;
    const pairs = this.pairs;
    const count = this.pairsLen >> 1;
    // counting sort of the values by token (stable: message order kept)
    const first = new Int32Array(n + 1);
    for (let k = 0; k < this.pairsLen; k += 2) first[pairs[k] + 1]++;
    for (let id = 0; id < n; id++) first[id + 1] += first[id];
    const fill = first.slice(0, n);
    const values = new Int32Array(count);
    for (let k = 0; k < this.pairsLen; k += 2) values[fill[pairs[k]]++] = pairs[k + 1];
    const postOff = new Uint32Array(n + 1);
    const sink = new ByteSink();
    for (let id = 0; id < n; id++) {
      postOff[id] = sink.len;
      let prev = 0;
      for (let k = first[id], end = first[id + 1]; k < end; k++) {
        sink.varint(values[k] - prev);
        prev = values[k];
      }
    }
    postOff[n] = sink.len;
    const { dict, starts } = dictionaryOf(toks);
    return { names: this.names, dict, starts, postOff, post: sink.take() };
  }
}

/** Calls fn(local, mask) for each posting of token `t`. */
function forPostings(seg: Segment, from: PostingBytes, t: number, fn: (local: number, mask: number) => void): void {
  const p = from.bytes;
  let i = from.at(t);
  const end = i + seg.postOff[t + 1] - seg.postOff[t];
  let v = 0;
  while (i < end) {
    let d = 0;
    let shift = 0;
    let b: number;
    do {
      b = p[i++];
      d += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    v += d;
    fn(Math.floor(v / 4), v & 3);
  }
}

/** Index of the token whose text covers dict offset `pos`. */
function tokenAt(seg: Segment, pos: number): number {
  const s = seg.starts;
  let lo = 0;
  let hi = s.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Token indexes matching `term`; stops (returning null) past `limit` tokens. */
export function matchTokens(seg: Segment, term: Term, limit: number): number[] | null {
  const out: number[] = [];
  if (tokenCount(seg) === 0) return out;
  const d = seg.dict;
  const w = term.word;
  // A bytes dictionary holds no lone surrogate (see Segment): a word with one is in none of its tokens.
  if (typeof d !== 'string' && !wellFormed(w)) return out;
  const needle = term.kind === 'exact' ? `\n${w}\n` : term.kind === 'prefix' ? `\n${w}` : term.kind === 'suffix' ? `${w}\n` : w;
  let from = 0;
  for (;;) {
    const at = d.indexOf(needle, from);
    if (at < 0) return out;
    const t = tokenAt(seg, term.kind === 'exact' || term.kind === 'prefix' ? at + 1 : at);
    out.push(t);
    if (out.length > limit) return null;
    from = seg.starts[t + 1]; // next token: one hit per token
    if (term.kind === 'exact') return out;
  }
}

/**
 * Locals of `seg` whose messages satisfy every term within one part of
 * `parts` (IN_HEADER | IN_BODY for TEXT, IN_BODY for BODY). Null when a term
 * matches more than `limit` tokens (the caller falls back to a plain search).
 */
export function segmentCandidates(seg: Segment, terms: Term[], parts: number, limit: number): number[] | null {
  const tokens = termTokens(seg, terms, limit);
  return tokens && candidatesOf(seg, tokens, parts, heldPostings(seg));
}

/** The tokens each term matches, or null when one matches more than `limit`. */
export function termTokens(seg: Segment, terms: Term[], limit: number): number[][] | null {
  const out: number[][] = [];
  for (const term of terms) {
    const toks = matchTokens(seg, term, limit);
    if (!toks) return null;
    out.push(toks);
  }
  return out;
}

/** segmentCandidates' second half: the locals where every term's tokens (from termTokens) hold in one part, their postings read from `from`. */
export function candidatesOf(seg: Segment, tokens: number[][], parts: number, from: PostingBytes): number[] {
  let acc: Map<number, number> | null = null; // local → parts where all terms so far hold
  for (const toks of tokens) {
    const here = new Map<number, number>();
    for (const t of toks)
      forPostings(seg, from, t, (local, mask) => {
        const m = mask & parts;
        if (m) here.set(local, (here.get(local) ?? 0) | m);
      });
    if (acc) {
      const prev: Map<number, number> = acc;
      for (const [local, m] of here) {
        const both = m & (prev.get(local) ?? 0);
        if (both) here.set(local, both);
        else here.delete(local);
      }
    }
    acc = here;
    if (!acc.size) break;
  }
  return acc ? [...acc.keys()] : [];
}

/**
 * One segment of the messages of `segs` whose names pass `keep` (compaction):
 * the segment that building one from those messages, in order, would give.
 * Written straight from the segments' postings, never held as lists: a
 * token's postings are its postings in each segment in turn (renumbered
 * locals only grow from one segment to the next). Holding them as arrays of
 * numbers took ~6x the segments' bytes of heap, the memory peak of a first
 * SEARCH TEXT at 50,000 messages (issue 14).
 */
export function mergeSegments(segs: Segment[], keep: (name: string) => boolean): Segment {
  const names: string[] = [];
  const seen = new Set<string>();
  const remaps: Int32Array[] = [];
  for (const seg of segs) {
    const remap = new Int32Array(seg.names.length).fill(-1);
    for (let i = 0; i < seg.names.length; i++) {
      const n = seg.names[i];
      if (seen.has(n) || !keep(n)) continue;
      seen.add(n);
      remap[i] = names.length;
      names.push(n);
    }
    remaps.push(remap);
  }
  // Pass 1: each segment token with a kept posting gets the merged token it belongs to (first seen, first numbered).
  const ids = new Map<string, number>();
  const toks: string[] = [];
  const mergedOf: Int32Array[] = [];
  const helds = segs.map(heldPostings);
  let perToken: Int32Array = new Int32Array(1024); // (segment, token) pairs per merged token
  let pairs = 0;
  segs.forEach((seg, s) => {
    const remap = remaps[s];
    const held = helds[s];
    const count = tokenCount(seg);
    const merged = new Int32Array(count).fill(-1);
    for (let t = 0; t < count; t++) {
      let kept = false;
      forPostings(seg, held, t, (local) => {
        if (remap[local] >= 0) kept = true;
      });
      if (!kept) continue;
      const tok = tokenText(seg, t);
      let id = ids.get(tok);
      if (id === undefined) {
        ids.set(tok, (id = toks.length));
        toks.push(tok);
        if (id >= perToken.length) perToken = grown(perToken);
      }
      merged[t] = id;
      perToken[id]++;
      pairs++;
    }
    mergedOf.push(merged);
  });
  ids.clear();
  // Each merged token's (segment, token) pairs, in segment order.
  const first = new Int32Array(toks.length + 1);
  for (let id = 0; id < toks.length; id++) first[id + 1] = first[id] + perToken[id];
  const fill = first.slice(0, toks.length);
  const refs = new Int32Array(pairs * 2);
  mergedOf.forEach((merged, s) => {
    for (let t = 0; t < merged.length; t++) {
      const id = merged[t];
      if (id < 0) continue;
      const at = fill[id]++ * 2;
      refs[at] = s;
      refs[at + 1] = t;
    }
  });
  // Pass 2: the postings, token by token.
  const postOff = new Uint32Array(toks.length + 1);
  const sink = new ByteSink();
  let prev = 0;
  let remap = remaps[0];
  const put = (local: number, mask: number) => {
    const to = remap[local];
    if (to < 0) return;
    const v = to * 4 + mask;
    sink.varint(v - prev);
    prev = v;
  };
  for (let id = 0; id < toks.length; id++) {
    postOff[id] = sink.len;
    prev = 0;
    for (let k = first[id]; k < first[id + 1]; k++) {
      const s = refs[k * 2];
      remap = remaps[s];
      forPostings(segs[s], helds[s], refs[k * 2 + 1], put);
    }
  }
  postOff[toks.length] = sink.len;
  const { dict, starts } = dictionaryOf(toks);
  return { names, dict, starts, postOff, post: sink.take() };
}

function grown(a: Int32Array): Int32Array {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
}

// ---------------------------------------------------------------------------
// Encoding (one record of the index file; text-index.ts adds length + CRC)

const SEG_MAGIC = 0x53; // 'S'
const FLAG_UTF16 = 1;

/** A segment as bytes: names NUL-separated, dict as UTF-8 (UTF-16LE if it has lone surrogates), offsets, postings. */
export function encodeSegment(seg: Segment): Buffer {
  if (seg.postAt !== undefined) throw new Error('a segment whose postings stayed in the file is not encoded again');
  const names = Buffer.from(seg.names.join('\0'), 'utf8');
  const utf16 = typeof seg.dict === 'string' && !wellFormed(seg.dict); // lone surrogates (e.g. from &#xd800;) do not survive UTF-8
  const dict = typeof seg.dict === 'string' ? Buffer.from(seg.dict, utf16 ? 'utf16le' : 'utf8') : seg.dict;
  const count = tokenCount(seg);
  const head = Buffer.alloc(24);
  head[0] = SEG_MAGIC;
  head[1] = utf16 ? FLAG_UTF16 : 0;
  head.writeUInt32LE(seg.names.length, 4);
  head.writeUInt32LE(count, 8);
  head.writeUInt32LE(names.length, 12);
  head.writeUInt32LE(dict.length, 16);
  head.writeUInt32LE(seg.post.length, 20);
  const off = Buffer.from(seg.postOff.buffer, seg.postOff.byteOffset, seg.postOff.byteLength);
  return Buffer.concat([head, names, dict, off, Buffer.from(seg.post.buffer, seg.post.byteOffset, seg.post.byteLength)]);
}

/**
 * The inverse of encodeSegment; throws on anything inconsistent. With
 * `fileAt` (where `b` starts in the index file) the postings are not
 * copied: the segment says where they are (postAt). They are the
 * encoding's last bytes, so a record's postings end where the record does.
 */
export function decodeSegment(b: Buffer, fileAt?: number): Segment {
  if (b.length < 24 || b[0] !== SEG_MAGIC) throw new Error('not a segment');
  const utf16 = (b[1] & FLAG_UTF16) !== 0;
  const nNames = b.readUInt32LE(4);
  const count = b.readUInt32LE(8);
  const namesLen = b.readUInt32LE(12);
  const dictLen = b.readUInt32LE(16);
  const postLen = b.readUInt32LE(20);
  let p = 24;
  if (p + namesLen + dictLen + (count + 1) * 4 + postLen !== b.length) throw new Error('segment size mismatch');
  const names = nNames ? b.toString('utf8', p, p + namesLen).split('\0') : [];
  if (names.length !== nNames) throw new Error('segment names mismatch');
  p += namesLen;
  // Its own copy (a subarray would keep the whole record read from the file), never in the shared pool (see dictionaryOf).
  let dict: Buffer | string;
  if (utf16) dict = b.toString('utf16le', p, p + dictLen);
  else {
    dict = Buffer.allocUnsafeSlow(dictLen);
    b.copy(dict, 0, p, p + dictLen);
  }
  p += dictLen;
  const postOff = new Uint32Array(count + 1);
  Buffer.from(postOff.buffer).set(b.subarray(p, p + (count + 1) * 4));
  p += (count + 1) * 4;
  const post = fileAt === undefined ? new Uint8Array(b.subarray(p, p + postLen)) : new Uint8Array(0);
  const starts = startsOf(dict, count);
  if (postOff[count] !== postLen) throw new Error('segment postings mismatch');
  for (let k = 0; k < count; k++) if (postOff[k] > postOff[k + 1]) throw new Error('segment postings out of order');
  return fileAt === undefined ? { names, dict, starts, postOff, post } : { names, dict, starts, postOff, post, postAt: fileAt + p };
}
