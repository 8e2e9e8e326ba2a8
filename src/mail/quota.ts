// A user's quota usage, kept in Maildir++'s `maildirsize` at the Maildir's
// root: the file Courier, maildrop, Exim and Dovecot's "maildir" quota
// backend read and write, so usage survives a switch in either direction.
//
//   10737418240S,1000C      the limits (bytes S, messages C; "0S" for none)
//   51234 17                usage when last recalculated
//   3013 1                  then one line per change, appended (O_APPEND, one write)
//   -3013 -1
//
// Usage is the sum of all lines. The file is recalculated (every folder's
// new/ and cur/ walked once, sizes from ",S=" in the names, else stat) when
// it is missing, damaged (a line that is not two numbers, a NUL, a negative
// total), reaches 5120 bytes, names other limits than ours, or says the user
// is over quota while holding more than one change line or being older than
// 15 minutes — Dovecot's rules (quota-maildir.c). Every change of ours is one
// appended line; a change another process made to the file (size, inode or
// mtime moved) is read again before the next check. Changes made by others to
// the messages (Postfix's virtual(8), rm) are counted when the watcher of an
// open folder sees them with their sizes; others wait for the next
// recalculation, as in Dovecot.
import { promises as fs } from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { MailError } from './errors.js';
import { Mutex } from './mutex.js';
import type { QuotaLimits, QuotaStatus } from './handles.js';

export const MAILDIRSIZE = 'maildirsize';
/** Dovecot reads at most this much; a file that long is recalculated. */
const MAX_FILE = 5120;
/** An over-quota file older than this is not trusted (Dovecot's MAILDIRSIZE_STALE_SECS). */
const STALE_MS = 15 * 60_000;
/** A recalculation asked for by a change of unknown size waits at least this long after the previous one. */
const RECALC_MIN_INTERVAL_MS = 60_000;

export const NO_LIMITS: QuotaLimits = { storage: null, messages: null };

/** The first line of maildirsize for these limits (Dovecot's form: "0S" when nothing is limited). */
export function limitsLine(l: QuotaLimits): string {
  const parts: string[] = [];
  if (l.storage !== null || l.messages === null) parts.push(`${l.storage ?? 0}S`);
  if (l.messages !== null) parts.push(`${l.messages}C`);
  return parts.join(',');
}

/** Limits from a maildirsize first line; null when it is not one. 0 means no limit. */
export function parseLimitsLine(line: string): QuotaLimits | null {
  const out: QuotaLimits = { storage: null, messages: null };
  for (const part of line.split(',')) {
    const m = /^(\d+)([SC])$/.exec(part.trim());
    if (!m) return null;
    const n = Number(m[1]);
    if (m[2] === 'S') out.storage = n || null;
    else out.messages = n || null;
  }
  return out;
}

export type ParsedMaildirsize =
  | { ok: true; limits: QuotaLimits; bytes: number; messages: number; lines: number }
  | { ok: false; why: string };

/** Reads maildirsize's text as Dovecot does (an unterminated last line is left out). */
export function parseMaildirsize(text: string): ParsedMaildirsize {
  if (text.includes('\0')) return { ok: false, why: 'NUL byte' };
  const end = text.lastIndexOf('\n');
  if (end < 0) return { ok: false, why: 'no complete line' };
  const lines = text.slice(0, end).split('\n');
  const limits = parseLimitsLine(lines[0]);
  if (!limits) return { ok: false, why: 'bad limits line' };
  if (lines.length < 2) return { ok: false, why: 'no usage line' };
  let bytes = 0;
  let messages = 0;
  for (const l of lines.slice(1)) {
    const m = /^\s*(-?\d+)\s+(-?\d+)\s*$/.exec(l);
    if (!m) return { ok: false, why: 'bad usage line' };
    bytes += Number(m[1]);
    messages += Number(m[2]);
  }
  if (bytes < 0 || messages < 0 || !Number.isSafeInteger(bytes)) return { ok: false, why: 'negative total' };
  return { ok: true, limits, bytes, messages, lines: lines.length - 1 };
}

function sameLimits(a: QuotaLimits, b: QuotaLimits): boolean {
  return a.storage === b.storage && a.messages === b.messages;
}

/** The physical size a Maildir name carries (",S=<n>" before ':' or ','), or null. */
export function sizeInName(name: string): number | null {
  const m = /,S=(\d+)(?=$|[:,])/.exec(name);
  return m ? Number(m[1]) : null;
}

