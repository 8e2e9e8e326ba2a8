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
// Measured at 50,000 realistic messages: the file is ~30 MB and loads in
// ~40 ms (one read, one CRC pass); records are decoded lazily, so the loaded
// file is the index's whole memory cost (as Dovecot's mmapped cache is).
import fs from 'node:fs';
import { writeFileAtomically } from './atomic-write.js';
import path from 'node:path';
import zlib from 'node:zlib';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { Logger } from 'pino';

export const INDEX_FILE = 'maildir-imapd-index';
const MAGIC = Buffer.from('MIMIDX1\n');
const RECORD_HEAD = 8;
/** Pending appends are written at most this long after they were made. */
const FLUSH_MS = 200;
/** A record over this is refused (a summary of a pathological message: serve it uncached). */
const MAX_RECORD = 1024 * 1024;

export interface IndexedMessage {
  mtimeMs: number;
  vsize: number;
  /** The protocol layer's summary of the message, opaque here. */
  summary: Buffer;
}

interface Slot {
  buf: Buffer;
  /** Offset of the payload in `buf`. */
  at: number;
  len: number;
  /** The decoded record, made on first use and kept (a sync touches every message each time). */
  rec?: IndexedMessage;
}

export class MessageIndex {
  private readonly slots = new Map<string, Slot>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  /** Bytes in the file (after load), for the garbage estimate. */
  private fileBytes = 0;
  private liveBytes = 0;
  private loaded: Promise<void> | null = null;
  private compacting = false;
  /** Off after a write error (read-only folder, disk full): the index then lives in memory only. */
  private writable = true;

  constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  get file(): string {
    return path.join(this.dir, INDEX_FILE);
  }

  get size(): number {
    return this.slots.size;
  }

  /** Reads the file once; a bad file is cut back to its last good record or started afresh. */
  load(): Promise<void> {
    this.loaded ??= this.read();
    return this.loaded;
  }

