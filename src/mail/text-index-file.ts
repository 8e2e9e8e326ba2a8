// The text index file (`maildir-imapd-text`): MAGIC, then records
// [u32 LE payload length][u32 LE CRC-32 of the payload][payload], each
// payload one encoded segment (text-index-tokens.ts). Reading stops at the
// first record that is short, fails its checksum or does not decode: what
// precedes it is good, the rest is a torn tail to cut off.
import zlib from 'node:zlib';
import { decodeSegment, encodeSegment, type Segment } from './text-index-tokens.js';

/** Changing the tokeniser or the encoding means a new version here: old files are then rebuilt. */
export const MAGIC = Buffer.from('maildir-imapd-text 1\n', 'latin1');

export function encodeRecord(seg: Segment): Buffer {
  const payload = encodeSegment(seg);
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(zlib.crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

/**
 * The segments of a file's bytes, where each record begins, and the length of
 * its good prefix (0 when the magic is wrong: a file of another version, or
 * garbage). `postingsInFile`: the segments leave their postings in the file
 * (postAt).
 */
export function parseIndexFile(data: Buffer, postingsInFile = false): { segs: Segment[]; good: number; starts: number[] } {
  if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC)) return { segs: [], good: 0, starts: [] };
  const segs: Segment[] = [];
  const starts: number[] = [];
  const good = walkRecords(data, MAGIC.length, (payload, at) => {
    try {
      segs.push(decodeSegment(payload, postingsInFile ? at + 8 : undefined));
    } catch {
      return false;
    }
    starts.push(at);
    return true;
  });
  return { segs, good, starts };
}

/** The segments of consecutive records, the whole of `data` (a slice of the file); throws if any is torn or damaged. */
export function parseRecords(data: Buffer): Segment[] {
  const segs: Segment[] = [];
  const end = walkRecords(data, 0, (payload) => {
    segs.push(decodeSegment(payload));
    return true;
  });
  if (end !== data.length) throw new Error('text index record torn or damaged');
  return segs;
}

/**
 * Calls `visit` with the payload of each record from offset `p` on, and
 * where the record starts, while records are whole and pass their CRC and
 * `visit` says go on; returns where the last such record ends.
 */
function walkRecords(data: Buffer, p: number, visit: (payload: Buffer, at: number) => boolean): number {
  while (p + 8 <= data.length) {
    const len = data.readUInt32LE(p);
    if (p + 8 + len > data.length) break;
    const payload = data.subarray(p + 8, p + 8 + len);
    if (zlib.crc32(payload) !== data.readUInt32LE(p + 4) || !visit(payload, p)) break;
    p += 8 + len;
  }
  return p;
}
