// Writing a message we received (APPEND) into a Maildir, as Dovecot does:
// streamed to tmp/ with CRLF turned into LF (Dovecot's mail_save_crlf=no),
// then renamed into cur/ as `<secs>.M<usec>P<pid>.<host>,S=<size>,W=<crlf size>:2,<flags>`.
// The bytes go to disk as they arrive; a 50 MB APPEND never sits in memory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bareLfCount } from './crlf.js';

const LF = 10;
const CR = 13;

/** Host part of a Maildir name: '/' and ':' escaped as in the Maildir spec (Dovecot does the same). */
const HOST = os
  .hostname()
  .replace(/\//g, '\\057')
  .replace(/:/g, '\\072');

let lastMicros = 0;
/** Reused for the CRLF → LF conversion: written out synchronously before the next chunk comes. */
let scratch = Buffer.alloc(0);

/** A new unique base name: `<secs>.M<usec>P<pid>.<host>` (unique within this process by construction). */
export function newBaseName(): string {
  const micros = Math.max(Math.floor((performance.timeOrigin + performance.now()) * 1000), lastMicros + 1);
  lastMicros = micros;
  const secs = Math.floor(micros / 1_000_000);
  const usec = micros % 1_000_000;
  return `${secs}.M${usec}P${process.pid}.${HOST}`;
}

/** The base name with its sizes, as Dovecot writes it for messages it saved. */
export function sizedBaseName(base: string, size: number, vsize: number): string {
  return `${base},S=${size},W=${vsize}`;
}

/**
 * A message being received into `<root>/tmp/`. write() is synchronous (one
 * small write(2) into the page cache per socket chunk), so no buffering and
 * no backpressure bookkeeping are needed between socket and disk.
 */
export class MessageSpool {
  readonly base: string;
  readonly file: string;
  private fd: number | null;
  /** Bytes written to the file (LF form). */
  size = 0;
  /** The CRLF size of what was written (IMAP RFC822.SIZE). */
  vsize = 0;
  private pendingCR = false;
  private lastOutCR = false;
  private finished = false;
  private removed = false;

  /**
   * Why the message could not be stored (a full disk, EDQUOT, EIO): the
   * client is sending the literal all the same, so its bytes are taken and
   * dropped, and the APPEND answers NO once it has them all (never a BYE
   * mid-literal). The partial file is removed at once, giving its space back.
   */
  private failure: Error | null = null;

  constructor(tmpDir: string) {
    this.base = newBaseName();
    this.file = path.join(tmpDir, this.base);
    try {
      this.fd = fs.openSync(this.file, 'wx', 0o600);
    } catch (err) {
      this.fd = null;
      this.removed = true; // nothing was made
      this.failure = err as Error;
    }
  }

  /** Whether opening the spool file failed with this errno code. */
  failedWith(code: string): boolean {
    return (this.failure as NodeJS.ErrnoException | null)?.code === code;
  }

  /** Throws what stopped the message from being stored, if anything did. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  write(chunk: Buffer): void {
    if (this.fd === null || chunk.length === 0) return;
    // CRLF → LF; a CR at the end of a chunk waits for the next byte.
    if (scratch.length < chunk.length + 1) scratch = Buffer.allocUnsafe(Math.max(chunk.length + 1, 64 * 1024));
    const out = scratch;
    let o = 0;
    let i = 0;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (chunk[0] !== LF) out[o++] = CR;
    }
    for (; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === CR) {
        if (i + 1 === chunk.length) {
          this.pendingCR = true;
          break;
        }
        if (chunk[i + 1] === LF) continue; // drop the CR of CRLF
      }
      out[o++] = c;
    }
    this.emit(out.subarray(0, o));
  }

  private emit(buf: Buffer): void {
    if (!buf.length || this.fd === null) return;
    let off = 0;
    try {
      while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    } catch (err) {
      this.failure = err as Error;
      this.discard();
      return;
    }
    this.size += buf.length;
    this.vsize += buf.length + bareLfCount(buf, this.lastOutCR);
    this.lastOutCR = buf[buf.length - 1] === CR;
  }

  /** All bytes are in (the last CR is written); durable() then makes them safe on disk. */
  finish(): void {
    if (this.finished || this.fd === null) return;
    if (this.pendingCR) {
      this.pendingCR = false;
      this.emit(Buffer.from([CR]));
    }
    this.finished = true;
  }

  /**
   * Flushes the file to disk and closes it, before it is renamed into the
   * folder. Asynchronous: an fsync takes milliseconds, which the event loop
   * (and every idling client's push) must not wait for.
   */
  async durable(): Promise<void> {
    this.finish();
    this.throwIfFailed();
    const fd = this.fd;
    if (fd === null) return;
    this.fd = null;
    try {
      await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
    } finally {
      await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
    }
  }

  get complete(): boolean {
    return this.finished;
  }

  private content: Promise<Buffer> | null = null;

  /** The whole message as written (LF form), read once (a delivery's filter, small deliveries' copies). */
  read(): Promise<Buffer> {
    if (!this.finished) return Promise.reject(new Error('MessageSpool.read: the spool is still being written'));
    return (this.content ??= fs.promises.readFile(this.file));
  }

  /** The file as written (LF form), in pieces; the spool must be finished. */
  async *pieces(): AsyncIterable<Buffer> {
    if (!this.finished) throw new Error('MessageSpool.pieces: the spool is still being written');
    for await (const chunk of fs.createReadStream(this.file, { highWaterMark: 64 * 1024 })) yield chunk as Buffer;
  }

  /** Marks the file as taken over (renamed away): discard() leaves it alone. */
  consumed(): void {
    this.removed = true;
  }

  /** Drops the file (a refused or failed APPEND, a closed connection). Safe to call more than once. */
  discard(): void {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = null;
    }
    if (this.removed) return;
    this.removed = true;
    fs.unlink(this.file, () => undefined);
  }
}