  private async read(): Promise<void> {
    let buf: Buffer;
    try {
      buf = await fs.promises.readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err }, 'cannot read the message index; rebuilding it');
      return this.reset();
    }
    if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
      this.log.warn({ file: this.file }, 'message index has an unknown format; rebuilding it');
      return this.reset();
    }
    let pos = MAGIC.length;
    let records = 0;
    while (pos + RECORD_HEAD <= buf.length) {
      // 50,000 records take tens of ms to check: let pushes through every few thousand.
      if (++records % 4096 === 0) await yieldLoop();
      const len = buf.readUInt32LE(pos);
      const crc = buf.readUInt32LE(pos + 4);
      const at = pos + RECORD_HEAD;
      if (len < 14 || len > MAX_RECORD || at + len > buf.length) break;
      if (zlib.crc32(buf.subarray(at, at + len)) !== crc) break;
      const keyLen = buf.readUInt16LE(at);
      const key = buf.toString('utf8', at + 2, at + 2 + keyLen);
      const old = this.slots.get(key);
      if (old) this.liveBytes -= old.len + RECORD_HEAD;
      this.slots.set(key, { buf, at, len });
      this.liveBytes += len + RECORD_HEAD;
      pos = at + len;
    }
    this.fileBytes = pos;
    if (pos < buf.length) {
      this.log.warn({ file: this.file, goodBytes: pos, fileBytes: buf.length }, 'message index has a torn or damaged tail; cutting it off');
      await fs.promises.truncate(this.file, pos).catch((err) => this.disable(err));
    }
  }

  private async reset(): Promise<void> {
    this.slots.clear();
    this.liveBytes = 0;
    try {
      await writeFileAtomically(this.file, MAGIC);
      this.fileBytes = MAGIC.length;
    } catch (err) {
      this.disable(err);
    }
  }

  /** The record of a message; the same object on every call until it is replaced. */
  get(key: string): IndexedMessage | undefined {
    const s = this.slots.get(key);
    if (!s) return undefined;
    if (s.rec) return s.rec;
    const keyLen = s.buf.readUInt16LE(s.at);
    const p = s.at + 2 + keyLen;
    return (s.rec = { mtimeMs: s.buf.readDoubleLE(p), vsize: s.buf.readUInt32LE(p + 8), summary: s.buf.subarray(p + 12, s.at + s.len) });
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  /** Records a message; it reaches the file within FLUSH_MS. */
  put(key: string, m: IndexedMessage): void {
    const keyBytes = Buffer.from(key, 'utf8');
    const len = 2 + keyBytes.length + 12 + m.summary.length;
    if (len > MAX_RECORD || keyBytes.length > 0xffff) return;
    const rec = Buffer.allocUnsafe(RECORD_HEAD + len);
    rec.writeUInt32LE(len, 0);
    rec.writeUInt16LE(keyBytes.length, RECORD_HEAD);
    keyBytes.copy(rec, RECORD_HEAD + 2);
    let p = RECORD_HEAD + 2 + keyBytes.length;
    rec.writeDoubleLE(m.mtimeMs, p);
    rec.writeUInt32LE(m.vsize, p + 8);
    m.summary.copy(rec, p + 12);
    rec.writeUInt32LE(zlib.crc32(rec.subarray(RECORD_HEAD)), 4);
    const old = this.slots.get(key);
    if (old) this.liveBytes -= old.len + RECORD_HEAD;
    this.slots.set(key, { buf: rec, at: RECORD_HEAD, len });
    this.liveBytes += rec.length;
    if (!this.writable) return;
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    // Superseded records (a header-only summary replaced by a full one) are garbage: rewrite once a third of the file is.
    const total = this.fileBytes + this.pendingBytes;
    if (!this.compacting && total > 8 * 1024 * 1024 && this.liveBytes * 3 < total * 2) {
      this.compacting = true;
      setImmediate(() => {
        this.compact(this.slots.keys())
          .catch((err) => this.log.warn({ err }, 'compacting the message index failed'))
          .finally(() => (this.compacting = false));
      });
    }
  }

  /** Writes pending records (one append). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (!batch.length) return this.writing;
    this.writing = this.writing.then(async () => {
      if (!this.writable) return;
      try {
        await fs.promises.appendFile(this.file, Buffer.concat(batch, bytes), { mode: 0o600 });
        this.fileBytes += bytes;
      } catch (err) {
        this.disable(err);
      }
    });
    return this.writing;
  }

  /** Forgets every record, in memory and on disk (the admin command's reindex); put() fills it again. */
  async clear(): Promise<void> {
    await this.flush();
    this.writable = true; // a fresh start: a write error that disabled it may be fixed
    await this.reset();
  }

  /**
   * Drops the records of messages no longer in the folder. The file is
   * rewritten (atomically) only when most of it is garbage.
   */
  async compact(live: Iterable<string>): Promise<void> {
    await this.load();
    const keep = new Set(live);
    for (const [key, s] of this.slots) {
      if (keep.has(key)) continue;
      this.slots.delete(key);
      this.liveBytes -= s.len + RECORD_HEAD;
    }
    if (!this.writable || this.fileBytes < 1024 * 1024 || this.liveBytes * 3 > this.fileBytes * 2) return;
    await this.flush();
    const parts: Buffer[] = [MAGIC];
    for (const s of this.slots.values()) parts.push(s.buf.subarray(s.at - RECORD_HEAD, s.at + s.len));
    const all = Buffer.concat(parts);
    // The records now live in the new buffer, so the old file's (mostly garbage) can be freed.
    let at = MAGIC.length;
    for (const s of this.slots.values()) {
      s.buf = all;
      s.at = at + RECORD_HEAD;
      s.rec = undefined;
      at += RECORD_HEAD + s.len;
    }
    this.writing = this.writing.then(async () => {
      try {
        await writeFileAtomically(this.file, all);
        this.fileBytes = all.length;
      } catch (err) {
        this.disable(err);
      }
    });
    await this.writing;
  }

  close(): Promise<void> {
    return this.flush();
  }

  private disable(err: unknown): void {
    if (this.writable) this.log.warn({ err, file: this.file }, 'cannot write the message index; keeping it in memory only');
    this.writable = false;
    this.pending = [];
    this.pendingBytes = 0;
  }
}


