// The per-folder message index, `maildir-imapd-index`: what a FETCH needs to
// know about a message without opening it (CRLF size, INTERNALDATE and a
// summary blob that the protocol layer fills in: ENVELOPE, BODYSTRUCTURE and
// the header fields clients sync). It is a cache, never the truth: the
// Maildir and dovecot-uidlist are. Records are keyed by the message's base
// name, which names immutable content (a flag change renames only the
// `:2,` part), so a record never goes stale; it only becomes garbage when its
// message is expunged.
//
// Format: an 8-byte magic, then records appended one batch per write:
//   u32 payload length | u32 CRC-32 of the payload | payload
//   payload = u16 key length | key (UTF-8) | f64 mtime ms | u32 CRLF size | summary bytes
// A torn tail (kill -9 during a write) or garbage fails the length or CRC
// check: the file is cut back to the last good record, and those messages are
// summarised again. A later record for the same key wins.
//
// The records stay on disk, as Dovecot's cache file does: memory holds where
// each one is (one number per message), the records not yet written, the
// ones a batch of FETCH is using (`lease`, one read per run of adjacent
// records, in reused buffers), and a few read one by one lately. Holding the
// whole file (100 MB at 50,000 messages) in the heap was most of a big
// folder's memory (issue 14). A record outside a lease is read with one
// pread from the page cache. CRCs are checked when the file is
// opened, not on every read (see verified()).
import fs from 'node:fs';
import { writeFileAtomically } from './atomic-write.js';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { SparePool } from '../runtime/spare-pool.js';
import type { Logger } from 'pino';

export const INDEX_FILE = 'maildir-imapd-index';
const MAGIC = Buffer.from('MIMIDX1\n');
const RECORD_HEAD = 8;
/** Pending appends are written at most this long after they were made. */
const FLUSH_MS = 200;
/** A record over this is refused (a summary of a pathological message: serve it uncached). */
const MAX_RECORD = 1024 * 1024;
/** A position is `offset * LEN_SPAN + record length` (head included): one number per message. */
const LEN_SPAN = 2 ** 21;
/** Records read one by one (get) are kept up to this many bytes per folder, oldest out first. */
const HOT_BYTES = 4 * 1024 * 1024;
/** One read covers adjacent records up to this size; a gap this big or more between two wanted ones starts another. */
const READ_SPAN = 1024 * 1024;
const READ_GAP = 32 * 1024;
/** Load and compaction read the file in chunks of this size, never whole. */
const CHUNK = 4 * 1024 * 1024;

export interface IndexedMessage {
  mtimeMs: number;
  vsize: number;
  /** The protocol layer's summary of the message, opaque here. */
  summary: Buffer;
  /** The caller's decoding of `summary`, kept with the record while it is in memory (set by the caller). */
  decoded?: unknown;
}

/** Read buffers of READ_SPAN bytes, reused, so a sync does not churn 100 MB of buffers (a FETCH batch and its read-ahead hold two or three). */
const spareSpans = new SparePool<Buffer>(6);

function spare(span: Buffer): void {
  if (span.length === READ_SPAN) spareSpans.give(span);
}

/**
 * The records of one batch (see MessageIndex.lease), valid until release():
 * their bytes are then reused for other reads, so nothing read from them may
 * be kept past it (a summary's bytes are copied when a response is written).
 */
export class RecordLease {
  readonly records = new Map<string, IndexedMessage>();
  readonly spans: Buffer[] = [];
  private readonly others: Array<() => void> = [];

  /** Something else the batch holds until it is done (the loader's shared slabs). */
  also(release: () => void): void {
    this.others.push(release);
  }

  release(): void {
    this.records.clear();
    for (const s of this.spans.splice(0)) spare(s);
    for (const r of this.others.splice(0)) r();
  }
}

const readAt = async (fh: fs.promises.FileHandle, buf: Buffer, len: number, at: number) => (await fh.read(buf, 0, len, at)).bytesRead;

