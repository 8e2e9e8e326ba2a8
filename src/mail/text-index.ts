// The per-folder body-text index behind SEARCH TEXT / BODY: a cache in the
// folder's directory, `maildir-imapd-text`, that turns a search for a word
// into a dictionary scan instead of a read of every message.
//
// What it holds: for every message (by basename, which a flag rename keeps),
// the distinct maximal word runs of its folded header text and of its folded
// body text, exactly as facts.ts gives them to the evaluator (see
// text-index-tokens.ts for why candidates from it are exact or a superset).
// In memory it is a list of immutable segments (dictionary string + varint
// posting lists, text-index-tokens.ts); the file is the same segments as
// records. New messages are indexed when a TEXT/BODY search finds them
// missing (never on the push path), by worker threads (text-index-parse.ts)
// that read, decode and tokenise, so the event loop only appends finished
// segments. Many small segments are merged into one (compaction, also in a
// worker), which also drops expunged messages.
//
// File: MAGIC, then records [u32 length][u32 CRC-32 of payload][payload],
// each payload one encoded segment. A torn tail (kill -9 mid-append) or a bad
// record truncates the file at the last good record; a wrong magic (version,
// garbage) empties it. Whatever was lost is indexed again on the next search.
// Messages indexed but expunged since are ignored (results are filtered by
// the view's messages) and dropped at the next compaction.
//
// Layout, by measurement (50,000 generated messages, 1.2 GB: 520k distinct
// tokens, 7.7M dictionary characters, 27 MB of varint postings): as one
// segment it takes 18 MiB of heap plus 30 MiB of array buffers, decodes from
// the file in ~0.3 s and a substring scan of the dictionary string takes
// ~12 ms (the dictionary is now UTF-8 bytes, not a string: see Segment).
// The same data as Map<string, Uint32Array> took 134 MiB of heap plus 40 MiB
// of buffers, 5.6 s to build, and 168 ms to scan its keys.
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { Mutex } from './mutex.js';
import type { Mailbox, MessageMeta } from './mailbox.js';
import type { TextHint, UidView } from './handles.js';

import { IN_BODY, IN_HEADER, candidatesOf, heldPostings, planQuery, revived, segmentBytes, termTokens, type PostingBytes, type QueryPlan, type Segment } from './text-index-tokens.js';
import type { ParseRequest, ParseResult } from './text-index-parse.js';
import { WorkerPool } from '../runtime/worker-pool.js';
import { cacheShare } from '../runtime/memory-budget.js';
import { MAGIC } from './text-index-file.js';

export const TEXT_INDEX_FILE = 'maildir-imapd-text';

export const textIndexOptions = {
  enabled: true,
  /** Folders smaller than this are searched the plain way (a few file reads; no index file). */
  minMessages: 64,
  /** A term matching more dictionary tokens than this (per segment) is not worth the index: plain search. */
  maxTokensPerTerm: 20_000,
  /** Compaction once a folder has more segments than this. */
  compactAt: 8,
  /**
   * A compaction merges the newest segments up to this many bytes together, never more: it reads
   * them whole into a build thread (capped at 128 MB; merging a 50,000-message folder's 53 MB whole
   * once took a thread's heap past 300 MB). Older segments at this size stay as they are, so a folder
   * has about its index size / this many segments.
   */
  mergeMaxBytes: 8 * 1024 * 1024,
  /**
   * In-memory budget over all folders; least recently searched folders are dropped (reloaded from disk
   * later). The folder being searched is kept whatever its size. 128 MiB with 8 GB or more (runtime/memory-budget.ts).
   */
  memoryBytes: cacheShare('textIndex'),
  /**
   * A folder's index not searched for this long leaves memory (and so does the index of a folder
   * no session has open, at the next sweep: it served only their searches); the next
   * search reads it back from the file (~0.3 s at 50,000 messages, where a search without it reads
   * every message). At 50,000 messages it is ~50 MB that a folder otherwise held as long as it was open.
   */
  idleMs: 60_000,
  /** How often indexes to drop (idleMs, or no session) are looked for. */
  sweepMs: 10_000,
  /** Parse threads (the event loop keeps its own core when there are two). */
  workers: Math.max(1, Math.min(2, os.availableParallelism())),
};

// ---------------------------------------------------------------------------
// Worker pool

/**
 * Builds (one batch of at most 2,048 messages per job) and compactions (at most mergeMaxBytes), so a
 * capped heap: a thread that meets it dies, and that search runs the plain way (a compaction waits for the next).
 */
