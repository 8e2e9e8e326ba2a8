// The live, shared state of one Maildir folder: its messages by UID, and the
// session views listening to it. Disk changes (ours, Postfix's, anyone's)
// come in through the watcher and go out to every view.
import { promises as fs } from 'node:fs';
import type { Logger } from 'pino';
import { Maildir, parseName, splitName, basenameOf, curName, sortLetters, stampInodes, type Sub, type ScannedFile, type ParsedName } from './maildir.js';
import { Uidlist, MAX_UID, type UidRecord, type UidlistState } from './uidlist.js';
import { KeywordTable, MAX_KEYWORDS } from './keywords.js';
import { MailError, MessageGoneError, isDiskFull } from './errors.js';
import type { FlagMode, LoadedMessage, MailboxHandle, MailboxListener, MessageNeeds, MessageRef, PreparedBatch, TextHint, UidView } from './handles.js';
import type { StoredSummary } from '../wire/summary.js';
import { loadMessage, messageRange } from './content.js';
import { previewOfFile } from './preview.js';
import { createHash } from 'node:crypto';

/** PREVIEW texts kept per folder (each at most 200 characters). */
const PREVIEW_CACHE = 10_000;
import { prepareBatch, summariesFor, unreadableFault } from './message-data.js';
import { headerFacts, bodyMatches, type HeaderFacts } from './facts.js';
import { dropTextIndex, textHint } from './text-index.js';
import { READ_MESSAGE } from './message-file.js';
import { systemFlag, systemLetter, isKeywordLetter } from './flags.js';
import { crlfSizeOfFile, crlfSizeAndMtime } from './crlf.js';
import { Mutex } from './mutex.js';
import { FolderWatcher, type FolderEvent } from './watcher.js';
import { MessageIndex } from './message-index.js';
import { ModseqStore } from './modseq.js';
import { readNameList, writeNameList, uidlistStamp, unchangedSince, type NameList } from './name-list.js';
import { FILTERED_MARK } from './delivery.js';
import type { QuotaSink } from './quota.js';

/** A message as the store keeps it: a MessageRef plus where its file is. */
export interface MessageMeta extends MessageRef {
  readonly uid: number;
  readonly basename: string;
  sub: Sub;
  filename: string;
  /** Maildir info letters, sorted (system flags upper-case, keywords a–z). */
  info: string;
  /** CRLF size, once known. */
  vsize: number | null;
  /** File size (,S= in the name, or stat'ed when the quota needs it), once known. */
  size: number | null;
  /** INTERNALDATE: the file's mtime, once stat'ed. */
  mtimeMs: number | null;
  /** CONDSTORE mod-sequence of the message's last change (RFC 7162); 0 until the folder is loaded. */
  modseq: number;
  sentMs: number | null | undefined;
}

/**
 * lingerMs: how long a folder stays watched after its last session closed.
 * idleMs: how long a folder nobody watches or uses stays in memory (its
 * registry then drops it; the next open reads it again from the disk and
 * the persisted index, as after a restart).
 */
export const unloadOptions = { lingerMs: 60_000, idleMs: 10_000 };

/** Messages at most this many found at once get their size computed immediately. */
const EAGER_SIZE_LIMIT = 200;

/**
 * A message file modified less than this long ago may still be being written
 * (a script writing straight into new/ instead of tmp/ then a rename, as
 * Postfix does): what is read of it is answered, but not kept — no W size in
 * the uidlist, no index record, no cached size, date or content — until it has
 * stayed unchanged this long. A writer pausing longer than this still wins.
 * A file linked or renamed into place after its last write (ctime > mtime: the
 * tmp/-then-new/ way of Postfix and every Maildir writer) is whole at once.
 * (Tests of the caches, whose fixtures are written just before, set it to 0.)
 */
export const settleOptions = { ms: 2000 };

/** A user's INBOX filter of mail written into new/ (see Mailbox.arrivals). */
export interface InboxArrivals {
  /** Whether anything would be filtered now (cheap, cached by the filter). */
  wanted(): boolean | Promise<boolean>;
  /** Puts each file where the filter says; answers the ones that stay in INBOX. */
  place(files: ScannedFile[]): Promise<ScannedFile[]>;
}

export class Mailbox implements MailboxHandle {
  readonly maildir: Maildir;
  readonly uidlist: Uidlist;
  readonly keywords: KeywordTable;
  readonly modseqs: ModseqStore;
  /** Sizes, dates and the protocol layer's summaries, persisted (a cache; see message-index.ts). */
  readonly index: MessageIndex;
  /** Modseqs are handed out once the log is loaded (it needs the UIDVALIDITY that the first scan reads). */
  private modseqReady = false;
  uidValidity = 0;
  uidNext = 1;
  private readonly messages: MessageMeta[] = []; // ascending UID
  private readonly byBasename = new Map<string, MessageMeta>();
  /** The messages whose file is in new/ (\Recent): every SELECT asks, and a walk over 50,000 took 0.5 ms of each. */
  private readonly inNew = new Set<MessageMeta>();
  /**
   * Messages we saved (APPEND, COPY, MOVE) while no read-write session had
   * the folder open: \Recent for the next one that selects it. (A delivery's
   * \Recent is its file in new/.) Kept in memory: a restart forgets it.
   */
  private readonly unclaimedRecent = new Set<number>();
  private readonly views = new Set<MailboxListener>();
  private readonly mutex = new Mutex();
  private watcher: FolderWatcher | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  private lastScanStamp = '';
  /** Date.now() just before lastScanStamp was taken (the name list's dirty rule). */
  private lastScanAt = 0;
  /** The dir stamp the name list on disk was written with ('' when it is not known to be current). */
  private persistedStamp = '';
  private expungedSinceRewrite = 0;
  private opened: Promise<void> | null = null;
  private indexOpened: Promise<void> | null = null;
  private snapshot: number[] | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  /**
   * New files found while the disk was full could not be given UIDs (the
   * uidlist could not grow): they are left out until there is room, and each
   * periodic check retries. Set while that is so.
   */
  private waitingForSpace = false;
  private spaceWarned = false;
  /** Basenames of messages whose files were modified within settleOptions.ms when last looked at (see settled()). */
  private readonly unsettled = new Set<string>();
  /** PREVIEW texts per UID, at most PREVIEW_CACHE of them (oldest dropped first). */
  private readonly previews = new Map<number, string>();
  /** SAVEDATE per UID once read (see saveDate). */
  private readonly saveDates = new Map<number, number>();
  private settleTimer: NodeJS.Timeout | null = null;
  /**
   * Set on a user's INBOX when mail written into new/ by another program
   * (Postfix's virtual(8)) is filtered: called with such files before they
   * get UIDs, it puts each where the filter says and answers the ones that
   * stay here (maybe renamed, with flags). See MailStore.filterArrivals.
   */
  arrivals: InboxArrivals | null = null;
  /** Kept watched with no session (the filter must see deliveries as they come). */
  private pinned = false;
  /** When a command, a delivery or a session last used this folder (Date.now()); see unloadable(). */
  lastUsed = Date.now();
  /**
   * Messages coming and going are told to the user's quota once the first
   * read is done (what was there before, the quota's own recalculation
   * counts): ours and the watcher's alike, so each is counted once however
   * the news reaches us.
   */
  private reporting = false;