export class MessageIndex {
  /** key → position of its record in the file (see LEN_SPAN). */
  private readonly pos = new Map<string, number>();
  /** Records put and not yet in the file (whole records, head included). */
  private readonly unwritten = new Map<string, Buffer>();
  /** Records read one by one, decoded, in the order read. */
  private readonly hot = new Map<string, IndexedMessage>();
  private hotBytes = 0;
  private pending: Array<{ key: string; rec: Buffer }> = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  /**
   * The open file records are read from, reopened when the file is replaced
   * (a replaced handle is closed once its reads in flight are done: FileHandle.close waits for them).
   */
  private fh: fs.promises.FileHandle | null = null;
  private closed = false;
  /** Bytes in the file, where the next append lands. */
  private fileBytes = 0;
  private liveBytes = 0;
  private loaded: Promise<void> | null = null;
  private compacting = false;
  /** Off after a write error (read-only folder, disk full): the index then lives in memory only. */
  private writable = true;

  /**
   * `intern`: the folder's own string for a key, if it has one. Keys read
   * from the file are then not kept as strings of their own (50,000 of them,
   * 3 MB, beside the same names in the folder's state).
   */
  constructor(
    readonly dir: string,
    private readonly log: Logger,
    private readonly intern: (key: string) => string | undefined = () => undefined,
  ) {}

  get file(): string {
    return path.join(this.dir, INDEX_FILE);
  }

  get size(): number {
    let n = this.pos.size;
    for (const key of this.unwritten.keys()) if (!this.pos.has(key)) n++;
    return n;
  }

  /** Reads the file once; a bad file is cut back to its last good record or started afresh. */
  load(): Promise<void> {
    this.loaded ??= this.read();
    return this.loaded;
  }