const pool = new WorkerPool<ParseRequest, ParseResult>({
  name: 'text index',
  script: new URL('./text-index-parse.js', import.meta.url),
  maxThreads: textIndexOptions.workers,
  // As the message loader's threads (loader.ts): mostly short-lived garbage, so a small young generation.
  resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 },
  // A build's jobs follow each other at once; then the threads' heaps go back within a second.
  idleMs: 1_000,
});

/**
 * Loads: a load reads the folder's whole index file (53 MB at 50,000
 * messages; the postings stay in the file), so no heap cap, but one thread,
 * and it ends soon after.
 */
const wholeFilePool = new WorkerPool<ParseRequest, ParseResult>({
  name: 'text index file',
  script: new URL('./text-index-parse.js', import.meta.url),
  maxThreads: 1,
  resourceLimits: { maxYoungGenerationSizeMb: 8 },
  idleMs: 2_000,
});

// ---------------------------------------------------------------------------
// One folder

class FolderIndex {
  readonly file: string;
  segs: Segment[] = [];
  /** Basenames of every indexed message (those of segs). */
  indexed = new Set<string>();
  private loaded: Promise<void> | null = null;
  /** One update (load, index missing messages) at a time. */
  private readonly mutex = new Mutex();
  /**
   * File operations, in order, shared with any other FolderIndex of the same
   * folder (one made after this one was dropped from memory while its
   * compaction still ran): a load never reads the file while a rename replaces it.
   */
  private readonly fileOps: Mutex;
  /**
   * Evicted: this object is out of `folders` for good. A build or compaction still running in it
   * (a search whose session left) writes nothing more, applies no result and keeps no file open:
   * a new FolderIndex of the folder may own the file.
   */
  private dead = false;
  private persist = true;
  private fileLen = 0;
  /** Segments whose record is in the file (the first `appended` of segs). */
  private appended = 0;
  private compacting: Promise<void> | null = null;
  /**
   * The file, open, for the postings segments left in it (Segment.postAt).
   * A compaction replaces the file: the segments are pointed at the new one
   * (new Segment objects: a search under way keeps the list and the handle
   * it started with) and the old handle closes when no search uses it.
   */
  private fh: PostingsFile | null = null;
  bytes = 0;
  /** When a search or a preload last used it, and searches under way (never dropped while one runs). */
  lastUsed = Date.now();
  busy = 0;

  constructor(readonly mailbox: Mailbox) {
    this.file = path.join(mailbox.maildir.root, TEXT_INDEX_FILE);
    let ops = fileMutexes.get(mailbox);
    if (!ops) fileMutexes.set(mailbox, (ops = new Mutex()));
    this.fileOps = ops;
  }

  /**
   * The folder's messages known to be in the index, by identity (a search
   * then checks 50,000 messages in about a millisecond, where a lookup by
   * basename string costs tens), and by basename for mapping hits back.
   * Rebuilt when it holds too many expunged messages.
   */
  private known = new Set<MessageMeta>();
  private byName = new Map<string, MessageMeta>();

  /**
   * Loads the file and indexes every message of the folder not in it yet
   * (under the mutex). Returns what the index cannot answer for: messages
   * that could not be read, and the UID above which nothing was looked at.
   */
  update(): Promise<{ unread: MessageMeta[]; coveredMax: number; byName: Map<string, MessageMeta> }> {
    return this.mutex.run(async () => {
      await (this.loaded ??= this.load());
      const all = this.mailbox.all;
      if (this.known.size > all.length + 1024) this.forgetKnown();
      const coveredMax = all.length ? all[all.length - 1].uid : 0;
      let missing: MessageMeta[] = [];
      for (const m of all) if (!this.known.has(m)) missing.push(m);
      if (missing.length) {
        // By basename (after a load or a compaction: all of them), in slices: 50,000 cost 150 ms.
        const fresh: MessageMeta[] = [];
        // A file that may still be being written is searched the plain way until it settles (Mailbox.settled).
        await inSlices(missing, (m) => {
          if (!this.indexed.has(m.basename) && this.mailbox.settled(m)) fresh.push(m);
        });
        if (fresh.length) await this.index(fresh);
        const unread: MessageMeta[] = [];
        await inSlices(missing, (m) => {
          if (!this.indexed.has(m.basename)) unread.push(m);
          else {
            this.known.add(m);
            this.byName.set(m.basename, m);
          }
        });
        missing = unread;
      }
      // The map as it is now: a compaction finishing before the search reads it starts a new, empty one.
      return { unread: missing, coveredMax, byName: this.byName };
    });
  }