  constructor(
    readonly name: string,
    root: string,
    private readonly log: Logger,
    private readonly rescanMs: number,
    private readonly quota: QuotaSink | null = null,
  ) {
    this.maildir = new Maildir(root);
    // The uidlist and the index name the folder's messages with the folder's own strings.
    const intern = (basename: string) => this.byBasename.get(basename)?.basename;
    this.uidlist = new Uidlist(root, intern);
    this.keywords = new KeywordTable(root);
    this.modseqs = new ModseqStore(root);
    this.index = new MessageIndex(root, log, intern);
  }

  // --- lifecycle ---

  /** Reads the folder once; later calls wait for the same read. */
  load(): Promise<void> {
    this.opened ??= this.mutex.run(async () => {
      await this.keywords.load();
      if (!(await this.openFromNameList())) await this.fullSync();
      await this.loadModseqs();
      this.reporting = true;
    });
    return this.opened;
  }

  /**
   * Takes the state from the persisted name list (see name-list.ts). True
   * when that is all: new/ and cur/ are as the list's scan found them and
   * the uidlist is unchanged, so no readdir is needed. Otherwise, when the
   * uidlist is unchanged, the list still seeds the state and a full sync
   * reconciles it with a readdir (without parsing the uidlist or sizing
   * every message again); with a changed uidlist it is not used. Called
   * with the mutex held, on an empty folder state.
   */
  private async openFromNameList(): Promise<boolean> {
    const { list, damaged } = await readNameList(this.maildir.root);
    if (damaged) this.log.warn({ folder: this.name }, 'the persisted name list is damaged; reading the folder');
    if (!list) return false;
    const [dirStamp, listedUidlist] = await Promise.all([this.maildir.dirStamp(), uidlistStamp(this.maildir.root)]);
    if (listedUidlist !== list.uidlistStamp || listedUidlist === '-') return false;
    this.seed(list);
    if (unchangedSince(list.dirStamp, dirStamp, list.scannedAtMs)) {
      this.lastScanStamp = dirStamp;
      this.lastScanAt = list.scannedAtMs;
      this.persistedStamp = dirStamp;
      return true;
    }
    await this.fullSync();
    return true;
  }

  /** Fills the empty state from a name list whose UIDs the uidlist still has. */
  private seed(list: NameList): void {
    for (const m of list.messages) {
      const { basename, info } = splitName(m.filename);
      const meta: MessageMeta = { uid: m.uid, basename, sub: m.sub, filename: m.filename, info, vsize: m.vsize, size: m.size, mtimeMs: null, modseq: 0, sentMs: undefined };
      if (meta.sub === 'new') this.inNew.add(meta);
      this.messages.push(meta);
      this.byBasename.set(meta.basename, meta);
    }
    this.snapshot = null;
    this.uidValidity = list.uidValidity;
    this.uidNext = list.uidNext;
  }

  /**
   * Writes the name list of the state as of the last full scan, if that
   * differs from the one on disk. Called with the mutex held. A folder we
   * may not write, or a full disk, only costs the next open a readdir.
   */
  private async persistNames(): Promise<void> {
    if (!this.lastScanStamp || this.lastScanStamp === this.persistedStamp || this.waitingForSpace) return;
    const stamp = this.lastScanStamp;
    try {
      const uidlist = await uidlistStamp(this.maildir.root);
      if (uidlist === '-') return;
      await writeNameList(this.maildir.root, {
        uidlistStamp: uidlist,
        dirStamp: stamp,
        scannedAtMs: this.lastScanAt,
        uidValidity: this.uidValidity,
        uidNext: this.uidNext,
        messages: this.messages,
      });
      this.persistedStamp = stamp;
    } catch (err) {
      this.log.debug({ err, folder: this.name }, 'cannot write the name list');
    }
  }

  /**
   * The message index is read on first use, not at open: STATUS and SELECT
   * need none of it, and at 50,000 messages it is ~100 MB to read and check
   * (half of a first open's time). Every reader of it (FETCH data, sizes,
   * dates, SEARCH, SORT) comes through a method of this class that awaits this.
   */
  private indexReady(): Promise<void> {
    this.indexOpened ??= this.index.load().then(async () => {
      // Records of messages gone while we were away (and superseded ones) go; the file is rewritten if mostly garbage.
      await this.index.compact(this.messages.map((m) => m.basename));
    });
    return this.indexOpened;
  }

  /**
   * Loads the modseq log and brings it up to date with what is on disk:
   * messages changed or delivered while we were down get new modseqs, and
   * ones gone meanwhile are recorded as expunged (for QRESYNC's VANISHED).
   */
  private async loadModseqs(): Promise<void> {
    try {
      await this.modseqs.load(this.uidValidity);
    } catch (err) {
      // A folder we may not write: CONDSTORE still works for this run.
      this.log.warn({ err }, 'cannot write the modseq log');
    }
    for (const uid of this.modseqs.liveUids()) if (!this.holdsUid(uid)) this.modseqs.expunge(uid);
    for (const m of this.messages) m.modseq = this.modseqs.modseqFor(m.uid, m.info);
    this.modseqReady = true;
  }

  /** Gives a message a new modseq if its flags changed since the last one (or it is new). */
  private touch(meta: MessageMeta): void {
    if (this.modseqReady) meta.modseq = this.modseqs.modseqFor(meta.uid, meta.info);
  }

  get highestModseq(): number {
    return this.modseqs.highestModseq;
  }

  /** UIDs expunged after `modseq` (QRESYNC's VANISHED (EARLIER)). */
  expungedSince(modseq: number): number[] {
    return this.modseqs.expungedSince(modseq);
  }

  /**
   * Attaches a session's tracker: it gets the current UIDs (`init`), then
   * every change. The first one starts the watcher. A read-write one claims
   * the messages in new/ as \Recent.
   */
  async attach<L extends MailboxListener>(view: L): Promise<L> {
    await this.load();
    return this.mutex.run(async () => {
      // While the folder is watched its state is current (events are applied as they come; the periodic
      // stamp check catches lost ones): a SELECT then needs no readdir, which under load held every other
      // session of the folder behind it.
      if (!this.watcher) {
        this.startWatching();
        await this.fullSyncIfChanged();
      }
      const inNew = [...this.inNew].map((m) => m.uid);
      const unclaimed = [...this.unclaimedRecent].filter((uid) => this.holdsUid(uid));
      view.init(this.uidSnapshot(), [...inNew, ...unclaimed].sort((a, b) => a - b));
      if (!view.readOnly) this.unclaimedRecent.clear();
      this.views.add(view);
      if (!view.readOnly && inNew.length) await this.claimNew(inNew);
      return view;
    });
  }