  private async read(): Promise<void> {
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err }, 'cannot read the message index; rebuilding it');
      return this.reset();
    }
    this.fh = fh;
    let good: number;
    let size: number;
    try {
      good = await this.scan(fh);
      size = (await fh.stat()).size;
    } catch (err) {
      this.log.warn({ err, file: this.file }, 'cannot read the message index; rebuilding it');
      return this.reset();
    }
    if (good < 0) {
      this.log.warn({ file: this.file }, 'message index has an unknown format; rebuilding it');
      return this.reset();
    }
    this.fileBytes = good;
    if (good < size) {
      this.log.warn({ file: this.file, goodBytes: good, fileBytes: size }, 'message index has a torn or damaged tail; cutting it off');
      await fs.promises.truncate(this.file, good).catch((err) => this.disable(err));
    }
  }

  /** Checks every record, chunk by chunk, and notes where each is; returns the end of the last good one (-1: not an index). */
  private async scan(fh: fs.promises.FileHandle): Promise<number> {
    const head = Buffer.alloc(MAGIC.length);
    if ((await readAt(fh, head, MAGIC.length, 0)) < MAGIC.length || !head.equals(MAGIC)) return -1;
    let base = MAGIC.length; // file offset of chunk[0]
    let chunk = Buffer.alloc(0);
    let records = 0;
    for (;;) {
      let pos = 0;
      let need = 0;
      while (pos + RECORD_HEAD <= chunk.length) {
        // 50,000 records take tens of ms to check: let pushes through every few thousand.
        if (++records % 4096 === 0) await yieldLoop();
        const len = chunk.readUInt32LE(pos);
        if (len < 14 || len > MAX_RECORD) return base + pos;
        const at = pos + RECORD_HEAD;
        if (at + len > chunk.length) {
          need = at + len - pos;
          break;
        }
        if (zlib.crc32(chunk.subarray(at, at + len)) !== chunk.readUInt32LE(pos + 4)) return base + pos;
        const keyLen = chunk.readUInt16LE(at);
        const read = chunk.toString('utf8', at + 2, at + 2 + keyLen);
        const key = this.intern(read) ?? read;
        this.noteWritten(key, (base + pos) * LEN_SPAN + RECORD_HEAD + len);
        pos = at + len;
      }
      // Keep the partial record at the end and read on after it.
      const rest = chunk.subarray(pos);
      const next = Buffer.allocUnsafe(Math.max(CHUNK, need));
      rest.copy(next);
      const n = await readAt(fh, next.subarray(rest.length), next.length - rest.length, base + chunk.length);
      base += pos;
      if (n === 0) return base; // what is left is a torn record (or nothing)
      chunk = next.subarray(0, rest.length + n);
    }
  }

  /** Records that `key`'s record is at `p` in the file (a later one replaces an earlier). */
  private noteWritten(key: string, p: number): void {
    const old = this.pos.get(key);
    if (old !== undefined) this.liveBytes -= old % LEN_SPAN;
    this.pos.set(key, p);
    this.liveBytes += p % LEN_SPAN;
  }

  private async reset(): Promise<void> {
    this.pos.clear();
    this.dropHot();
    this.liveBytes = 0;
    try {
      await writeFileAtomically(this.file, MAGIC);
      this.fileBytes = MAGIC.length;
      await this.reopen();
    } catch (err) {
      this.disable(err);
    }
  }

  /** Opens the file as it is now (after it was replaced). */
  private async reopen(): Promise<void> {
    const old = this.fh;
    this.fh = null;
    void old?.close().catch(() => undefined);
    if (this.closed) return;
    try {
      this.fh = await fs.promises.open(this.file, 'r');
    } catch (err) {
      this.log.warn({ err, file: this.file }, 'cannot open the message index; its records are summarised again');
    }
  }

  private dropHot(): void {
    this.hot.clear();
    this.hotBytes = 0;
  }

  /** The record of a message: from memory if written lately or read ahead, else one read of the file. */
  get(key: string): IndexedMessage | undefined {
    const w = this.unwritten.get(key);
    if (w) return decode(w, 0, w.length);
    const h = this.hot.get(key);
    if (h) return h;
    const p = this.pos.get(key);
    if (p === undefined || !this.fh) return undefined;
    const len = p % LEN_SPAN;
    const buf = Buffer.allocUnsafe(len);
    let n = 0;
    try {
      n = fs.readSync(this.fh.fd, buf, 0, len, (p - len) / LEN_SPAN);
    } catch (err) {
      this.log.warn({ err, file: this.file }, 'cannot read a message index record; summarising the message again');
    }
    return this.accept(key, buf, 0, n === len ? len : 0);
  }

  /** Decodes a record read from the file if it is whole and is `key`'s; else forgets it (the message is summarised again). */
  private accept(key: string, buf: Buffer, at: number, len: number): IndexedMessage | undefined {
    const rec = verified(key, buf, at, len);
    if (!rec) {
      this.forget(key);
      return undefined;
    }
    this.hot.set(key, rec);
    this.hotBytes += hotCost(rec);
    if (this.hotBytes > HOT_BYTES) {
      for (const k of this.hot.keys()) {
        if (this.hotBytes <= HOT_BYTES) break;
        this.cool(k);
      }
    }
    return rec;
  }

  /** Drops a record read ahead (if it is there). */
  private cool(key: string): void {
    const r = this.hot.get(key);
    if (!r) return;
    this.hot.delete(key);
    this.hotBytes -= hotCost(r);
  }

  private forget(key: string): void {
    const p = this.pos.get(key);
    if (p === undefined) return;
    this.pos.delete(key);
    this.liveBytes -= p % LEN_SPAN;
  }

  /**
   * Reads the records of `keys` for one batch of work (a FETCH batch), one
   * read per run of adjacent records, into buffers the lease hands back for
   * reuse when the batch is done. A 50,000-message sync reads 100 MB of
   * records: copied out one by one, or in fresh buffers, they were garbage
   * that made V8 collect every 65 ms, a quarter of a sync's time.
   * Records written lately are not in the lease; `get` has them.
   */
  async lease(keys: Iterable<string>): Promise<RecordLease> {
    await this.load();
    const lease = new RecordLease();
    const want: Wanted[] = [];
    for (const key of keys) {
      if (this.unwritten.has(key)) continue;
      const h = this.hot.get(key);
      if (h) {
        lease.records.set(key, h);
        continue;
      }
      const p = this.pos.get(key);
      if (p !== undefined) want.push({ key, p, i: 0 });
    }
    await this.readRuns(
      want,
      (w, span, at, len) => {
        const rec = len ? verified(w.key, span, at, len) : undefined;
        if (rec) lease.records.set(w.key, rec);
        else this.forget(w.key);
      },
      lease,
    );
    return lease;
  }

  /**
   * Calls `fn` for each of `keys` (by its place `i`) that has a record, with
   * the record's summary as b[start, end), read in runs into a reused
   * buffer, nothing kept: `fn` copies what
   * it needs (SORT and THREAD take a few values from every message of a folder,
   * and a copy of each record would be 100 MB of garbage at 50,000 messages).
   */
  async forEachRecord(keys: readonly string[], fn: RecordVisitor): Promise<void> {
    await this.load();
    const want: Wanted[] = [];
    keys.forEach((key, i) => {
      const w = this.unwritten.get(key);
      const h = w ? decode(w, 0, w.length) : this.hot.get(key);
      if (h) return fn(i, h.summary, 0, h.summary.length, h.mtimeMs, h.vsize);
      const p = this.pos.get(key);
      if (p !== undefined) want.push({ key, p, i });
    });
    await this.readRuns(want, (w, span, at, len) => {
      if (isRecordOf(w.key, span, at, len)) {
        // The record read in place: no object or subarray per record.
        const p = fieldsAt(span, at);
        fn(w.i, span, p + 12, at + len, span.readDoubleLE(p), span.readUInt32LE(p + 8));
      } else this.forget(w.key);
    });
  }

  /**
   * Reads the wanted records in file order, adjacent ones in one read, and
   * hands each over while its bytes are in the buffer (len 0: not in the file
   * as expected). Positions that changed meanwhile are skipped. The buffers
   * are reused at once, or, with a `lease`, once it is released.
   */
  private async readRuns(want: Wanted[], each: (w: Wanted, span: Buffer, at: number, len: number) => void, lease?: RecordLease): Promise<void> {
    if (!want.length || !this.fh) return;
    want.sort((a, b) => a.p - b.p);
    const fh = this.fh;
    for (let i = 0; i < want.length; ) {
      const start = Math.floor(want[i].p / LEN_SPAN);
      let end = start + (want[i].p % LEN_SPAN);
      let j = i + 1;
      for (; j < want.length; j++) {
        const s = Math.floor(want[j].p / LEN_SPAN);
        const e = s + (want[j].p % LEN_SPAN);
        if (s - end >= READ_GAP || e - start > READ_SPAN) break;
        end = Math.max(end, e);
      }
      const span = end - start <= READ_SPAN ? (spareSpans.take() ?? Buffer.allocUnsafeSlow(READ_SPAN)) : Buffer.allocUnsafeSlow(end - start);
      lease?.spans.push(span);
      try {
        let n = 0;
        try {
          n = await readAt(fh, span, end - start, start);
        } catch (err) {
          this.log.warn({ err, file: this.file }, 'cannot read the message index; summarising those messages again');
          return;
        }
        // The file may have been replaced (compaction) meanwhile: then these positions are stale and get() reads afresh.
        if (fh !== this.fh) return;
        for (let k = i; k < j; k++) {
          const w = want[k];
          if (this.pos.get(w.key) !== w.p || this.unwritten.has(w.key)) continue;
          const at = Math.floor(w.p / LEN_SPAN) - start;
          const len = w.p % LEN_SPAN;
          each(w, span, at, at + len <= n ? len : 0);
        }
      } finally {
        if (!lease) spare(span);
      }
      i = j;
    }
  }

  has(key: string): boolean {
    return this.unwritten.has(key) || this.pos.has(key);
  }

  /** Records a message; it reaches the file within FLUSH_MS. */
  put(key: string, m: IndexedMessage): void {
    const keyBytes = Buffer.from(key, 'utf8');
    const len = 2 + keyBytes.length + 12 + m.summary.length;
    if (len > MAX_RECORD || keyBytes.length > 0xffff) return;
    // Its own memory, not a slice of Node's shared pool: a kept slice would keep the whole 8 KiB slab.
    const rec = Buffer.allocUnsafeSlow(RECORD_HEAD + len);
    rec.writeUInt32LE(len, 0);
    rec.writeUInt16LE(keyBytes.length, RECORD_HEAD);
    keyBytes.copy(rec, RECORD_HEAD + 2);
    const p = RECORD_HEAD + 2 + keyBytes.length;
    rec.writeDoubleLE(m.mtimeMs, p);
    rec.writeUInt32LE(m.vsize, p + 8);
    m.summary.copy(rec, p + 12);
    rec.writeUInt32LE(zlib.crc32(rec.subarray(RECORD_HEAD)), 4);
    this.cool(key);
    this.unwritten.set(key, rec);
    if (!this.writable) return;
    this.pending.push({ key, rec });
    this.pendingBytes += rec.length;
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    // Superseded records (a header-only summary replaced by a full one) are garbage: rewrite once a third of the file is.
    const total = this.fileBytes + this.pendingBytes;
    if (!this.compacting && total > 8 * 1024 * 1024 && this.liveBytes * 3 < total * 2) {
      this.compacting = true;
      setImmediate(() => {
        this.rewriteIfGarbage()
          .catch((err) => this.log.warn({ err }, 'compacting the message index failed'))
          .finally(() => (this.compacting = false));
      });
    }
  }

  /** Writes pending records (one append). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.writable) return this.writing;
    const batch = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (!batch.length) return this.writing;
    this.writing = this.writing.then(async () => {
      if (!this.writable) return;
      try {
        await fs.promises.appendFile(this.file, Buffer.concat(batch.map((b) => b.rec), bytes), { mode: 0o600 });
      } catch (err) {
        this.disable(err);
        return;
      }
      let at = this.fileBytes;
      for (const { key, rec } of batch) {
        // A later put of the same key is still waiting for its own write.
        if (this.unwritten.get(key) === rec) {
          this.unwritten.delete(key);
          this.noteWritten(key, at * LEN_SPAN + rec.length);
        }
        at += rec.length;
      }
      this.fileBytes = at;
      if (!this.fh) await this.reopen();
    });
    return this.writing;
  }

  /** Forgets every record, in memory and on disk (the admin command's reindex); put() fills it again. */
  async clear(): Promise<void> {
    await this.flush();
    this.writable = true; // a fresh start: a write error that disabled it may be fixed
    this.unwritten.clear();
    await this.reset();
  }

  /**
   * Drops the records of messages no longer in the folder. The file is
   * rewritten (atomically, copied chunk by chunk) only when most of it is garbage.
   */
  async compact(live: Iterable<string>): Promise<void> {
    await this.load();
    const keep = new Set(live);
    for (const key of [...this.pos.keys()]) if (!keep.has(key)) this.forget(key);
    for (const key of [...this.unwritten.keys()]) if (!keep.has(key)) this.unwritten.delete(key);
    this.pending = this.pending.filter((b) => this.unwritten.get(b.key) === b.rec);
    this.pendingBytes = this.pending.reduce((n, b) => n + b.rec.length, 0);
    for (const key of [...this.hot.keys()]) if (!keep.has(key)) this.cool(key);
    await this.rewriteIfGarbage();
  }

  private async rewriteIfGarbage(): Promise<void> {
    if (!this.writable || this.fileBytes < 1024 * 1024 || this.liveBytes * 3 > this.fileBytes * 2) return;
    await this.flush();
    this.writing = this.writing.then(() => this.rewrite().catch((err) => this.disable(err)));
    await this.writing;
  }

  /** Copies the live records into a new file, renames it over the old one, and moves every position to it. */
  private async rewrite(): Promise<void> {
    const fh = this.fh;
    if (!fh) return;
    const entries = [...this.pos].sort((a, b) => a[1] - b[1]);
    const tmp = `${this.file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    const out = await fs.promises.open(tmp, 'w', 0o600);
    const moved = new Map<string, number>();
    let outAt = 0;
    try {
      await out.write(MAGIC);
      outAt = MAGIC.length;
      let i = 0;
      while (i < entries.length) {
        // Gather records up to one chunk, read their span, and write them out back to back.
        const start = Math.floor(entries[i][1] / LEN_SPAN);
        let end = start;
        let j = i;
        while (j < entries.length) {
          const s = Math.floor(entries[j][1] / LEN_SPAN);
          const e = s + (entries[j][1] % LEN_SPAN);
          if (j > i && e - start > CHUNK) break;
          end = Math.max(end, e);
          j++;
        }
        const src = Buffer.allocUnsafe(end - start);
        if ((await readAt(fh, src, src.length, start)) < src.length) throw new Error('the message index is shorter than its records');
        const parts: Buffer[] = [];
        for (let k = i; k < j; k++) {
          const [key, p] = entries[k];
          const len = p % LEN_SPAN;
          const at = Math.floor(p / LEN_SPAN) - start;
          parts.push(src.subarray(at, at + len));
          moved.set(key, outAt * LEN_SPAN + len);
          outAt += len;
        }
        await out.write(Buffer.concat(parts));
        i = j;
        await yieldLoop();
      }
      await out.close();
      await fs.promises.rename(tmp, this.file);
    } catch (err) {
      await out.close().catch(() => undefined);
      await fs.promises.unlink(tmp).catch(() => undefined);
      throw err;
    }
    // Records forgotten meanwhile stay forgotten; ones written meanwhile cannot be (writes wait for this).
    for (const [key, p] of entries) if (this.pos.get(key) === p) this.pos.set(key, moved.get(key)!);
    this.fileBytes = outAt;
    await this.reopen();
  }

  /** Writes what is pending and lets the file go; the folder is being dropped from memory. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.reopen();
    this.dropHot();
  }

  private disable(err: unknown): void {
    if (this.writable) this.log.warn({ err, file: this.file }, 'cannot write the message index; keeping new records in memory only');
    this.writable = false;
    // What was put stays readable from `unwritten`; nothing more is queued for the file.
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** What a record read ahead counts against HOT_BYTES: its summary and the objects around it. */
const hotCost = (rec: IndexedMessage): number => rec.summary.length + 64;

/** One record of forEachRecord: its summary is b[start, end), valid during the call only. */
export type RecordVisitor = (i: number, b: Buffer, start: number, end: number, mtimeMs: number, vsize: number) => void;

interface Wanted {
  key: string;
  /** Its position (see LEN_SPAN). */
  p: number;
  /** Its place in the caller's list. */
  i: number;
}

/**
 * The record at `at` if it is whole and `key`'s. Its CRC was checked when the
 * file was opened (or it was written from memory since); checking it again on
 * every read cost 60 ms per SORT or THREAD of 50,000 messages. A position that
 * no longer fits the file (replaced, cut) fails the length or the key.
 */
function verified(key: string, buf: Buffer, at: number, len: number): IndexedMessage | undefined {
  return isRecordOf(key, buf, at, len) ? decode(buf, at, len) : undefined;
}

/** Whether `len` bytes at `at` are a whole record of `key`'s. */
function isRecordOf(key: string, buf: Buffer, at: number, len: number): boolean {
  return len > RECORD_HEAD + 14 && buf.readUInt32LE(at) === len - RECORD_HEAD && isKeyOf(key, buf, at);
}

/** Whether the record at `at` is `key`'s, compared in place (a string per record read was a sync's most common garbage). */
function isKeyOf(key: string, buf: Buffer, at: number): boolean {
  const keyLen = buf.readUInt16LE(at + RECORD_HEAD);
  const from = at + RECORD_HEAD + 2;
  if (keyLen === key.length) {
    let ascii = true;
    for (let i = 0; i < keyLen; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      if (buf[from + i] !== c) return false;
    }
    if (ascii) return true;
  }
  return buf.toString('utf8', from, from + keyLen) === key;
}

/** Where the fields of the record at `at` start, past its head and key: mtime (f64), vsize (u32), then the summary. */
function fieldsAt(buf: Buffer, at: number): number {
  return at + RECORD_HEAD + 2 + buf.readUInt16LE(at + RECORD_HEAD);
}

/** The record at `at` (head included, `len` bytes in all). */
function decode(buf: Buffer, at: number, len: number): IndexedMessage {
  const p = fieldsAt(buf, at);
  return { mtimeMs: buf.readDoubleLE(p), vsize: buf.readUInt32LE(p + 8), summary: buf.subarray(p + 12, at + len), decoded: undefined };
}
