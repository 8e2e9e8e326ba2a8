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
 * garbage). Records before `decodeFrom` are checked (length, CRC) but not
 * decoded, and `segs` holds only those from `decodeFrom` on: a compaction
 * copies the older records as bytes and decodes only what it merges.
 * `postingsInFile`: the segments leave their postings in the file (postAt).
 */
export function parseIndexFile(data: Buffer, decodeFrom = 0, postingsInFile = false): { segs: Segment[]; good: number; starts: number[] } {
  if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC)) return { segs: [], good: 0, starts: [] };
  const segs: Segment[] = [];
  const starts: number[] = [];
  let p = MAGIC.length;
  while (p + 8 <= data.length) {
    const len = data.readUInt32LE(p);
    const crc = data.readUInt32LE(p + 4);
    if (p + 8 + len > data.length) break;
    const payload = data.subarray(p + 8, p + 8 + len);
    if (zlib.crc32(payload) !== crc) break;
    if (starts.length >= decodeFrom) {
      try {
        segs.push(decodeSegment(payload, postingsInFile ? p + 8 : undefined));
      } catch {
        break;
      }
    }
    starts.push(p);
    p += 8 + len;
  }
  return { segs, good: p, starts };
}

/** The segments of consecutive records, the whole of `data` (a slice of the file); throws if any is torn or damaged. */
export function parseRecords(data: Buffer): Segment[] {
  const segs: Segment[] = [];
  let p = 0;
  while (p < data.length) {
    if (p + 8 > data.length) throw new Error('text index record torn');
    const len = data.readUInt32LE(p);
    const payload = data.subarray(p + 8, p + 8 + len);
    if (payload.length !== len || zlib.crc32(payload) !== data.readUInt32LE(p + 4)) throw new Error('text index record damaged');
    segs.push(decodeSegment(payload));
    p += 8 + len;
  }
  return segs;
}
