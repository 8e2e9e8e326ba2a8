// Worker thread of the text index: reads, decodes and tokenises a batch of
// message files into one segment; loads the index file; merges the file's
// segments into one (compaction). The main event loop only receives finished
// typed arrays and strings.
import fs from 'node:fs';
import path from 'node:path';
import { searchTextsOf } from './facts.js';
import { readFileCb, readFileUpTo } from './crlf.js';
import { bodyStreamOptions } from './body-match-pool.js';
import { IN_BODY, IN_HEADER, SegmentBuilder, mergeSegments, type Segment } from './text-index-tokens.js';
import { MAGIC, encodeRecord, parseIndexFile, parseRecords } from './text-index-file.js';
import { serveJobs } from '../runtime/serve-jobs.js';

export type ParseRequest =
  | { op: 'build'; root: string; names: string[]; files: string[] }
  | { op: 'load'; file: string }
  /**
   * Merges the records from index `from` up to the file's first `upTo` bytes, leaving out the messages
   * named in `drop` (expunged); the records before `from` are copied as they are.
   */
  | { op: 'compact'; file: string; upTo: number; from: number; drop: string[]; tmp: string };

export interface ParseResult {
  /** build, compact: the new segment (compact: its postings left in the file written, postAt). */
  seg?: Segment;
  /** build: the segment's file record. */
  record?: Uint8Array;
  /** build: messages that could not be read. */
  failed?: string[];
  /** load: the good segments; good: length of the good prefix; size: file size (-1: no file). */
  segs?: Segment[];
  good?: number;
  /** load: file size (-1: none); compact: size of the file written. */
  size?: number;
}

/** Files read ahead of the one being tokenised (overlaps disk latency with CPU). */
const READ_AHEAD = 4;

async function build(root: string, names: string[], files: string[]): Promise<{ seg: Segment; failed: string[] }> {
  const builder = new SegmentBuilder();
  const failed: string[] = [];
  const reads: Array<Promise<Buffer | null> | undefined> = [];
  const start = (i: number): void => {
    if (i < files.length) {
      // Callbacks: about half the overhead of fs.promises (see crlf.readFileCb). A message too big
      // to read whole is not indexed: every search counts it as "maybe" and matches it as a stream.
      reads[i] = readFileUpTo(path.join(root, files[i]), bodyStreamOptions.threshold);
      reads[i]!.catch(() => undefined);
    }
  };
  for (let i = 0; i < READ_AHEAD; i++) start(i);
  for (let i = 0; i < files.length; i++) {
    start(i + READ_AHEAD);
    try {
      const data = await reads[i]!;
      reads[i] = undefined;
      if (!data) {
        failed.push(names[i]);
        continue;
      }
      const { header, body } = searchTextsOf(data);
      builder.message(names[i]);
      builder.text(header, IN_HEADER);
      builder.text(body, IN_BODY);
    } catch {
      // Gone (renamed by a flag change, expunged) or unreadable: the evaluator searches it the plain way.
      failed.push(names[i]);
    }
  }
  return { seg: builder.finish(), failed };
}

/**
 * Merges the records from index `from` up to `upTo` bytes into one and
 * writes the file as it is before them, then the merged record, to `tmp`.
 * Only the merged records are read into memory; the ones before are found
 * by their length fields and copied in chunks (the whole file, 53 MB at
 * 50,000 messages, was read to merge its newest 8 MB: the memory bench's
 * peak, with the merge's heap on top).
 */
async function compact(req: Extract<ParseRequest, { op: 'compact' }>): Promise<ParseResult> {
  const fh = await fs.promises.open(req.file, 'r');
  try {
    const head = Buffer.alloc(Math.max(8, MAGIC.length));
    const readFull = async (buf: Buffer, len: number, at: number) => {
      const { bytesRead } = await fh.read(buf, 0, len, at);
      if (bytesRead !== len) throw new Error('text index changed under compaction');
    };
    await readFull(head, MAGIC.length, 0);
    if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('text index changed under compaction');
    const starts: number[] = [];
    for (let p = MAGIC.length; p < req.upTo; ) {
      await readFull(head, 8, p);
      starts.push(p);
      p += 8 + head.readUInt32LE(0);
      if (p > req.upTo) throw new Error('text index changed under compaction');
    }
    if (req.from >= starts.length) throw new Error('text index changed under compaction');
    const cut = starts[req.from];
    const merging = Buffer.allocUnsafe(req.upTo - cut);
    await readFull(merging, merging.length, cut);
    const drop = new Set(req.drop);
    const seg = mergeSegments(parseRecords(merging), (n) => !drop.has(n));
    const record = encodeRecord(seg);
    const out = await fs.promises.open(req.tmp, 'w', 0o600);
    try {
      const chunk = Buffer.allocUnsafe(1024 * 1024);
      for (let at = 0; at < cut; ) {
        const n = Math.min(chunk.length, cut - at);
        await readFull(chunk, n, at);
        await writeAll(out, chunk.subarray(0, n), at);
        at += n;
      }
      await writeAll(out, record, cut);
    } finally {
      await out.close();
    }
    // The postings are the record's last bytes: they stay there (the event loop reads them from the file).
    const size = cut + record.length;
    return { seg: { ...seg, post: new Uint8Array(0), postAt: size - seg.post.byteLength }, size };
  } finally {
    await fh.close();
  }
}

/** Writes all of `buf` at `at`, going on after a short write (a disk filling up writes less, then fails). */
async function writeAll(fh: fs.promises.FileHandle, buf: Uint8Array, at: number): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, at + done);
    if (bytesWritten <= 0) throw new Error('text index compaction: nothing written');
    done += bytesWritten;
  }
}

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFileCb(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function buffersOf(seg: Segment | undefined): ArrayBuffer[] {
  if (!seg) return [];
  const own = [seg.starts.buffer, seg.postOff.buffer, seg.post.buffer] as ArrayBuffer[];
  return typeof seg.dict === 'string' ? own : [...own, seg.dict.buffer as ArrayBuffer];
}

async function handle(req: ParseRequest): Promise<ParseResult> {
  switch (req.op) {
    case 'build': {
      const { seg, failed } = await build(req.root, req.names, req.files);
      return { seg, failed, record: encodeRecord(seg) };
    }
    case 'load': {
      const data = await readOrNull(req.file);
      if (!data) return { segs: [], good: 0, size: -1 };
      const { segs, good } = parseIndexFile(data, true);
      return { segs, good, size: data.length };
    }
    case 'compact':
      return compact(req);
  }
}

serveJobs<ParseRequest, ParseResult>(handle, (r) => [...buffersOf(r.seg), ...(r.segs ?? []).flatMap(buffersOf)]);
