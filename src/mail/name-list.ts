// The persisted name list, `maildir-imapd-names`: what a folder's open needs
// (each message's UID, file name and sizes, the UIDVALIDITY and UIDNEXT), so
// a first open after a restart, or after the folder was dropped from memory,
// can skip reading new/ and cur/ and parsing dovecot-uidlist when nothing
// changed — as Dovecot trusts its index while the directories' mtimes stand.
//
// It is a cache of the Maildir and the uidlist, never the truth. It is
// trusted whole only when:
//   - dovecot-uidlist has the inode, size and mtime it had when the list was
//     taken (so every listed UID is still the uidlist's), and
//   - new/ and cur/ have the inode, mtime and ctime they had just before the
//     readdir the list came from, and neither changed within the timestamp
//     granularity before that readdir ("dirty", as Dovecot's rule: a second
//     change in the same tick would not move the mtime, so a recent one
//     proves nothing).
// Otherwise the list only seeds the folder's state and a full readdir
// reconciles it (messages gone, renamed or new); a list that does not parse
// (another version, a torn or damaged file) is not used at all.
//
// Format (text; written whole with writeFileAtomically, so kill -9 leaves the
// old file or the new one):
//   maildir-imapd-names 1
//   <uidlist stamp>\t<dir stamp>\t<scanned at, ms>\t<uidvalidity>\t<uidnext>\t<count>
//   <uid> <n|c> <vsize|-> <size|-> <file name>        one per message, ascending UID
//   crc <CRC-32 of every byte before this line, hex>
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { writeFileAtomically } from './atomic-write.js';
import type { Sub } from './maildir.js';

export const NAME_LIST_FILE = 'maildir-imapd-names';
const HEADER = 'maildir-imapd-names 1';
/**
 * dirtyMs: a directory whose mtime or ctime is this close to (or after) the
 * scan that listed it is dirty. Linux stamps files from a coarse clock (a
 * tick of up to 10 ms), some filesystems keep whole seconds (FAT: two): 2 s
 * covers all. (Tests shorten it.)
 */
export const nameListOptions = { dirtyMs: 2000 };
/** The list is not read beyond this (about 4,000,000 messages): a bigger file is not ours. */
const MAX_BYTES = 256 * 1024 * 1024;

export interface ListedMessage {
  uid: number;
  sub: Sub;
  filename: string;
  vsize: number | null;
  size: number | null;
}

export interface NameList {
  uidlistStamp: string;
  /** Maildir.dirStamp() taken just before the readdir the list came from. */
  dirStamp: string;
  scannedAtMs: number;
  uidValidity: number;
  uidNext: number;
  messages: ListedMessage[];
}

/** The uidlist's identity: a rewrite changes the inode, an append the size. */
export async function uidlistStamp(root: string): Promise<string> {
  const st = await fs.stat(path.join(root, 'dovecot-uidlist'), { bigint: true }).catch(() => null);
  return st ? `${st.ino}:${st.size}:${st.mtimeNs}` : '-';
}

/**
 * Whether directories with `currentStamp` are exactly as a scan at
 * `scannedAtMs` that saw `listedStamp` found them: the same stamps, and
 * neither changed within dirtyMs of that scan.
 */
export function unchangedSince(listedStamp: string, currentStamp: string, scannedAtMs: number): boolean {
  if (listedStamp !== currentStamp) return false;
  for (const part of currentStamp.split('/')) {
    if (part === '-') continue; // a directory missing then and now
    const [, mtimeNs, ctimeNs] = part.split(':').map((n) => BigInt(n));
    const latestMs = Number((mtimeNs > ctimeNs ? mtimeNs : ctimeNs) / 1_000_000n);
    if (!(latestMs < scannedAtMs - nameListOptions.dirtyMs)) return false;
  }
  return true;
}

export function formatNameList(list: NameList): string | null {
  const lines = [HEADER, [list.uidlistStamp, list.dirStamp, list.scannedAtMs, list.uidValidity, list.uidNext, list.messages.length].join('\t')];
  for (const m of list.messages) {
    // A name with a line break cannot be listed: the folder is then scanned at each open.
    if (m.filename.includes('\n') || m.filename.includes('\r')) return null;
    lines.push(`${m.uid} ${m.sub === 'new' ? 'n' : 'c'} ${m.vsize ?? '-'} ${m.size ?? '-'} ${m.filename}`);
  }
  const body = lines.join('\n') + '\n';
  return `${body}crc ${zlib.crc32(Buffer.from(body, 'utf8')).toString(16)}\n`;
}

/** The list in `data` (the file's bytes, or its text), or null if it is not one this version wrote whole. */
export function parseNameList(data: Buffer | string): NameList | null {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const crcAt = bytes.lastIndexOf('\ncrc ', bytes.length - 2) + 1;
  if (crcAt <= 0 || bytes[bytes.length - 1] !== 0x0a) return null;
  if (bytes.toString('latin1', crcAt + 4, bytes.length - 1) !== zlib.crc32(bytes.subarray(0, crcAt)).toString(16)) return null;
  const body = bytes.toString('utf8', 0, crcAt);
  const lines = body.split('\n');
  lines.pop(); // after the last line's \n
  if (lines[0] !== HEADER || lines.length < 2) return null;
  const head = lines[1].split('\t');
  if (head.length !== 6) return null;
  const [uidlistStampText, dirStamp] = head;
  const [scannedAtMs, uidValidity, uidNext, count] = head.slice(2).map(Number);
  if (![scannedAtMs, uidValidity, uidNext, count].every(Number.isSafeInteger) || uidValidity <= 0 || count !== lines.length - 2) return null;
  const messages: ListedMessage[] = new Array(count);
  let lastUid = 0;
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i];
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    const c = line.indexOf(' ', b + 1);
    const d = line.indexOf(' ', c + 1);
    if (a < 0 || b !== a + 2 || c < 0 || d < 0 || d + 1 >= line.length) return null;
    const uid = Number(line.slice(0, a));
    const subLetter = line[a + 1];
    const vsize = sizeField(line.slice(b + 1, c));
    const size = sizeField(line.slice(c + 1, d));
    if (!Number.isSafeInteger(uid) || uid <= lastUid || uid >= uidNext || (subLetter !== 'n' && subLetter !== 'c') || vsize === undefined || size === undefined) return null;
    lastUid = uid;
    messages[i - 2] = { uid, sub: subLetter === 'n' ? 'new' : 'cur', filename: line.slice(d + 1), vsize, size };
  }
  return { uidlistStamp: uidlistStampText, dirStamp, scannedAtMs, uidValidity, uidNext, messages };
}

/** A size field: a number, '-' for unknown (null), anything else is damage (undefined). */
function sizeField(s: string): number | null | undefined {
  if (s === '-') return null;
  const n = Number(s);
  return s.length && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Reads the folder's list; null when there is none or it cannot be used. */
export async function readNameList(root: string): Promise<{ list: NameList | null; damaged: boolean }> {
  let data: Buffer;
  try {
    const fh = await fs.open(path.join(root, NAME_LIST_FILE), 'r');
    try {
      const { size } = await fh.stat();
      if (size > MAX_BYTES) return { list: null, damaged: true };
      data = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch {
    return { list: null, damaged: false };
  }
  const list = parseNameList(data);
  return { list, damaged: list === null };
}

export async function writeNameList(root: string, list: NameList): Promise<boolean> {
  const text = formatNameList(list);
  if (text === null) {
    await fs.unlink(path.join(root, NAME_LIST_FILE)).catch(() => undefined);
    return false;
  }
  await writeFileAtomically(path.join(root, NAME_LIST_FILE), text);
  return true;
}