  preload(): Promise<void> {
    return this.mutex.run(() => (this.loaded ??= this.load()));
  }

  private forgetKnown(): void {
    this.known = new Set();
    this.byName = new Map();
  }


  private async load(): Promise<void> {
    this.segs = [];
    this.indexed = new Set();
    this.forgetKnown();
    this.appended = 0;
    this.bytes = 0;
    await this.fileOps.run(async () => {
      this.closeFile();
      // Opened before the worker reads it: the segments' postings are read through this handle.
      const fh = await PostingsFile.open(this.file);
      let r: ParseResult = { segs: [], good: 0, size: -1 };
      if (fh) r = await wholeFilePool.run({ op: 'load', file: this.file }).catch(() => r);
      this.fh = fh;
      for (const seg of r.segs ?? []) this.add(seg);
      this.appended = this.segs.length;
      try {
        if (r.size! < 0 || r.good! < MAGIC.length) {
          // missing, wrong version or garbage: start a new file
          this.closeFile();
          await fs.writeFile(this.file, MAGIC, { mode: 0o600 });
          this.fh = await PostingsFile.open(this.file);
          this.fileLen = MAGIC.length;
        } else {
          if (r.good! < r.size!) await fs.truncate(this.file, r.good); // torn tail
          this.fileLen = r.good!;
        }
      } catch {
        this.persist = false; // a folder we may not write: the index lives in memory only
      }
    });
  }

  /** A segment from a worker thread (its dictionary bytes arrive as a plain Uint8Array). */
  private add(seg: Segment): void {
    revived(seg);
    this.segs.push(seg);
    for (const n of seg.names) this.indexed.add(n);
    this.bytes += segmentBytes(seg);
  }

  private async index(missing: MessageMeta[]): Promise<void> {
    const per = Math.max(64, Math.min(2048, Math.ceil(missing.length / (4 * textIndexOptions.workers))));
    const jobs: Promise<void>[] = [];
    const root = this.mailbox.maildir.root;
    for (let i = 0; i < missing.length; i += per) {
      if (i) await new Promise((resolve) => setImmediate(resolve)); // each batch's lists are built in a turn of their own
      const batch = missing.slice(i, i + per);
      const names = batch.map((m) => m.basename);
      // Relative names (the worker joins them to root): path.join per message cost 16 µs, 0.8 s of event loop at 50,000.
      const files = batch.map((m) => `${m.sub}/${m.filename}`);
      const job = pool.run({ op: 'build', root, names, files }).then((r) => {
          const seg = r.seg!;
          if (!seg.names.length) return;
          this.add(seg);
          // awaited with the rest: cheap, and the file then holds what memory does when the search answers
          if (this.persist) return this.append(r.record!, seg);
        });
      job.catch(() => undefined); // rejections are seen by Promise.all below, not as unhandled meanwhile
      jobs.push(job);
    }
    await Promise.all(jobs);
    if (this.segs.length > textIndexOptions.compactAt) void this.compact();
  }

  /** Appends `seg`'s record; its postings then leave memory (they are the record's last bytes). */
  private append(record: Uint8Array, seg: Segment): Promise<void> {
    return this.fileOps.run(async () => {
      if (!this.persist || this.dead) return;
      try {
        await fs.appendFile(this.file, record, { mode: 0o600 });
        const end = this.fileLen + record.length;
        this.fileLen = end;
        this.appended++;
        if (this.fh) this.leaveInFile(seg, end);
      } catch {
        this.persist = false;
      }
    });
  }

  /** `seg`'s postings are the bytes of the file that end at `end`: they leave memory. */
  private leaveInFile(seg: Segment, end: number): void {
    const i = this.segs.indexOf(seg);
    if (i < 0) return;
    const len = seg.post.byteLength;
    this.segs[i] = { ...seg, post: new Uint8Array(0), postAt: end - len };
    this.bytes -= len;
  }

  private closeFile(): void {
    this.fh?.retire();
    this.fh = null;
  }

  /** Merges all segments into one (in a worker, from the file) and rewrites the file; drops expunged messages. */
  compact(): Promise<void> {
    if (!this.persist || this.dead) return Promise.resolve();
    return (this.compacting ??= this.compactNow().finally(() => (this.compacting = null)));
  }