  /**
   * Keeps the folder watched with no session attached (a user's INBOX whose
   * new mail is filtered: a vacation reply or a fileinto must not wait for
   * the user to log in). Loads it first; idempotent.
   */
  async pin(): Promise<void> {
    this.pinned = true;
    await this.load();
    await this.mutex.run(async () => {
      if (this.watcher) return;
      this.startWatching();
      await this.fullSyncIfChanged();
    });
  }

  detach(view: MailboxListener): void {
    this.views.delete(view);
    this.lastUsed = Date.now();
    if (this.pinned) return;
    // Watching goes on for a while after the last session leaves: clients reconnect often (phones,
    // mbsync runs), and a folder still watched is current, so their SELECT needs no rescan.
    if (this.views.size === 0 && this.watcher && !this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = null;
        if (this.views.size === 0 && !this.pinned) this.stopWatching();
        this.lastUsed = Date.now();
      }, unloadOptions.lingerMs);
      this.lingerTimer.unref();
    }
  }

  get viewCount(): number {
    return this.views.size;
  }

  /**
   * Nothing holds the folder in memory: no session, no watcher, no pin, no
   * work queued, no file waiting to settle, not used for unloadOptions.idleMs.
   * Its state is then only a copy of what is on disk (uidlist, index, modseq
   * log, file names), so dropping it loses nothing.
   */
  unloadable(now: number): boolean {
    return (
      this.views.size === 0 &&
      !this.pinned &&
      !this.watcher &&
      !this.lingerTimer &&
      !this.settleTimer &&
      this.unsettled.size === 0 &&
      !this.waitingForSpace &&
      this.mutex.idle &&
      now - this.lastUsed >= unloadOptions.idleMs
    );
  }

  /** \Recent owed to the next read-write session (see unclaimedRecent), to hand to the folder's next Mailbox. */
  get owedRecent(): number[] {
    return [...this.unclaimedRecent];
  }

  /** The UIDs a previous Mailbox of this folder owed \Recent (it was unloaded before a session claimed them). */
  oweRecent(uids: readonly number[]): void {
    for (const uid of uids) this.unclaimedRecent.add(uid);
  }

  /** Stops watching; resolves once pending index records are written. */
  async close(): Promise<void> {
    this.stopWatching();
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    // The next open (after a restart, or once this folder was dropped) starts from this list.
    if (this.opened) {
      await this.opened.catch(() => undefined);
      await this.mutex
        .run(async () => {
          // A scan whose directories had just changed proves nothing for the next open (the dirty
          // rule): with the folder closing, a scan now is most likely clean and saves that open a readdir.
          if (!unchangedSince(this.lastScanStamp, await this.maildir.dirStamp(), this.lastScanAt)) await this.fullSync();
          await this.persistNames();
        })
        .catch((err) => this.log.warn({ err, folder: this.name }, 'cannot bring the name list up to date'));
    }
    await Promise.all([this.uidlist.close(), this.index.close()]);
  }

  private startWatching(): void {
    this.watcher = new FolderWatcher(this.maildir, (events) => {
      this.mutex.run(() => this.applyEvents(events)).catch((err) => this.backgroundFault(err, 'applying folder events failed'));
    }, (err) => {
      this.log.warn({ err }, 'folder watch failed; rescanning');
      this.requestFullSync();
    });
    // The safety net for events the kernel dropped (inotify overflow, NFS): cheap when nothing changed.
    this.rescanTimer = setInterval(() => this.requestFullSync(true), this.rescanMs);
    this.rescanTimer.unref();
  }

  private stopWatching(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.watcher?.close();
    this.watcher = null;
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.rescanTimer = null;
  }

  /** Brings the state up to date with the disk if anything changed there (STATUS on an unwatched folder); `force` rescans regardless. */
  refresh(force = false): Promise<void> {
    return this.mutex.run(() => (force ? this.fullSync() : this.fullSyncIfChanged()));
  }

  /**
   * The folder was deleted or renamed away: stop watching, and every session
   * with it open sees all its messages expunged. The object stays inert.
   */
  vanish(): void {
    this.stopWatching();
    void this.mutex
      .run(async () => {
        this.forget([...this.messages], false); // DELETE counts what it frees; RENAME frees nothing
        await this.uidlist.close();
      })
      .catch((err) => this.backgroundFault(err, 'closing a vanished mailbox failed'));
  }

  /**
   * A background step (watcher events, a rescan) failed. A folder deleted or
   * renamed meanwhile (another session's DELETE/RENAME, a tool) is no fault:
   * its store drops this object and sessions hear it expunged; logged at
   * debug. Anything else is an error worth a line.
   */
  private backgroundFault(err: unknown, what: string): void {
    if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
      void this.replacedOrGone().then((gone) =>
        gone ? this.log.debug({ err: (err as Error).message }, `${what}: the folder is gone`) : this.log.error({ err }, what),
      );
      return;
    }
    this.log.error({ err }, what);
  }

  /**
   * True if this folder's directory is gone, or is now another folder: a
   * DELETE and CREATE of the same name (new/ or cur/ with other inodes, or
   * not made yet) leave a path that exists but was never ours.
   */
  private async replacedOrGone(): Promise<boolean> {
    if (!(await fs.access(this.maildir.root).then(() => true, () => false))) return true;
    if (!this.lastScanStamp) return false;
    return stampInodes(await this.maildir.dirStamp()) !== stampInodes(this.lastScanStamp);
  }

  private requestFullSync(onlyIfChanged = false): void {
    this.mutex
      .run(() => (onlyIfChanged ? this.fullSyncIfChanged() : this.fullSync()))
      .catch((err) => this.backgroundFault(err, 'mailbox rescan failed'));
  }

  // --- queries ---

  byUid(uid: number): MessageMeta | undefined {
    return this.find(uid);
  }

  /**
   * The message of `uid`, by binary search in the UID snapshot (the same
   * order as `messages`, and one packed array of numbers): a Map of 50,000
   * UIDs held 1.8 MB.
   */
  private find(uid: number): MessageMeta | undefined {
    const uids = this.uidSnapshot();
    let lo = 0;
    let hi = uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = uids[mid];
      if (v === uid) return this.messages[mid];
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  private holdsUid(uid: number): boolean {
    return this.find(uid) !== undefined;
  }

  /**
   * UIDs of all messages, ascending: one array shared by every view in step.
   * New messages are appended to it (a view reads only the part it counts);
   * any other change makes a new array, so what a view holds never shifts.
   */
  uidSnapshot(): readonly number[] {
    return (this.snapshot ??= this.messages.map((m) => m.uid));
  }

  get count(): number {
    return this.messages.length;
  }

  /** Whether a message of this basename is in the folder. */
  holds(basename: string): boolean {
    return this.byBasename.has(basename);
  }

  get all(): readonly MessageMeta[] {
    return this.messages;
  }

  get recentCount(): number {
    let n = this.inNew.size;
    for (const uid of this.unclaimedRecent) if (this.find(uid)?.sub === 'cur') n++;
    return n;
  }

  /** IMAP flags of a message, without \Recent (that belongs to a view). */
  flagsOf(meta: MessageMeta): string[] {
    const out: string[] = [];
    for (const letter of meta.info) {
      if (isKeywordLetter(letter)) {
        const name = this.keywords.nameOf(letter);
        if (name) out.push(name);
      } else {
        const flag = systemFlag(letter);
        if (flag) out.push(flag);
      }
    }
    return out;
  }

  pathOf(meta: MessageMeta): string {
    return this.maildir.file(meta.sub, meta.filename);
  }

  /**
   * Runs `fn` on the message's current path. If the file was renamed under us
   * (another client changed flags), the folder is resynced and `fn` retried;
   * a client storing flags in a loop can rename it again meanwhile, so a few
   * times. A message still not found is gone (MessageGoneError).
   */
  async withFile<T>(meta: MessageMeta, fn: (file: string) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(this.pathOf(meta));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        if (attempt === 3) throw new MessageGoneError(meta.uid);
        await this.mutex.run(() => this.fullSync());
        if (!this.holdsUid(meta.uid)) throw new MessageGoneError(meta.uid);
      }
    }
  }

  /** One warning per unreadable file (a script that delivered as root with 0600, an I/O error). */
  reportUnreadable(meta: MessageMeta, err: unknown): void {
    this.log.warn({ file: this.pathOf(meta), err: (err as Error).message }, 'cannot read a message file');
  }

  /** Rejects unless the message file can be opened for reading (before a literal of it is announced). */
  async checkReadable(meta: MessageMeta): Promise<void> {
    await this.withFile(meta, async (file) => (await fs.open(file, READ_MESSAGE)).close());
  }

  async vsizeOf(meta: MessageMeta): Promise<number> {
    if (meta.vsize === null) await this.indexReady();
    meta.vsize ??= this.index.get(meta.basename)?.vsize ?? null;
    if (meta.vsize !== null) return meta.vsize;
    const vsize = await this.withFile(meta, crlfSizeOfFile);
    if (this.settled(meta)) meta.vsize = vsize;
    return vsize;
  }

  async internalDate(meta: MessageMeta): Promise<Date> {
    if (meta.mtimeMs === null) await this.indexReady();
    meta.mtimeMs ??= this.index.get(meta.basename)?.mtimeMs ?? null;
    if (meta.mtimeMs !== null) return new Date(meta.mtimeMs);
    const { mtimeMs } = await this.withFile(meta, (f) => fs.stat(f));
    if (this.settled(meta)) meta.mtimeMs = mtimeMs;
    return new Date(mtimeMs);
  }

  async preview(meta: MessageMeta, lazy: boolean): Promise<string | null> {
    const cached = this.previews.get(meta.uid);
    if (cached !== undefined) return cached;
    const made = this.withFile(meta, previewOfFile).then((text) => {
      if (this.settled(meta)) {
        if (this.previews.size >= PREVIEW_CACHE) this.previews.delete(this.previews.keys().next().value!);
        this.previews.set(meta.uid, text);
      }
      return text;
    });
    if (!lazy) return made;
    made.catch(() => undefined); // RFC 8970 §3.2: LAZY may answer NIL; the next ask finds it made
    return null;
  }

  get mailboxId(): string {
    return this.uidlist.guid ?? '';
  }

  /**
   * EMAILID: the message GUID in the uidlist record (ext field G: Dovecot's,
   * or the one a COPY/MOVE carried over) when there is one, else a digest of
   * the file's unique name (flag changes do not touch it), 128 bits in hex
   * like Dovecot's GUIDs so that a copy can record it as its G.
   */
  emailId(meta: MessageMeta): string {
    const g = this.uidlist.extOf(meta.basename).find((e) => /^G[0-9a-f]{8,64}$/i.test(e));
    return g ? g.slice(1).toLowerCase() : createHash('sha1').update(meta.basename).digest('hex').slice(0, 32);
  }

  /**
   * SAVEDATE: the file's ctime when first asked, kept for the life of the
   * folder object. A Maildir keeps no save time of its own; ctime is when the
   * file was linked or renamed into this folder (delivery, APPEND, COPY, MOVE),
   * and a flag change renames it too, so the first answer is the one kept
   * (Dovecot caches it the same way).
   */
  async saveDate(meta: MessageMeta): Promise<Date | null> {
    let ms = this.saveDates.get(meta.uid);
    if (ms === undefined) {
      ms = (await this.withFile(meta, (f) => fs.stat(f))).ctimeMs;
      if (this.settled(meta)) this.saveDates.set(meta.uid, ms);
    }
    return new Date(ms);
  }

  /**
   * Whether what is read of this message's file may be kept (cached, indexed,
   * written to the uidlist): false while its file may still be being written
   * (see settleOptions). Messages we saved ourselves, and files already old when
   * found, are settled from the start.
   */
  settled(meta: MessageMeta): boolean {
    return !this.unsettled.has(meta.basename);
  }

  private markUnsettled(basename: string): void {
    this.unsettled.add(basename);
    if (this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      void this.checkUnsettled().catch((err) => this.log.warn({ err: (err as Error).message }, 'checking freshly written messages failed'));
    }, settleOptions.ms);
    this.settleTimer.unref();
  }

  /**
   * Files unchanged for settleOptions.ms are settled, and their size is known
   * from then on (a later rewrite of the uidlist writes it as W); those still
   * being written are looked at again later.
   */
  private async checkUnsettled(): Promise<void> {
    for (const basename of [...this.unsettled]) {
      const meta = this.byBasename.get(basename);
      const counted = meta ? await crlfSizeAndMtime(this.pathOf(meta)).catch(() => null) : null;
      this.unsettled.delete(basename);
      if (!meta || !counted) continue; // gone (or unreadable: nothing to keep)
      if (!counted.placed && Date.now() - counted.mtimeMs < settleOptions.ms) this.markUnsettled(basename);
      else meta.vsize ??= counted.vsize;
    }
  }

  // --- changes made by sessions ---

  /**
   * Changes flags on messages; returns those whose flags changed. Every view
   * but `origin` hears of each change (the origin answers its own STORE).
   */
  setFlags(
    metas: MessageMeta[],
    mode: FlagMode,
    flags: string[],
    origin: MailboxListener | null,
    cond?: { unchangedSince: number; modified: number[] },
  ): Promise<MessageMeta[]> {
    return this.mutex.run(async () => {
      const sys = new Set<string>();
      const keywordNames: string[] = [];
      for (const f of flags) {
        const l = systemLetter(f);
        if (l) sys.add(l);
        else if (f !== '\\Recent') keywordNames.push(f);
      }
      const kwLetters = await this.keywordLetters(keywordNames);
      const letters = new Set([...sys, ...kwLetters]);
      const changed: MessageMeta[] = [];
      for (const meta of metas) {
        if (!this.holdsUid(meta.uid)) continue;
        // RFC 7162 §3.1.3: changed since the client's modseq: left alone, reported as MODIFIED.
        if (cond && meta.modseq > cond.unchangedSince) {
          cond.modified.push(meta.uid);
          continue;
        }
        const kept = [...meta.info].filter((l) => !systemFlag(l) && !isKeywordLetter(l)); // e.g. P: no IMAP flag, never dropped
        let next: string;
        if (mode === 'add') next = meta.info + [...letters].join('');
        else if (mode === 'remove') next = [...meta.info].filter((l) => !letters.has(l)).join('');
        else next = kept.join('') + [...letters].join('');
        next = sortLetters(next);
        if (next === meta.info && meta.sub === 'cur') continue;
        if (await this.renameTo(meta, 'cur', next)) {
          if (meta.info !== next) changed.push(meta);
          meta.info = next;
          this.touch(meta);
        }
      }
      for (const meta of changed) for (const v of this.views) if (v !== origin) v.onFlags(meta);
      return changed;
    });
  }

  /**
   * Files we just put into this folder ourselves (APPEND, COPY, MOVE): they get
   * their UIDs now, and every view hears EXISTS now, not when the watcher event
   * comes (which then finds them known and does nothing). With `recent`, the
   * first read-write session gets \Recent on them. (A file put into new/, a
   * delivery, is \Recent by where it is, as a watcher-found one: pass false.) Returns their metadata in
   * the order given (a file gone again meanwhile is left out). `files` may be
   * a function that places them (under the folder's lock) and returns them.
   */
  async addOwn(files: ScannedFile[] | (() => Promise<ScannedFile[]>), recent: boolean): Promise<MessageMeta[]> {
    await this.load();
    return this.mutex.run(async () => {
      // A function puts the files in place under the lock (MULTIAPPEND's renames): the
      // watcher cannot find them first and announce them as old, not \Recent, messages.
      if (typeof files === 'function') files = await files();
      const unknown = files.filter((f) => !this.byBasename.has(parseName(f.filename).basename));
      // Our own files (APPEND, COPY, MOVE, an LMTP delivery) are never filtered here.
      if (unknown.length) await this.addNew(unknown, false);
      const out: MessageMeta[] = [];
      for (const f of files) {
        const meta = this.byBasename.get(parseName(f.filename).basename);
        if (meta) out.push(meta);
      }
      if (recent) {
        const fresh = new Set(unknown.map((f) => parseName(f.filename).basename));
        const owner = [...this.views].find((v) => !v.readOnly);
        const uids = out.filter((m) => fresh.has(m.basename)).map((m) => m.uid);
        if (owner) owner.claimRecent(uids);
        // RFC 3501 §6.4.7: \Recent for the next session that selects the folder, if none has it open now.
        else for (const uid of uids) this.unclaimedRecent.add(uid);
      }
      return out;
    });
  }

  /** The Maildir info letters for IMAP flags (system flags and keywords; \Recent ignored), sorted. */
  async lettersOf(flags: string[]): Promise<string> {
    let letters = '';
    const keywordNames: string[] = [];
    for (const f of flags) {
      const l = systemLetter(f);
      if (l) letters += l;
      else if (!f.startsWith('\\')) keywordNames.push(f);
    }
    if (keywordNames.length) letters += (await this.keywordLetters(keywordNames)).join('');
    return sortLetters(letters);
  }

  /**
   * Letters for keyword names, adding new ones to dovecot-keywords. A Maildir
   * file name has room for 26: past that the change is refused, never made
   * without the keyword and answered OK.
   */
  private async keywordLetters(names: string[]): Promise<string[]> {
    const letters = await this.keywords.lettersFor(names);
    const missing = names.filter((_, i) => letters[i] === null);
    if (missing.length) throw new MailError('limit', `No room for more keywords in this folder (${MAX_KEYWORDS} at most): ${missing.slice(0, 3).join(' ')}`);
    return letters as string[];
  }

  /** Every keyword letter is taken: no new keyword can be stored (PERMANENTFLAGS then has no \*). */
  get keywordsFull(): boolean {
    return this.keywords.list.filter((n) => n !== undefined).length >= MAX_KEYWORDS;
  }

  keywordNames(): string[] {
    return this.keywords.list.filter((n) => n !== undefined);
  }

  isSeen(meta: MessageMeta): boolean {
    return meta.info.includes('S');
  }

  isDeleted(meta: MessageMeta): boolean {
    return meta.info.includes('T');
  }

  // --- content (the functions live beside their caches; these are the handle's face of them) ---

  loadMessage(meta: MessageMeta): Promise<LoadedMessage> {
    return loadMessage(this, meta);
  }

  messageRange(meta: MessageMeta, msg: LoadedMessage | null, start: number, end: number): AsyncIterable<Buffer> {
    return messageRange(this, meta, msg, start, end);
  }

  prepareBatch(metas: Array<MessageMeta | null>, needs: MessageNeeds): Promise<PreparedBatch> {
    return this.indexReady().then(() => prepareBatch(this, metas, needs));
  }

  summaries<T>(metas: MessageMeta[], pick: (s: StoredSummary) => T): Promise<Array<T | null>> {
    return this.indexReady().then(() => summariesFor(this, metas, pick));
  }

  unreadableFault(meta: MessageMeta, err: unknown): MailError {
    return unreadableFault(this, meta, err);
  }

  headerFacts(meta: MessageMeta): Promise<HeaderFacts> {
    return headerFacts(this, meta);
  }

  bodyMatches(meta: MessageMeta, needles: string[]): Promise<boolean[]> {
    return bodyMatches(this, meta, needles);
  }

  textHint(view: UidView, value: string, bodyOnly: boolean): Promise<TextHint | null> {
    return textHint(this, view, value, bodyOnly);
  }

  /** These messages' files were moved to another folder (MOVE): they are expunged here without an unlink. */
  forgetMoved(metas: MessageMeta[]): Promise<void> {
    return this.mutex.run(async () => this.forget(metas.filter((m) => this.find(m.uid) === m)));
  }

  /** Removes messages carrying \Deleted (only those in `uids`, if given). Every view is told. */
  expunge(uids: Set<number> | null): Promise<MessageMeta[]> {
    return this.mutex.run(async () => {
      const doomed = this.messages.filter((m) => m.info.includes('T') && (!uids || uids.has(m.uid)));
      for (const m of doomed) {
        // The quota is told what is freed: a name without ,S= is sized before it goes.
        if (m.size === null && this.quota?.active) m.size = (await fs.lstat(this.pathOf(m)).catch(() => null))?.size ?? null;
        await this.maildir.remove(m);
      }
      this.forget(doomed);
      return doomed;
    });
  }

  /**
   * When the message came into this folder: its file's ctime, as Dovecot's
   * Maildir answers a save date it has not cached. A rename sets the ctime,
   * so a message moved here (MOVE, a client's drag to Trash, our filter)
   * counts from its move, not from its delivery (the mtime, INTERNALDATE,
   * travels with it). A flag change renames the file too and so makes the
   * message look younger: never older. A link (COPY) does the same to both copies.
   */
  async arrivedAt(meta: MessageMeta): Promise<number> {
    return (await this.withFile(meta, (f) => fs.stat(f))).ctimeMs;
  }

  /**
   * Removes those of `metas` whose file's ctime is before `cutoffMs` (see
   * arrivedAt), flags or not; judged under the mutex, so no flag change
   * slips between the look and the unlink. A file gone or renamed meanwhile
   * is left for the watcher. Every view is told, as for EXPUNGE.
   */
  expungeArrivedBefore(metas: readonly MessageMeta[], cutoffMs: number): Promise<MessageMeta[]> {
    return this.mutex.run(async () => {
      const doomed: MessageMeta[] = [];
      for (const m of metas) {
        if (this.find(m.uid) !== m) continue;
        const st = await fs.lstat(this.pathOf(m)).catch(() => null);
        if (!st || !(st.ctimeMs < cutoffMs)) continue;
        m.size ??= st.size;
        await this.maildir.remove(m);
        doomed.push(m);
      }
      this.forget(doomed);
      return doomed;
    });
  }

  /**
   * Drops what this process knows about the messages beyond the Maildir and
   * the uidlist — the message index (sizes, dates, summaries), the sizes and
   * dates kept in memory, the text index — and rebuilds the message index
   * as a FETCH of everything would, `batch` messages at a time. UIDs,
   * flags and modseqs are state, not cache: they stay. Returns the count.
   */
  async rebuildCaches(batch = 100): Promise<number> {
    await this.load();
    await this.indexReady();
    await this.mutex.run(async () => {
      await this.index.clear();
      for (const m of this.messages) {
        m.vsize = null;
        m.mtimeMs = null;
      }
    });
    await dropTextIndex(this);
    const needs = { summary: true, structure: true, envelope: true, size: true, date: true, whole: false };
    let done = 0;
    for (let i = 0; i < this.messages.length; i += batch) {
      const metas = this.messages.slice(i, i + batch);
      (await this.prepareBatch(metas, needs)).release?.();
      done += metas.length;
    }
    await this.index.flush();
    return done;
  }

  /** Moves a message file to `sub` with `info`; updates the meta first so our own watcher event is a no-op. */
  private async renameTo(meta: MessageMeta, sub: Sub, info: string): Promise<boolean> {
    const from: ScannedFile = { sub: meta.sub, filename: meta.filename };
    const to: ScannedFile = { sub, filename: curName(meta.basename, info) };
    if (from.sub === to.sub && from.filename === to.filename) return true;
    this.place(meta, to);
    if (await this.maildir.move(from, to)) return true;
    // Someone moved it first: find where it is now and try once more.
    this.place(meta, from);
    await this.fullSync();
    if (!this.holdsUid(meta.uid)) return false;
    const again: ScannedFile = { sub: meta.sub, filename: meta.filename };
    this.place(meta, to);
    return this.maildir.move(again, to);
  }

  /** Where a message's file is (the only place that changes `sub`, so that `inNew` follows). */
  private place(meta: MessageMeta, f: ScannedFile): void {
    meta.sub = f.sub;
    meta.filename = f.filename;
    if (f.sub === 'new') this.inNew.add(meta);
    else this.inNew.delete(meta);
  }

  /** Called with the mutex held: moves messages claimed as \Recent from new/ to cur/. */
  private async claimNew(uids: number[]): Promise<void> {
    for (const uid of uids) {
      const meta = this.find(uid);
      if (meta && meta.sub === 'new') await this.renameTo(meta, 'cur', meta.info);
    }
  }

  // --- reconciling with the disk ---

  private async fullSyncIfChanged(): Promise<void> {
    if ((await this.maildir.dirStamp()) !== this.lastScanStamp) await this.fullSync();
  }

  /** Reads new/ and cur/ and reconciles everything. Called with the mutex held. */
  private async fullSync(): Promise<void> {
    const scannedAt = Date.now();
    const stamp = await this.maildir.dirStamp();
    const files = await this.maildir.scan();
    if (!this.messages.length && !inNewAndCur(files)) {
      // A first open: nothing to reconcile.
      this.waitingForSpace = false;
      await this.addNew(files);
      return this.scanned(stamp, scannedAt);
    }
    const found = new Map<string, ScannedFile>();
    for (const f of files) {
      const basename = basenameOf(f.filename);
      const prev = found.get(basename);
      if (!prev || (prev.sub === 'new' && f.sub === 'cur')) found.set(basename, f); // mid-move by someone: cur/ wins
    }
    const vanished: MessageMeta[] = [];
    for (const meta of this.messages) {
      const f = found.get(meta.basename);
      if (!f) vanished.push(meta);
      else {
        this.relocate(meta, f);
        found.delete(meta.basename);
      }
    }
    this.forget(vanished);
    this.waitingForSpace = false;
    await this.addNew([...found.values()]);
    await this.scanned(stamp, scannedAt);
  }

  /** After a full sync: what was scanned, and housekeeping. */
  private async scanned(stamp: string, scannedAt: number): Promise<void> {
    // Files left without UIDs (a full disk): the next periodic check must look again.
    this.lastScanStamp = this.waitingForSpace ? '' : stamp;
    this.lastScanAt = scannedAt;
    if (this.spaceWarned && !this.waitingForSpace) {
      this.spaceWarned = false;
      this.log.info('disk has room again: new messages got their UIDs');
    }
    if (this.expungedSinceRewrite > 0 && this.views.size === 0) {
      // Housekeeping: a full disk (or any fault) must not fail the SELECT or STATUS that triggered it.
      await this.compactUidlist().catch((err) => this.log.warn({ err: (err as Error).message }, 'compacting dovecot-uidlist failed; it is retried later'));
    }
  }

  /** Updates a known message seen at `f`; tells views if its flags changed. */
  private relocate(meta: MessageMeta, f: ScannedFile): void {
    if (meta.sub === f.sub && meta.filename === f.filename) return;
    const info = parseName(f.filename).info;
    this.place(meta, f);
    if (info !== meta.info) {
      meta.info = info;
      this.touch(meta);
      for (const v of this.views) v.onFlags(meta);
    }
  }

  private forget(metas: MessageMeta[], report = true): void {
    if (!metas.length) return;
    if (report) this.report(metas, -1);
    const gone = new Set(metas.map((m) => m.uid));
    for (const m of metas) {
      this.byBasename.delete(m.basename);
      this.inNew.delete(m);
      this.unclaimedRecent.delete(m.uid);
      if (this.modseqReady) this.modseqs.expunge(m.uid);
    }
    let w = 0;
    for (const m of this.messages) if (!gone.has(m.uid)) this.messages[w++] = m;
    this.messages.length = w;
    this.snapshot = null;
    this.expungedSinceRewrite += metas.length;
    for (const m of metas) {
      this.saveDates.delete(m.uid);
      this.previews.delete(m.uid);
    }
    for (const v of this.views) v.onExpunged(metas);
  }

  /**
   * Files in new/ that no one has seen: no UID in the uidlist (a message a
   * session may have seen is never filtered again), not marked as filtered
   * by our LMTP. They go through the filter; the rest, and what the filter
   * leaves here, go on. Called with the mutex held.
   */
  private async filterArrivals(files: ScannedFile[]): Promise<ScannedFile[]> {
    const candidates = files.filter((f) => f.sub === 'new' && !parseName(f.filename).basename.includes(FILTERED_MARK));
    if (!candidates.length || !this.arrivals || !(await this.arrivals.wanted())) return files;
    await this.uidlist.read();
    const fresh = candidates.filter((f) => !this.uidlist.recordOf(parseName(f.filename).basename) && !this.byBasename.has(parseName(f.filename).basename));
    if (!fresh.length) return files;
    let kept: ScannedFile[];
    try {
      kept = await this.arrivals.place(fresh);
    } catch (err) {
      this.log.error({ err }, 'filtering new mail failed; left in INBOX');
      return files;
    }
    const filtered = new Set(fresh);
    return [...files.filter((f) => !filtered.has(f)), ...kept];
  }

  /** Gives files not seen before their UIDs (from the uidlist, or new ones) and announces them. */
  private async addNew(files: ScannedFile[], filter = true): Promise<void> {
    if (filter && this.arrivals && files.length) files = await this.filterArrivals(files);
    if (!files.length) {
      // An empty folder still needs a UIDVALIDITY (RFC 3501: non-zero): the uidlist is created with it.
      let state = await this.uidlist.read();
      if (!state || state.nextUid > MAX_UID) {
        // No uidlist yet (it is created with a UIDVALIDITY), or UIDNEXT past 32 bits (assign renumbers).
        try {
          state = (await this.assignUids([])).state;
        } catch (err) {
          // A folder we may read but not write (made by another user): serve it without one.
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw err;
          this.log.warn({ err }, 'cannot create dovecot-uidlist in an empty folder');
        }
      }
      if (state) await this.setHeader(state.uidValidity, state.nextUid);
      return;
    }
    // Arrival order: Maildir names start with the delivery time in seconds (read once per name, not per comparison).
    // One object per file through sizing and the uidlist (it is what assign() is given): 50,000 at a first open.
    const entries: Arrival[] = files.map((f) => {
      const name = parseName(f.filename);
      const vsize = name.vsize ?? this.uidlist.recordOf(name.basename)?.vsize ?? null;
      return { f, name, t: parseInt(name.basename, 10), basename: name.basename, vsize, size: name.size, fresh: false, ext: f.ext };
    });
    entries.sort(arrivalOrder);
    const eager = entries.length <= EAGER_SIZE_LIMIT;
    // Sizing reads each file (a file already gone again is dropped); it runs while the uidlist lock is taken.
    // Without reads (a first open of a big folder) sizing is a plain loop: 50,000 promises cost more than the scan.
    // The quota counts file sizes: a new name without ,S= (virtual(8)'s) is stat'ed, when it is one of a few.
    const wantSize = eager && this.reporting && !!this.quota?.active;
    const sizes = eager
      ? Promise.all(
          entries.map(async (e): Promise<Arrival | null> => {
            if (e.vsize !== null && (e.size !== null || !wantSize)) return e;
            try {
              const file = this.maildir.file(e.f.sub, e.f.filename);
              if (e.size === null && wantSize) e.size = (await fs.stat(file)).size;
              if (e.vsize === null) {
                const counted = await crlfSizeAndMtime(file);
                // A file still being written (straight into new/, not moved there once whole) must not have
                // its size so far kept in the uidlist.
                e.fresh = !counted.placed && Date.now() - counted.mtimeMs < settleOptions.ms;
                e.vsize = e.fresh ? null : counted.vsize;
              }
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
              // Unreadable (a file another user wrote with mode 0600): still a message; FETCH will say NO.
              this.log.warn({ file: e.f.filename, err: (err as Error).message }, 'cannot read a new message');
            }
            return e;
          }),
        )
      : Promise.resolve(entries);
    const sizing = sizes.then((list) => {
      // The same message under two names at once (moved new/ → cur/ meanwhile): keep the cur/ one.
      // Sorted by arrival, the two are next to each other.
      const kept: Arrival[] = [];
      for (const e of list) {
        if (!e) continue;
        const prev = kept.length ? kept[kept.length - 1] : null;
        if (prev && prev.basename === e.basename) {
          if (e.f.sub === 'cur') kept[kept.length - 1] = e;
        } else kept.push(e);
      }
      return kept;
    });
    // assign() awaits this only once it holds the lock: an early failure must not count as unhandled meanwhile.
    sizing.catch(() => undefined);
    let state: UidlistState;
    let records: UidRecord[];
    let sized: Awaited<typeof sizing>;
    try {
      ({ state, records } = await this.assignUids(sizing));
      sized = await sizing;
    } catch (err) {
      // A full disk: a UID exists only once it is in the uidlist, so files without one wait, unseen,
      // and the folder is served with the messages listed already (users must be able to open it
      // and delete mail to make room). Without any uidlist there is no UIDVALIDITY to serve: a NO.
      if (!isDiskFull(err)) throw err;
      const current = await this.uidlist.read();
      if (!current) throw err;
      state = current;
      const listed = (await sizing).filter((e) => this.uidlist.recordOf(e.basename));
      if (!this.spaceWarned) this.log.warn({ count: files.length - listed.length, err: (err as Error).message }, 'disk full: new messages get their UIDs once there is room');
      this.spaceWarned = true;
      this.waitingForSpace = true;
      this.lastScanStamp = '';
      sized = listed;
      records = listed.map((e) => this.uidlist.recordOf(e.basename)!);
    }
    await this.setHeader(state.uidValidity, state.nextUid);
    if (!sized.length) return;
    const added = sized.map((e, i) => this.insert(e.f, e.name, records[i], e.vsize, e.size));
    for (const e of sized) if (e.fresh) this.markUnsettled(e.basename);
    added.sort((a, b) => a.uid - b.uid);
    this.report(added, 1);
    for (const v of this.views) v.onAdded(added);
    // The first read-write session owns \Recent on new arrivals and moves them to cur/.
    const owner = [...this.views].find((v) => !v.readOnly);
    const fresh = added.filter((m) => m.sub === 'new').map((m) => m.uid);
    if (owner && fresh.length) {
      owner.claimRecent(fresh);
      await this.claimNew(fresh);
    }
  }

  /** Uidlist.assign, and a log line when it had to renumber the folder. */
  private async assignUids(entries: Parameters<Uidlist['assign']>[0]): Promise<{ state: UidlistState; records: UidRecord[] }> {
    const { state, records, renumbered } = await this.uidlist.assign(entries);
    if (renumbered) this.log.warn({ ...renumbered, messages: state.records.length }, 'UIDs would pass 4294967295: the folder is renumbered from 1 under a new UIDVALIDITY');
    return { state, records };
  }

  /** Tells the quota of messages added (sign 1) or removed (-1). */
  private report(metas: MessageMeta[], sign: 1 | -1): void {
    if (!this.reporting || !this.quota?.active || !metas.length) return;
    let bytes = 0;
    let unknown = false;
    for (const m of metas) {
      if (m.size === null) unknown = true;
      else bytes += m.size;
    }
    this.quota.changed(sign * bytes, sign * metas.length);
    if (unknown) this.quota.unknownChange();
  }

  private async setHeader(uidValidity: number, nextUid: number): Promise<void> {
    if (this.uidValidity !== 0 && uidValidity !== this.uidValidity) return this.renumbered(uidValidity, nextUid);
    this.uidValidity = uidValidity;
    this.uidNext = Math.max(this.uidNext, nextUid);
  }

  /**
   * The uidlist has a new UIDVALIDITY (we renumbered it as UIDs reached 2^32,
   * or another server did): every message takes its UID from it, the modseq
   * log starts afresh for the new UIDVALIDITY, and every session with the
   * folder open is told its UIDs mean nothing any more (it must select the
   * folder again). A message the uidlist no longer lists is found again as new.
   */
  private async renumbered(uidValidity: number, nextUid: number): Promise<void> {
    const kept: MessageMeta[] = [];
    for (const m of this.messages) {
      const rec = this.uidlist.recordOf(m.basename);
      if (!rec) {
        this.byBasename.delete(m.basename);
        this.inNew.delete(m);
        continue;
      }
      (m as { uid: number }).uid = rec.uid; // the same objects: caches holding them stay valid
      kept.push(m);
    }
    kept.sort((a, b) => a.uid - b.uid);
    this.messages.length = 0;
    for (const m of kept) this.messages.push(m); // no spread: 125,000+ arguments overflow the stack
    this.snapshot = null;
    this.unclaimedRecent.clear();
    this.lastScanStamp = '';
    this.uidValidity = uidValidity;
    this.uidNext = nextUid;
    const views = [...this.views];
    this.views.clear();
    for (const v of views) v.onRenumbered();
    if (this.modseqReady) {
      this.modseqReady = false;
      await this.loadModseqs();
    }
  }

  /** `name`: parseName of the file's name. */
  private insert(f: ScannedFile, name: ParsedName, rec: UidRecord, vsize: number | null, size: number | null): MessageMeta {
    const meta: MessageMeta = {
      uid: rec.uid,
      // A slice of its own file name, not of the uidlist's text (which a record's name would keep alive whole).
      basename: name.basename,
      sub: f.sub,
      filename: f.filename,
      info: name.info,
      vsize: vsize ?? rec.vsize,
      size,
      mtimeMs: null,
      modseq: 0,
      sentMs: undefined,
    };
    this.touch(meta);
    const last = this.messages[this.messages.length - 1];
    if (!last || last.uid < meta.uid) this.messages.push(meta);
    else {
      // A file the uidlist already knew reappeared below the highest UID: keep UID order.
      const at = this.messages.findIndex((m) => m.uid > meta.uid);
      this.messages.splice(at, 0, meta);
      this.log.warn({ uid: meta.uid, file: f.filename }, 'message reappeared below the highest UID');
    }
    this.byBasename.set(meta.basename, meta);
    if (meta.sub === 'new') this.inNew.add(meta);
    // Appended at the end: views sharing the array see it only once they count it (they keep their own length).
    if (this.snapshot && this.messages[this.messages.length - 1] === meta) this.snapshot.push(meta.uid);
    else this.snapshot = null;
    return meta;
  }

  /**
   * The fast path: file events for single names, handled without reading the
   * whole directory. A file that vanished without a matching new name (an
   * expunge by someone else, or a lost event) triggers a full resync.
   */
  private async applyEvents(events: FolderEvent[]): Promise<void> {
    const fresh: ScannedFile[] = [];
    const suspects: Array<{ meta: MessageMeta; filename: string }> = [];
    for (const ev of events) {
      const { basename, vsize } = parseName(ev.filename);
      const meta = this.byBasename.get(basename);
      if (!meta) {
        // Unknown name. A late event for a file already gone (one we expunged or moved
        // meanwhile) must not bring it back. addNew reads a file whose size it does not know
        // (and drops it if gone), so only a size known from ,W= or from the uidlist (an
        // expunged message's record stays there) needs a look first: never a fresh delivery.
        if (fresh.some((f) => f.filename === ev.filename && f.sub === ev.sub)) continue;
        const sized = vsize !== null || this.uidlist.recordOf(basename)?.vsize != null;
        if (!sized || (await fileExists(this.maildir.file(ev.sub, ev.filename)))) fresh.push(ev);
        continue;
      }
      const present = await fileExists(this.maildir.file(ev.sub, ev.filename));
      if (meta.sub === ev.sub && meta.filename === ev.filename) {
        if (!present) suspects.push({ meta, filename: ev.filename });
      } else if (present) {
        this.relocate(meta, ev);
      }
    }
    if (fresh.length) await this.addNew(fresh);
    if (suspects.some((s) => s.meta.filename === s.filename && this.holdsUid(s.meta.uid))) await this.fullSync();
  }

  /** Drops uidlist records of expunged messages (only while no session has the folder open). */
  private async compactUidlist(): Promise<void> {
    const keep = new Map<string, number | null>();
    for (const m of this.messages) keep.set(m.basename, m.vsize);
    await this.uidlist.rewrite(keep);
    // An index not read yet is compacted when it is (indexReady).
    if (this.indexOpened) await this.index.compact(keep.keys());
    this.expungedSinceRewrite = 0;
  }
}

