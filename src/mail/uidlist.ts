// dovecot-uidlist, version 3: the persisted UID ↔ file-name map that Dovecot
// and we share, so either server can take over a Maildir with every UID intact.
//
//   3 V<uidvalidity> N<nextuid> G<guid hex>
//   <uid> [<ext fields: W<vsize> …>] :<basename>
//
// New records are appended under the dotlock; a rewrite goes to a temp file
// renamed over the old one. N may be stale after appends, so a reader uses
// max(N, last uid + 1).
import { promises as fs } from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { withDotlock } from './dotlock.js';
import { Mutex } from './mutex.js';

export interface UidRecord {
  uid: number;
  basename: string;
  /** Ext fields other than W, kept verbatim so a rewrite loses nothing Dovecot wrote. */
  ext: readonly string[];
  /** CRLF size (Dovecot's virtual size, the W field), if known. */
  vsize: number | null;
}

export interface UidlistState {
  uidValidity: number;
  nextUid: number;
  guid: string;
  records: UidRecord[];
}

const LOCK = { staleMs: 120_000, timeoutMs: 30_000 };

/** The ext of the records that have none (most of ours): one array, not one per record (1.6 MB at 50,000). */
const NO_EXT: readonly string[] = Object.freeze([]);

/** RFC 3501 §2.3.1.1: a UID is a 32-bit number. */
export const MAX_UID = 0xffffffff;

/**
 * `intern`: the caller's own string for a basename, if it has one (a record
 * then holds no slice of the whole file's text, which keeps it all alive).
 */
export function parseUidlist(text: string, intern: (basename: string) => string | undefined = () => undefined): UidlistState | null {
  const lines = text.split('\n');
  const header = lines[0]?.trim().split(' ') ?? [];
  if (header[0] !== '3') return null; // v1/v2 files predate Dovecot 1.0: start afresh
  let uidValidity = 0;
  let nextUid = 1;
  let guid = '';
  for (const field of header.slice(1)) {
    const value = field.slice(1);
    if (field[0] === 'V') uidValidity = Number(value);
    else if (field[0] === 'N') nextUid = Number(value);
    else if (field[0] === 'G') guid = value;
  }
  if (!Number.isSafeInteger(uidValidity) || uidValidity <= 0) return null;
  const records: UidRecord[] = [];
  let lastUid = 0;
  // The last line may be torn by a crash mid-append: a line is kept only if complete.
  // With a trailing newline the last element is '', otherwise it is the torn line.
  for (let i = 1; i < lines.length - 1; i++) {
    const rec = parseRecord(lines[i], intern);
    if (rec && rec.uid > lastUid) {
      records.push(rec);
      lastUid = rec.uid;
    }
  }
  return { uidValidity, nextUid: Math.max(nextUid || 1, lastUid + 1), guid, records };
}

function parseRecord(line: string, intern: (basename: string) => string | undefined): UidRecord | null {
  const colon = line.indexOf(' :');
  if (colon < 0) return null;
  const fields = line.slice(0, colon).split(' ');
  const uid = Number(fields[0]);
  const read = line.slice(colon + 2);
  const basename = intern(read) ?? read;
  if (!Number.isSafeInteger(uid) || uid <= 0 || basename === '') return null;
  let vsize: number | null = null;
  let ext: string[] | null = null;
  for (const f of fields.slice(1)) {
    if (f === '') continue;
    if (f[0] === 'W' && /^W\d+$/.test(f)) vsize = Number(f.slice(1));
    else (ext ??= []).push(f);
  }
  return { uid, basename, ext: ext ?? NO_EXT, vsize };
}

export function formatRecord(r: UidRecord): string {
  const fields = [String(r.uid)];
  if (r.vsize !== null) fields.push('W' + r.vsize);
  fields.push(...r.ext);
  return fields.join(' ') + ' :' + r.basename + '\n';
}

function formatHeader(s: UidlistState): string {
  return `3 V${s.uidValidity} N${s.nextUid} G${s.guid}\n`;
}

/**
 * One mailbox's uidlist. Every operation re-reads the file when it changed on
 * disk, so a Dovecot writing beside us never makes us reuse a UID.
 */
