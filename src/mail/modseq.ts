// MODSEQs for CONDSTORE/QRESYNC (RFC 7162), kept on disk across restarts.
//
// Dovecot keeps these in its binary index; Maildir itself has no place for
// them, so each folder gets our own small append-only log beside the uidlist:
//
//   maildir-imapd-modseq          (Dovecot ignores unknown files)
//   V <uidvalidity>               header
//   R <n>                         every modseq below n may have been handed out
//   <uid> <modseq> <info>         the message's flags (Maildir letters) as of that modseq
//   x <uid> <modseq>              the message was expunged at that modseq
//
// Modseqs are handed out from a reserved block written *before* any is
// used, so after a crash (even one that lost the last lines) the next modseq
// is above everything a client may have seen: HIGHESTMODSEQ never goes back.
// Lines are written in the background, batched; a lost line only means the
// message looks changed once more after a restart, which is always safe.
import { promises as fs } from 'node:fs';
import { writeFileAtomically } from './atomic-write.js';
import path from 'node:path';
import { ModseqTable } from './modseq-table.js';

const FILE = 'maildir-imapd-modseq';
const BLOCK = 1000;
/** Rewrite the log when it holds this many more lines than there are live messages. */
const COMPACT_SLACK = 5000;

interface Entry {
  modseq: number;
  info: string;
}

const scanned = { value: 0, next: 0 };

/**
 * The decimal number at `at` (0 unless it is one: digits only, ending at a
 * space or `end`) and where it ends. Returns a shared object: read it at once.
 */
function numberAt(text: string, at: number, end: number): { value: number; next: number } {
  let v = 0;
  let i = at;
  for (; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  const ok = i > at && (i === end || text.charCodeAt(i) === 32) && Number.isSafeInteger(v);
  scanned.value = ok ? v : 0;
  scanned.next = i;
  return scanned;
}

export class ModseqStore {
  readonly file: string;
  private uidValidity = 0;
  private live = new ModseqTable();
  /** Expunged UIDs with their modseq, ascending by modseq (for VANISHED (EARLIER)). */
  private expunged: Array<[uid: number, modseq: number]> = [];
  private highest = 0;
  private reserved = 0;
  private pending: string[] = [];
  private flushing: Promise<void> | null = null;
  private lines = 0;

  constructor(dir: string) {
    this.file = path.join(dir, FILE);
  }

  get highestModseq(): number {
    return this.highest;
  }

  /** Reads the log; a log for another UIDVALIDITY (or none) starts afresh. */
  async load(uidValidity: number): Promise<void> {
    this.uidValidity = uidValidity;
    this.live.clear();
    // Read into a map (the log is in no UID order), then kept as the table.
    const reading = new Map<number, Entry>();
    this.expunged = [];
    this.highest = 0;
    this.reserved = 0;
    this.lines = 0;
    const text = await fs.readFile(this.file, 'utf8').catch(() => '');
    const first = text.indexOf('\n');
    if (first < 0 || text.slice(0, first) !== `V ${uidValidity}`) {
      await this.rewrite();
      return;
    }
    // One pass over the text, no row or field strings (a first open at 50,000 messages split 50,000
    // rows into arrays: a third of its time). The last row may be torn by a crash: only complete rows count.
    const infos = new Map<string, string>(); // most messages share a few flag sets: one string each
    for (let at = first + 1, end = text.indexOf('\n', at); end >= 0; at = end + 1, end = text.indexOf('\n', at)) {
      this.lines++;
      const c = text.charCodeAt(at);
      if (c === 0x52 /* R */) {
        this.reserved = Math.max(this.reserved, numberAt(text, at + 2, end).value);
      } else {
        const expunge = c === 0x78; /* x */
        let n = numberAt(text, expunge ? at + 2 : at, end);
        const uid = n.value;
        n = numberAt(text, n.next + 1, end);
        const modseq = n.value;
        if (uid > 0 && modseq > 0 && expunge) {
          reading.delete(uid);
          this.expunged.push([uid, modseq]);
          this.highest = Math.max(this.highest, modseq);
        } else if (uid > 0 && modseq > 0) {
          const raw = n.next < end ? text.slice(n.next + 1, end) : '';
          let info = infos.get(raw);
          if (info === undefined) infos.set(raw, (info = raw));
          reading.set(uid, { modseq, info });
          this.highest = Math.max(this.highest, modseq);
        }
      }
    }
    this.live = ModseqTable.fromMap(reading);
    this.expunged.sort((a, b) => a[1] - b[1]);
    // Everything up to the reservation may have been shown to a client.
    this.highest = Math.max(this.highest, this.reserved);
    this.reserved = this.highest + BLOCK;
    await fs.appendFile(this.file, `R ${this.reserved}\n`);
  }

  /**
   * The next modseq. The following block is reserved when half of this one is
   * used, so its line is long on disk before any modseq from it is handed out.
   */
  private next(): number {
    this.highest++;
    if (this.highest >= this.reserved - BLOCK / 2) {
      this.reserved += BLOCK;
      this.pending.push(`R ${this.reserved}`);
    }
    return this.highest;
  }

  /** The modseq of a message, given its current flags: a new message or changed flags get a new one. */
  modseqFor(uid: number, info: string): number {
    const e = this.live.get(uid);
    if (e && e.info === info) return e.modseq;
    const modseq = this.next();
    this.live.set(uid, modseq, info);
    this.pending.push(`${uid} ${modseq} ${info}`);
    this.schedule();
    return modseq;
  }

  /** UIDs the log knows as present; the mailbox expunges the ones no longer on disk. */
  liveUids(): number[] {
    return this.live.uidList();
  }

  /** Records an expunge; returns its modseq. */
  expunge(uid: number): number {
    const modseq = this.next();
    this.live.delete(uid);
    this.expunged.push([uid, modseq]);
    this.pending.push(`x ${uid} ${modseq}`);
    this.schedule();
    return modseq;
  }

  /** UIDs expunged after `modseq` (ascending). */
  expungedSince(modseq: number): number[] {
    const out: number[] = [];
    for (let i = this.expunged.length - 1; i >= 0 && this.expunged[i][1] > modseq; i--) out.push(this.expunged[i][0]);
    return out.sort((a, b) => a - b);
  }

  /** Resolves once everything recorded so far is on disk (tests, shutdown). */
  async durable(): Promise<void> {
    while (this.pending.length || this.flushing) {
      if (this.flushing) await this.flushing;
      else await this.flush();
    }
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      if (batch.length) {
        await fs.appendFile(this.file, batch.join('\n') + '\n');
        this.lines += batch.length;
      }
      if (this.lines > this.live.size + this.expunged.length + COMPACT_SLACK) await this.rewrite();
    } catch (err) {
      // The folder was deleted (or renamed away) meanwhile: there is no log to keep any more.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    } finally {
      this.flushing = null;
      if (this.pending.length) this.schedule();
    }
  }

  /** Writes the whole state to a temp file and renames it over the log. */
  private async rewrite(): Promise<void> {
    this.reserved = Math.max(this.reserved, this.highest + BLOCK);
    const rows = [`V ${this.uidValidity}`, `R ${this.reserved}`];
    for (const [uid, modseq] of this.expunged) rows.push(`x ${uid} ${modseq}`);
    for (const [uid, modseq, info] of this.live.entries()) rows.push(`${uid} ${modseq} ${info}`);
    await writeFileAtomically(this.file, rows.join('\n') + '\n');
    this.lines = rows.length - 2;
  }
}