  private async compactNow(): Promise<void> {
    const tmp = `${this.file}.tmp${process.pid}`;
    try {
      let upTo = 0;
      let k = 0;
      await this.fileOps.run(async () => {
        upTo = this.fileLen;
        k = this.appended;
      });
      // The newest segments whose bytes together stay within mergeMaxBytes (at least two).
      let from = k;
      // (Counted with their postings, in memory or not: the merge holds them all.)
      const size = (seg: Segment) => segmentBytes(seg) + (seg.postAt === undefined ? 0 : seg.postOff[seg.postOff.length - 1]);
      for (let bytes = 0; from > 0 && bytes + size(this.segs[from - 1]) <= textIndexOptions.mergeMaxBytes; ) bytes += size(this.segs[--from]);
      if (k - from < 2) return;
      // Only the names to leave out cross to the thread (the folder's 50,000 names did, each time).
      const drop: string[] = [];
      for (let i = from; i < k; i++) for (const n of this.segs[i].names) if (!this.mailbox.holds(n)) drop.push(n);
      // A build thread, alive or capped like one: reading at most mergeMaxBytes, the merge needs no more, and a
      // thread of its own (wholeFilePool's) cost ~90 MB of RSS on top of the build's (issue 14).
      const r = await pool.run({ op: 'compact', file: this.file, upTo, from, drop, tmp });
      await this.fileOps.run(async () => {
        if (!this.persist || this.dead) {
          await fs.rm(tmp, { force: true }); // evicted meanwhile: its state is gone, the file stays as it is
          return;
        }
        try {
          // records appended meanwhile follow the merged one
          if (this.fileLen > upTo) {
            const fh = await fs.open(this.file, 'r');
            try {
              const tail = Buffer.allocUnsafe(this.fileLen - upTo);
              await fh.read(tail, 0, tail.length, upTo);
              await fs.appendFile(tmp, tail, { mode: 0o600 });
            } finally {
              await fh.close();
            }
          }
          await fs.rename(tmp, this.file);
        } catch {
          await fs.rm(tmp, { force: true });
          return;
        }
        // Opened before the lists change: from here to the end nothing awaits, so no search sees them half made.
        const fh = await PostingsFile.open(this.file);
        if (this.dead) {
          fh?.retire(); // evicted while the file was replaced: nothing here reads it
          return;
        }
        const before = this.segs.slice(0, from);
        const rest = this.segs.slice(k);
        this.segs = [];
        this.indexed = new Set(); // rebuilt from the segments: the merge dropped expunged messages
        // `known` stays: every message in it is still indexed (the merge kept every message of the folder).
        // Clearing it here, while an update() was adding to it, lost messages from that search's answer.
        this.bytes = 0;
        // The new file: the records before `from` where they were, the merged one, then those
        // appended meanwhile, moved by the difference. Postings are read from it from now on.
        const shift = r.size! - upTo;
        for (const s of before) this.add(s);
        const merged = r.seg!;
        this.add(merged);
        for (const s of rest) this.add(s.postAt === undefined ? s : { ...s, postAt: s.postAt + shift });
        this.closeFile();
        this.fh = fh;
        // Its postings are in the new file (postAt); without the file the next search loads again.
        if (!fh) this.loaded = null;
        this.fileLen = r.size! + (this.fileLen - upTo);
        this.appended = from + 1 + (this.appended - k);
      });
    } catch {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  /** Drops the in-memory index (it is reloaded from the file when next needed). */
  evict(): Promise<void> {
    this.dead = true;
    return this.mutex.run(async () => {
      await this.fileOps.run(async () => undefined);
      this.loaded = null;
      this.segs = [];
      this.indexed = new Set();
      this.forgetKnown();
      this.bytes = 0;
      this.closeFile();
    });
  }

  /**
   * The messages that may contain the plan's terms (in `parts`), or null if
   * the index cannot say cheaply, found by basename in `byName` (from
   * update(): expunged ones are not in it).
   */
  async candidates(plan: QueryPlan, parts: number, byName: Map<string, MessageMeta>): Promise<Set<MessageMeta> | null> {
    // The list and the file it points into, as they are now: a compaction meanwhile replaces both.
    const segs = this.segs;
    const file = this.fh;
    file?.use();
    try {
      const hits = new Set<MessageMeta>();
      for (const seg of segs) {
        const tokens = termTokens(seg, plan.terms, textIndexOptions.maxTokensPerTerm);
        if (!tokens) return null;
        let from: PostingBytes = heldPostings(seg);
        if (seg.postAt !== undefined) {
          if (!file) return null;
          from = await readPostings(file.fh, seg.postAt, seg, tokens.flat());
        }
        for (const l of candidatesOf(seg, tokens, parts, from)) {
          const m = byName.get(seg.names[l]);
          if (m) hits.add(m);
        }
      }
      return hits;
    } finally {
      file?.done();
    }
  }
}

/** An open index file that postings are read from; it closes once retired and no search uses it. */
class PostingsFile {
  private users = 0;
  private retired = false;
  private constructor(readonly fh: fs.FileHandle) {}

  static async open(file: string): Promise<PostingsFile | null> {
    const fh = await fs.open(file, 'r').catch(() => null);
    return fh && new PostingsFile(fh);
  }

  use(): void {
    this.users++;
  }

  done(): void {
    if (--this.users === 0 && this.retired) void this.fh.close().catch(() => undefined);
  }

  retire(): void {
    this.retired = true;
    if (this.users === 0) void this.fh.close().catch(() => undefined);
  }
}

/** Postings closer than this are read together, with what lies between. */
const READ_GAP = 16 * 1024;

/** The postings of `tokens` of a segment whose postings start at `postAt` in `fh`: one read per run of nearby ones. */
async function readPostings(fh: fs.FileHandle, postAt: number, seg: Segment, tokens: number[]): Promise<PostingBytes> {
  const off = seg.postOff;
  const sorted = [...new Set(tokens)].sort((a, b) => off[a] - off[b]);
  const runs: Array<{ from: number; to: number; base: number }> = [];
  const at = new Map<number, number>();
  let total = 0;
  for (const t of sorted) {
    let run = runs[runs.length - 1];
    if (!run || off[t] - run.to > READ_GAP) {
      run = { from: off[t], to: off[t], base: total };
      runs.push(run);
    }
    run.to = Math.max(run.to, off[t + 1]);
    total = run.base + run.to - run.from;
    at.set(t, run.base + off[t] - run.from);
  }
  const bytes = Buffer.allocUnsafe(total);
  await Promise.all(
    runs.map(async (r) => {
      const { bytesRead } = await fh.read(bytes, r.base, r.to - r.from, postAt + r.from);
      if (bytesRead !== r.to - r.from) throw new Error('text index file shorter than its segments');
    }),
  );
  return { bytes, at: (t) => at.get(t) ?? 0 };
}

/** fn over items, yielding to the event loop every few thousand (each slice stays well under 50 ms). */
async function inSlices<T>(items: readonly T[], fn: (item: T) => void): Promise<void> {
  const SLICE = 4096;
  for (let i = 0; i < items.length; i += SLICE) {
    if (i) await new Promise((resolve) => setImmediate(resolve));
    const end = Math.min(items.length, i + SLICE);
    for (let j = i; j < end; j++) fn(items[j]);
  }
}

const folders = new Map<Mailbox, FolderIndex>(); // least recently used first
const fileMutexes = new WeakMap<Mailbox, Mutex>();

function folderIndex(mailbox: Mailbox): FolderIndex {
  let fi = folders.get(mailbox);
  if (fi) folders.delete(mailbox);
  else fi = new FolderIndex(mailbox);
  folders.set(mailbox, fi);
  fi.lastUsed = Date.now();
  idleSweep ??= setInterval(dropIdle, Math.min(textIndexOptions.sweepMs, Math.max(1000, textIndexOptions.idleMs / 2))).unref();
  return fi;
}

let idleSweep: NodeJS.Timeout | null = null;

/**
 * Drops the indexes nobody searched for textIndexOptions.idleMs, and those of folders no session has
 * open (their files stay). Not one in use: a search whose session left meanwhile finishes first.
 */
function dropIdle(): void {
  const now = Date.now();
  for (const [mb, fi] of folders) {
    if (fi.busy || (mb.viewCount > 0 && now - fi.lastUsed < textIndexOptions.idleMs)) continue;
    folders.delete(mb);
    void fi.evict();
  }
  if (!folders.size && idleSweep) {
    clearInterval(idleSweep);
    idleSweep = null;
  }
}

function enforceBudget(current: FolderIndex): void {
  let total = 0;
  for (const fi of folders.values()) total += fi.bytes;
  for (const [mb, fi] of folders) {
    if (total <= textIndexOptions.memoryBytes) break;
    if (fi === current || fi.busy) continue;
    total -= fi.bytes;
    folders.delete(mb);
    void fi.evict();
  }
}

// ---------------------------------------------------------------------------
// The evaluator's interface

/**
 * The hint for TEXT (`bodyOnly` false) or BODY `value` (folded, as the
 * parser gives it) over `view`, or null when the index does not apply (small
 * folder, no word characters in `value`, a too common fragment).
 */
export async function textHint(mailbox: Mailbox, view: UidView, value: string, bodyOnly: boolean): Promise<TextHint | null> {
  if (!textIndexOptions.enabled || mailbox.count < textIndexOptions.minMessages) return null;
  const plan = planQuery(value);
  if (!plan) return null;
  const fi = folderIndex(mailbox);
  let up: Awaited<ReturnType<FolderIndex['update']>>;
  fi.busy++;
  try {
    up = await fi.update();
  } catch {
    return null; // a worker died (out of memory?): search the plain way
  } finally {
    fi.busy--;
    fi.lastUsed = Date.now();
  }
  const { unread, coveredMax, byName } = up;
  let hits: Set<MessageMeta> | null;
  fi.busy++;
  try {
    hits = await fi.candidates(plan, bodyOnly ? IN_BODY : IN_HEADER | IN_BODY, byName);
  } catch {
    hits = null; // the file could not be read: search the plain way
  } finally {
    fi.busy--;
  }
  enforceBudget(fi);
  if (!hits) return null;
  // Every message of the view that is not expunged was in the folder when update() ran, and so is
  // indexed or unread, unless its UID is above coveredMax (arrived since): those are evaluated.
  const match = new Set<number>();
  const maybe = new Set<number>();
  for (const m of hits) if (view.seqOf(m.uid)) (plan.exact ? match : maybe).add(m.uid);
  for (const m of unread) maybe.add(m.uid);
  const uids = view.uidList;
  for (let i = uids.length - 1; i >= 0 && uids[i] > coveredMax; i--) maybe.add(uids[i]);
  return { match, maybe };
}

/**
 * Loads a folder's index file in the background if it has one (for SELECT:
 * the first TEXT search after a restart then skips the load). Never indexes.
 */
export function preloadTextIndex(mailbox: Mailbox): void {
  if (!textIndexOptions.enabled || mailbox.count < textIndexOptions.minMessages || folders.has(mailbox)) return;
  void fs
    .access(path.join(mailbox.maildir.root, TEXT_INDEX_FILE))
    .then(() => folderIndex(mailbox).preload())
    .catch(() => undefined);
}

/** For tests and the benchmark: the in-memory size and shape of a folder's index. */
export function textIndexStats(mailbox: Mailbox): { segments: number; messages: number; bytes: number; postingsHeld: number } | null {
  const fi = folders.get(mailbox);
  return fi ? { segments: fi.segs.length, messages: fi.indexed.size, bytes: fi.bytes, postingsHeld: fi.segs.reduce((n, s) => n + s.post.byteLength, 0) } : null;
}

/** Indexes the folder's missing messages now and merges the segments (tests, benchmark, warm-up). */
export async function buildTextIndex(mailbox: Mailbox, compact = true): Promise<void> {
  const fi = folderIndex(mailbox);
  await fi.update();
  if (compact && fi.segs.length > 1) await fi.compact();
}

/** Forgets a folder's text index, in memory and its file (the admin command's reindex); the next TEXT/BODY search rebuilds it. */
export async function dropTextIndex(mailbox: Mailbox): Promise<void> {
  const fi = folders.get(mailbox);
  if (fi) {
    await fi.evict();
    folders.delete(mailbox);
  }
  await fs.rm(path.join(mailbox.maildir.root, TEXT_INDEX_FILE), { force: true });
}

/** The in-memory size of every folder's word index (the SIGUSR2 report). */
export function textIndexBytes(): number {
  let total = 0;
  for (const fi of folders.values()) total += fi.bytes;
  return total;
}

/** Forgets a folder's in-memory index (its Mailbox is dropped from memory; the file stays). */
export function forgetTextIndex(mailbox: Mailbox): void {
  void folders.get(mailbox)?.evict(); // closes its file
  folders.delete(mailbox);
}

/** Forgets every in-memory index (tests: as after a restart). */
export function resetTextIndexes(): void {
  for (const fi of folders.values()) void fi.evict();
  folders.clear();
  if (idleSweep) clearInterval(idleSweep);
  idleSweep = null;
}