export class Uidlist {
  readonly file: string;
  private state: UidlistState | null = null;
  private byName = new Map<string, UidRecord>();
  private stamp = ''; // ino:size:mtime of the file as last read or written by us
  private readonly mutex = new Mutex();

  /** `intern`: as parseUidlist's (the folder's own strings for the names it holds). */
  constructor(
    dir: string,
    private readonly intern: (basename: string) => string | undefined = () => undefined,
  ) {
    this.file = path.join(dir, 'dovecot-uidlist');
  }

  /**
   * ino:size of the file. Enough to notice any change: writers only append
   * (size grows) or replace the file by rename (ino changes), never rewrite in place.
   */
  private async statStamp(): Promise<string> {
    try {
      const st = await fs.stat(this.file);
      return `${st.ino}:${st.size}`;
    } catch {
      return 'missing';
    }
  }

  /** An O_APPEND descriptor on the current file, kept open: one write per delivery. */
  private appendFd: { ino: string; fh: fs.FileHandle } | null = null;

  private async appendRecords(text: string): Promise<void> {
    const [ino, size] = this.stamp.split(':');
    if (this.appendFd?.ino !== ino) {
      await this.appendFd?.fh.close().catch(() => undefined);
      this.appendFd = null;
      const fh = await fs.open(this.file, 'a');
      const st = await fh.stat();
      if (String(st.ino) !== ino) {
        // Replaced between our stat and open: let the next call re-read.
        await fh.close();
        this.stamp = '';
        throw new Error('uidlist replaced during append; retry');
      }
      this.appendFd = { ino, fh };
    }
    const data = Buffer.from(text);
    try {
      const { bytesWritten } = await this.appendFd.fh.write(data);
      // A short write to a regular file means the disk filled up mid-way.
      if (bytesWritten !== data.length) throw Object.assign(new Error(`dovecot-uidlist: wrote ${bytesWritten} of ${data.length} bytes`), { code: 'ENOSPC' });
    } catch (err) {
      // A torn record would run into the next one appended and hand its UID to another
      // message: the file is cut back to what it was (we hold the lock; truncating frees space).
      await this.appendFd.fh.truncate(Number(size)).catch(() => undefined);
      throw err;
    }
    this.stamp = `${ino}:${Number(size) + data.length}`;
  }

  async close(): Promise<void> {
    await this.appendFd?.fh.close().catch(() => undefined);
    this.appendFd = null;
  }

  /** Reads the file if it changed since we last saw it; returns the current state (null if none yet). */
  private async refresh(): Promise<UidlistState | null> {
    const stamp = await this.statStamp();
    if (stamp === this.stamp && this.state) return this.state;
    let text: string | null = null;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const parsed = text === null ? null : parseUidlist(text, this.intern);
    // UIDs only grow: never let a re-read move nextUid backwards.
    if (parsed && this.state && parsed.uidValidity === this.state.uidValidity) {
      parsed.nextUid = Math.max(parsed.nextUid, this.state.nextUid);
    }
    this.setState(parsed);
    this.stamp = stamp;
    return parsed;
  }

  /** The folder's GUID (the header's G), once loaded. */
  get guid(): string | null {
    return this.state?.guid ?? null;
  }

  /** The ext fields Dovecot or we wrote for a file (other than W). */
  extOf(basename: string): readonly string[] {
    return this.byName.get(basename)?.ext ?? NO_EXT;
  }

  private setState(state: UidlistState | null): void {
    this.state = state;
    this.byName = new Map(state ? state.records.map((r) => [r.basename, r]) : []);
  }

  /** The current state, read from disk if it changed. */
  read(): Promise<UidlistState | null> {
    return this.mutex.run(() => this.refresh());
  }

  /** The record for a basename as last read (no I/O). */
  recordOf(basename: string): UidRecord | undefined {
    return this.byName.get(basename);
  }