/**
 * Whether a message shows under both new/ and cur/ (moved between the two
 * readdirs): then the full sync keeps the cur/ name before anything else,
 * the arrival filter included, sees it.
 */
function inNewAndCur(files: ScannedFile[]): boolean {
  const inNew = new Set<string>();
  for (const f of files) if (f.sub === 'new') inNew.add(basenameOf(f.filename));
  if (!inNew.size) return false;
  for (const f of files) if (f.sub === 'cur' && inNew.has(basenameOf(f.filename))) return true;
  return false;
}

/** A file being given its UID (addNew): its name, delivery time, sizes, and what the uidlist needs. */
interface Arrival {
  f: ScannedFile;
  name: ParsedName;
  /** The delivery time a Maildir name starts with (NaN if it does not). */
  t: number;
  basename: string;
  vsize: number | null;
  size: number | null;
  /** Still being written: its size is not kept. */
  fresh: boolean;
  ext: string[] | undefined;
}

/**
 * By delivery time, then by name; names that do not start with a time come
 * after, by name. A total order, so the names of one message (in new/ and
 * cur/) are adjacent.
 */
function arrivalOrder(a: Arrival, b: Arrival): number {
  const an = Number.isNaN(a.t);
  const bn = Number.isNaN(b.t);
  if (an !== bn) return an ? 1 : -1;
  if (a.t !== b.t && !an) return a.t < b.t ? -1 : 1;
  return a.basename < b.basename ? -1 : a.basename > b.basename ? 1 : 0;
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