/** Sums one new/ or cur/ directory a batch of entries at a time (bounded memory, whatever its size). */
async function sumDir(dir: string, total: { bytes: number; messages: number }): Promise<void> {
  let handle;
  try {
    handle = await fs.opendir(dir, { bufferSize: 256 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw err;
  }
  for await (const e of handle) {
    if (e.name[0] === '.') continue;
    const named = sizeInName(e.name);
    if (named !== null) {
      total.bytes += named;
      total.messages++;
      continue;
    }
    try {
      const st = await fs.lstat(path.join(dir, e.name));
      if (!st.isFile()) continue;
      total.bytes += st.size;
      total.messages++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** The new/ and cur/ directories of INBOX and every Maildir++ folder (no symbolic links followed). */
async function messageDirs(root: string): Promise<string[]> {
  const dirs = [path.join(root, 'new'), path.join(root, 'cur')];
  let names: string[] = [];
  try {
    names = await fs.readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const n of names) {
    // ".Folder"; never "..deleted-…" (a DELETE under way) or a symbolic link.
    if (n.length < 2 || n[0] !== '.' || n[1] === '.') continue;
    const st = await fs.lstat(path.join(root, n)).catch(() => null);
    if (!st?.isDirectory()) continue;
    dirs.push(path.join(root, n, 'new'), path.join(root, n, 'cur'));
  }
  return dirs;
}

/** Bytes and messages of one folder directory (its new/ and cur/): what a DELETE frees. */
export async function folderUsage(dir: string): Promise<{ bytes: number; messages: number }> {
  const total = { bytes: 0, messages: 0 };
  for (const sub of ['new', 'cur']) await sumDir(path.join(dir, sub), total);
  return total;
}

async function dirStamps(dirs: string[]): Promise<string> {
  const out: string[] = [];
  for (const d of dirs) {
    const st = await fs.stat(d).catch(() => null);
    out.push(st ? `${st.ino}:${st.mtimeMs}` : '-');
  }
  return out.join('/');
}

interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
}

/** What a folder tells its user's quota about its messages coming and going. */
export interface QuotaSink {
  /** Whether anything is limited (else changes need not be sized). */
  readonly active: boolean;
  changed(bytes: number, messages: number): void;
  /** Messages came or went whose size is not known: recalculate (not more often than once a minute). */
  unknownChange(): void;
}

/** One user's usage (one per Maildir root and process; every session of the user shares it). */
export class MaildirQuota implements QuotaSink {
  private limits: QuotaLimits = NO_LIMITS;
  private bytes = 0;
  private messages = 0;
  /** The file as we last read or wrote it; null: read it again. */
  private known: FileStamp | null = null;
  private pendingBytes = 0;
  private pendingMessages = 0;
  private dirty = false;
  private lastRecalc = 0;
  private readonly mutex = new Mutex();
  /** How many recalculations ran (tests check there is none per delivery). */
  recalculations = 0;

  constructor(
    readonly root: string,
    private readonly log: Logger,
  ) {}

  get file(): string {
    return path.join(this.root, MAILDIRSIZE);
  }

  get active(): boolean {
    return this.limits.storage !== null || this.limits.messages !== null;
  }

  /** The user's limits (from the users file and the configured default); a change rewrites the file's first line. */
  setLimits(limits: QuotaLimits): void {
    if (sameLimits(limits, this.limits)) return;
    this.limits = { ...limits };
    this.known = null;
  }

  changed(bytes: number, messages: number): void {
    if (!this.active || (bytes === 0 && messages === 0)) return;
    this.pendingBytes += bytes;
    this.pendingMessages += messages;
    this.mutex.run(() => this.flush()).catch((err) => this.log.warn({ err, file: this.file }, 'cannot update maildirsize; it will be recalculated'));
  }

  unknownChange(): void {
    if (this.active) this.dirty = true;
  }

  /** Limits and usage now. */
  status(): Promise<QuotaStatus> {
    return this.mutex.run(async () => {
      if (!this.active) return { limits: { ...this.limits }, bytes: 0, messages: 0 };
      await this.flush();
      return { limits: { ...this.limits }, bytes: this.bytes, messages: this.messages };
    });
  }

  /**
   * Walks the folders now (the admin command): the file is rewritten when
   * limits are set; without any, the count is made for the answer only.
   */
  recalculateNow(): Promise<QuotaStatus> {
    return this.mutex.run(async () => {
      if (!this.active) {
        const total = { bytes: 0, messages: 0 };
        for (const d of await messageDirs(this.root)) await sumDir(d, total);
        return { limits: { ...this.limits }, ...total };
      }
      await this.recalculate('asked for (admin)');
      return { limits: { ...this.limits }, bytes: this.bytes, messages: this.messages };
    });
  }

  /** Throws MailError 'quota' unless `bytes` more bytes and `messages` more messages fit. */
  async check(bytes: number, messages: number): Promise<void> {
    if (!this.active) return;
    const s = await this.status();
    if (!fits(s, bytes, messages)) throw new MailError('quota', 'Quota exceeded (mailbox for user is full)');
  }

  /** Called with the mutex held: brings the numbers up to date and appends the pending change. */
  private async flush(): Promise<void> {
    if (!this.active) {
      this.pendingBytes = this.pendingMessages = 0;
      return;
    }
    await this.refresh();
    const b = this.pendingBytes;
    const m = this.pendingMessages;
    this.pendingBytes = this.pendingMessages = 0;
    if (b === 0 && m === 0) return;
    await this.append(b, m);
  }

  /** Called with the mutex held: usage from the file when it changed or a recalculation when it must. */
  private async refresh(): Promise<void> {
    if (this.dirty && Date.now() - this.lastRecalc >= RECALC_MIN_INTERVAL_MS) return this.recalculate('changes of unknown size');
    const st = await fs.stat(this.file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (!st) return this.recalculate('missing');
    if (this.known && this.known.ino === st.ino && this.known.size === st.size && this.known.mtimeMs === st.mtimeMs) return;
    if (st.size >= MAX_FILE) return this.recalculate('grown to 5120 bytes');
    const text = await fs.readFile(this.file, 'latin1').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (text === null) return this.recalculate('missing');
    const parsed = parseMaildirsize(text);
    if (!parsed.ok) return this.recalculate(`damaged (${parsed.why})`);
    if (!sameLimits(parsed.limits, this.limits)) return this.recalculate('limits changed');
    const over = (this.limits.storage !== null && parsed.bytes > this.limits.storage) || (this.limits.messages !== null && parsed.messages > this.limits.messages);
    if (over && (parsed.lines > 1 || st.mtimeMs < Date.now() - STALE_MS)) return this.recalculate('over quota by changes not yet recalculated');
    this.bytes = parsed.bytes;
    this.messages = parsed.messages;
    this.known = { ino: st.ino, size: Buffer.byteLength(text, 'latin1'), mtimeMs: st.mtimeMs };
    if (this.known.size !== st.size) this.known = null; // it grew while we read: read again next time
  }

  /**
   * Walks every folder's new/ and cur/ once and writes a fresh file
   * (tmp + rename: a crash leaves the old one or the new one). If a folder
   * changed during the walk, the numbers are used but not written, and the
   * next check walks again.
   */
  private async recalculate(why: string): Promise<void> {
    this.recalculations++;
    this.lastRecalc = Date.now();
    this.dirty = false;
    this.pendingBytes = this.pendingMessages = 0; // the walk sees those files as they are now
    const dirs = await messageDirs(this.root);
    const before = await dirStamps(dirs);
    const total = { bytes: 0, messages: 0 };
    for (const d of dirs) await sumDir(d, total);
    this.bytes = total.bytes;
    this.messages = total.messages;
    this.known = null;
    this.log.debug({ root: this.root, why, ...total }, 'maildirsize recalculated');
    if ((await dirStamps(dirs)) !== before) {
      this.dirty = true;
      return;
    }
    const tmp = `${this.file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    try {
      await fs.writeFile(tmp, `${limitsLine(this.limits)}\n${total.bytes} ${total.messages}\n`, { mode: 0o600, flag: 'wx' });
      await fs.rename(tmp, this.file);
      const st = await fs.stat(this.file);
      this.known = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    } catch (err) {
      await fs.unlink(tmp).catch(() => undefined);
      const code = (err as NodeJS.ErrnoException).code;
      // No Maildir yet (a user who never got mail) or one we may not write: the numbers still hold.
      if (code !== 'ENOENT' && code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw err;
    }
  }

  /** One line appended with one write (O_APPEND), as Maildir++ asks. */
  private async append(bytes: number, messages: number): Promise<void> {
    const line = `${bytes} ${messages}\n`;
    this.bytes = Math.max(0, this.bytes + bytes);
    this.messages = Math.max(0, this.messages + messages);
    const fh = await fs.open(this.file, 'a');
    try {
      const before = this.known;
      await fh.write(line);
      const st = await fh.stat();
      // Only our line since we last looked: we still know the whole file. Else read it again next time.
      this.known = before && before.ino === st.ino && before.size + line.length === st.size ? { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs } : null;
    } finally {
      await fh.close();
    }
  }
}

/** Whether `bytes` more bytes and `messages` more messages fit (Dovecot: used + new > limit is over). */
export function fits(s: QuotaStatus, bytes: number, messages: number): boolean {
  if (s.limits.storage !== null && s.bytes + bytes > s.limits.storage) return false;
  if (s.limits.messages !== null && s.messages + messages > s.limits.messages) return false;
  return true;
}