  /**
   * Returns the record of each entry, giving each basename not yet listed the
   * next UID in the order given; new records are on disk before this resolves.
   * Names listed meanwhile by another process keep the UID it gave them.
   */
  assign(
    entries: Array<{ basename: string; vsize: number | null; ext?: string[] }> | Promise<Array<{ basename: string; vsize: number | null; ext?: string[] }>>,
  ): Promise<{ state: UidlistState; records: UidRecord[]; renumbered?: { from: number; to: number } }> {
    // `entries` may still be being computed (sizes read from disk): taking the lock overlaps with that.
    return this.mutex.run(() =>
      withDotlock(this.file, LOCK, async () => {
        let state = await this.refresh();
        if (!state) {
          state = { uidValidity: newUidValidity(), nextUid: 1, guid: crypto.randomBytes(16).toString('hex'), records: [] };
          await this.writeWhole(state);
          this.setState(state);
        }
        const list = await entries;
        let unlisted = 0;
        for (const e of list) if (!this.byName.has(e.basename)) unlisted++;
        // That counts a name given twice twice: exactly only when it matters.
        if (state.nextUid + unlisted > MAX_UID) unlisted = new Set(list.filter((e) => !this.byName.has(e.basename)).map((e) => e.basename)).size;
        let renumbered: { from: number; to: number } | undefined;
        // UIDNEXT must be a 32-bit number too: UID 4294967295 itself is never handed out.
        if (state.nextUid + unlisted > MAX_UID) {
          renumbered = { from: state.uidValidity, to: 0 };
          state = await this.renumber(state);
          renumbered.to = state.uidValidity;
        }
        const added: UidRecord[] = [];
        const fresh = new Map<string, UidRecord>();
        let next = state.nextUid;
        const records = list.map((e) => {
          let rec = this.byName.get(e.basename) ?? fresh.get(e.basename);
          if (!rec) {
            rec = { uid: next++, basename: e.basename, ext: e.ext?.length ? e.ext : NO_EXT, vsize: e.vsize };
            fresh.set(e.basename, rec);
            added.push(rec);
          }
          return rec;
        });
        if (added.length) {
          // Only once the records are on disk do they exist for anyone, us included.
          await this.appendRecords(added.map(formatRecord).join(''));
          state.nextUid = next;
          for (const r of added) state.records.push(r); // no spread: 125,000+ arguments overflow the stack
          for (const r of added) this.byName.set(r.basename, r);
        }
        return { state, records, renumbered };
      }),
    );
  }

  /**
   * The UIDs would pass 2^32 - 1: every record is numbered again from 1, in
   * the same order, under a new UIDVALIDITY greater than the old one (RFC 3501
   * §2.3.1.1 allows this, and clients then forget their UIDs). Under the lock.
   */
  private async renumber(old: UidlistState): Promise<UidlistState> {
    let uidValidity = Math.max(newUidValidity(), old.uidValidity + 1);
    if (uidValidity > MAX_UID) uidValidity = newUidValidity(); // cannot grow past 32 bits: the clock's value
    const records = old.records.map((r, i) => ({ ...r, uid: i + 1 }));
    const state: UidlistState = { uidValidity, nextUid: records.length + 1, guid: old.guid, records };
    await this.writeWhole(state);
    this.setState(state);
    return state;
  }

  /**
   * Rewrites the file keeping only records whose basename is in `keep`
   * (the messages still on disk), with their known sizes. Atomic: temp + rename.
   */
  rewrite(keep: Map<string, number | null>): Promise<void> {
    return this.mutex.run(() =>
      withDotlock(this.file, LOCK, async () => {
        const state = await this.refresh();
        if (!state) return;
        state.records = state.records.filter((r) => keep.has(r.basename));
        for (const r of state.records) r.vsize = keep.get(r.basename) ?? r.vsize;
        await this.writeWhole(state);
        this.setState(state);
      }),
    );
  }

  private async writeWhole(state: UidlistState): Promise<void> {
    // One writer at a time (the mutex in this process, the dotlock across processes): the pid is unique enough.
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      try {
        await fh.writeFile(formatHeader(state) + state.records.map(formatRecord).join(''));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, this.file);
    } catch (err) {
      await fs.unlink(tmp).catch(() => undefined); // a full disk leaves no temp file behind
      throw err;
    }
    this.stamp = await this.statStamp();
  }
}

let lastValidity = 0;
/** Time-based like Dovecot's, and unique within this process. */
function newUidValidity(): number {
  lastValidity = Math.max(Math.floor(Date.now() / 1000), lastValidity + 1);
  return lastValidity;
}
