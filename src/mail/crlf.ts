// Postfix stores LF line endings; IMAP sizes and literals are of the CRLF form.
// These helpers convert on the fly, so sizes are exact and big bodies stream.
import { READ_MESSAGE, READ_MESSAGE_FLAG } from './message-file.js';
import fs from 'node:fs';

const LF = 10;
const CR = 13;

/** Number of LFs not preceded by CR in `buf`; `prevCR` says whether the byte before buf[0] was CR. */
export function bareLfCount(buf: Buffer, prevCR: boolean): number {
  let n = 0;
  let i = buf.indexOf(LF);
  while (i >= 0) {
    const before = i === 0 ? prevCR : buf[i - 1] === CR;
    if (!before) n++;
    i = buf.indexOf(LF, i + 1);
  }
  return n;
}

/**
 * Where the bare LFs of a conversion are, reused for the usual message (a few
 * thousand lines). A bigger one grows a copy for that call only, so one huge
 * message does not leave megabytes held for good.
 */
const bareAtReused = new Int32Array(4096);
/** Lines shorter than this are copied byte by byte: a native copy costs more for them. */
const SHORT_LINE = 48;

/**
 * The CRLF form of `buf` (which is one whole message or a chunk following `prevCR`).
 * One pass finds the bare LFs with indexOf (memchr); then each line goes
 * across whole (a native copy), short ones byte by byte. A third faster than
 * one loop over every byte on the bench corpus's bodies.
 */
export function toCrlf(buf: Buffer, prevCR = false): Buffer {
  let bareAt = bareAtReused;
  let n = 0;
  for (let i = buf.indexOf(LF); i >= 0; i = buf.indexOf(LF, i + 1)) {
    if (i === 0 ? prevCR : buf[i - 1] === CR) continue;
    if (n === bareAt.length) {
      const more = new Int32Array(n * 2);
      more.set(bareAt);
      bareAt = more;
    }
    bareAt[n++] = i;
  }
  if (n === 0) return buf;
  const out = Buffer.allocUnsafe(buf.length + n);
  let o = 0;
  let from = 0;
  for (let k = 0; k < n; k++) {
    const lf = bareAt[k];
    if (lf - from < SHORT_LINE) for (let i = from; i < lf; i++) out[o++] = buf[i];
    else o += buf.copy(out, o, from, lf);
    out[o++] = CR;
    out[o++] = LF;
    from = lf + 1;
  }
  if (from < buf.length) buf.copy(out, o, from);
  return out;
}

const PROBE = 64 * 1024;

/** CRLF size of a file (see crlfSizeAndMtime). */
export function crlfSizeOfFile(file: string): Promise<number> {
  return crlfSizeAndMtime(file).then((r) => r.vsize);
}

/**
 * CRLF size of a file, and its mtime. This is on the path of every delivery,
 * so a small file costs two thread-pool round trips: open, then the one read
 * and the fstat side by side (the answer does not wait for the close). A
 * bigger file is counted chunk by chunk and fstat'ed after the count, so a
 * write during the count shows in the mtime.
 */
export function crlfSizeAndMtime(file: string): Promise<{ vsize: number; mtimeMs: number; placed: boolean }> {
  return new Promise((resolve, reject) => {
    fs.open(file, READ_MESSAGE, (err, fd) => {
      if (err) return reject(err);
      const closeThen = (then: () => void) => fs.close(fd, then);
      // `placed`: the inode changed after its last write (ctime > mtime): it was linked or renamed into
      // the folder once written (tmp/ then new/, as Postfix does), so it is whole, however new.
      const answer = (vsize: number, st: fs.Stats) => ({ vsize, mtimeMs: st.mtimeMs, placed: st.ctimeMs > st.mtimeMs });
      const buf = Buffer.allocUnsafe(PROBE);
      let probe: { n: number } | Error | null = null;
      let stat: fs.Stats | Error | null = null;
      const bothDone = () => {
        if (probe === null || stat === null) return;
        if (probe instanceof Error || stat instanceof Error) {
          const e = probe instanceof Error ? probe : (stat as Error);
          return closeThen(() => reject(e));
        }
        const first = probe.n + bareLfCount(buf.subarray(0, probe.n), false);
        if (probe.n < PROBE) {
          resolve(answer(first, stat));
          return closeThen(() => undefined);
        }
        const rest = fs.createReadStream('', { fd, autoClose: false, start: PROBE, highWaterMark: 256 * 1024 });
        countStream(rest, buf[probe.n - 1] === CR).then(
          (m) => fs.fstat(fd, (e2, st) => closeThen(() => (e2 ? reject(e2) : resolve(answer(first + m, st))))),
          (e3) => closeThen(() => reject(e3)),
        );
      };
      fs.read(fd, buf, 0, PROBE, 0, (e1, n) => {
        probe = e1 ?? { n };
        bothDone();
      });
      fs.fstat(fd, (e1, st) => {
        stat = e1 ?? st;
        bothDone();
      });
    });
  });
}

async function countStream(stream: AsyncIterable<Buffer>, prevCR: boolean): Promise<number> {
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length + bareLfCount(chunk, prevCR);
    prevCR = chunk[chunk.length - 1] === CR;
  }
  return size;
}

/** Callback readFile is about twice as fast as fs.promises.readFile here. */
export function readFileCb(file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => fs.readFile(file, { flag: READ_MESSAGE_FLAG }, (err, buf) => (err ? reject(err) : resolve(buf))));
}

/** The file, or null when it is bigger than `max` bytes (then only opened and stat'ed). */
export function readFileUpTo(file: string, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    fs.open(file, READ_MESSAGE, (err, fd) => {
      if (err) return reject(err);
      const done = (e: Error | null, buf?: Buffer | null) => fs.close(fd, () => (e ? reject(e) : resolve(buf ?? null)));
      fs.fstat(fd, (e1, st) => {
        if (e1) return done(e1);
        if (st.size > max) return done(null, null);
        const buf = Buffer.allocUnsafe(st.size);
        const readAt = (got: number): void => {
          if (got >= st.size) return done(null, buf);
          fs.read(fd, buf, got, st.size - got, got, (e2, n) => (e2 ? done(e2) : n === 0 ? done(null, buf.subarray(0, got)) : readAt(got + n)));
        };
        readAt(0);
      });
    });
  });
}

/** The whole message in CRLF form. */
export async function readCrlf(file: string): Promise<Buffer> {
  return toCrlf(await readFileCb(file));
}

/**
 * Streams bytes [start, end) of the CRLF form of `file`. Only the file up to
 * the end of the range is read, chunk by chunk.
 */
export async function* crlfRange(file: string, start: number, end: number): AsyncGenerator<Buffer> {
  if (end <= start) return;
  let pos = 0; // position in CRLF space of the next converted byte
  let prevCR = false;
  const stream = fs.createReadStream(file, { flags: READ_MESSAGE_FLAG, highWaterMark: 256 * 1024 });
  try {
    for await (const raw of stream as AsyncIterable<Buffer>) {
      const chunk = toCrlf(raw, prevCR);
      prevCR = raw[raw.length - 1] === CR;
      const chunkEnd = pos + chunk.length;
      if (chunkEnd > start) {
        const a = Math.max(0, start - pos);
        const b = Math.min(chunk.length, end - pos);
        if (b > a) yield chunk.subarray(a, b);
      }
      pos = chunkEnd;
      if (pos >= end) break;
    }
  } finally {
    stream.destroy();
  }
}
