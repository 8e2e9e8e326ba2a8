// The store's API (src/mail/api.ts) in memory: folders, messages, flags,
// modseqs and listeners with the Maildir store's semantics, and no file. The
// command unit tests run the real protocol code on it, so what they assert is
// the protocol's behaviour; test/mail/ covers the Maildir store itself. A test
// can make one message unreadable (unreadable()) or replace a method for one
// call (t.mock.method on MemoryUser.prototype or MemoryMailbox.prototype).
import { randomBytes } from 'node:crypto';
import {
  HIERARCHY_SEPARATOR,
  MailError,
  MessageGoneError,
  checkName,
  factsOfMessage,
  previewOf,
  folderTree,
  mailErrorOf,
  normalizeName,
  traceHeader,
  quotaFits,
  NO_LIMITS,
  type QuotaLimits,
  type QuotaStatus,
  type FlagMode,
  type FolderInfo,
  type FolderChange,
  type HeaderFacts,
  type DeliveryEnvelope,
  type DeliveryOptions,
  type IncomingMessage,
  type AppendItem,
  type LoadedMessage,
  type MailProvider,
  type MailUser,
  type MailboxHandle,
  type MailboxListener,
  type MessageNeeds,
  type MessageRef,
  type Outcome,
  type PreparedBatch,
  type SpecialUseMap,
  type TextHint,
} from '../../src/mail/api.js';
import { parseMime } from '../../src/wire/mime.js';
import { StoredSummary, summarize } from '../../src/wire/summary.js';

/** System flags in the order the Maildir store lists them (by info letter: D F R S T). */
const SYSTEM_ORDER = ['\\Draft', '\\Flagged', '\\Answered', '\\Seen', '\\Deleted'];
const MAX_KEYWORDS = 26;
/** Messages bigger than this are served by FETCH's general path, as the Maildir store does. */
const WHOLE_LIMIT = 1024 * 1024;

interface StoredMessage extends MessageRef {
  uid: number;
  modseq: number;
  info: string;
  vsize: number;
  mtimeMs: number;
  /** When it came into this folder (the Maildir store's file ctime): set by add(), a test may age it. */
  arrivedMs: number;
  /** EMAILID: made when it is first stored; COPY and MOVE carry it over, as the Maildir store does. */
  emailId: string;
  /** PREVIEW, once made. */
  preview?: string;
  /** SAVEDATE: when it was put in this folder (add, copy, move). */
  savedMs: number;
  /** The CRLF form. */
  data: Buffer;
  flags: Set<string>;
  /** A read of it fails with this (a file mode 000, an I/O error). */
  fault: Error | null;
}

/** Bare LF → CRLF, as the Maildir store serves files written with LF. */
function toCrlf(raw: Buffer): Buffer {
  return Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

let uidValiditySeq = Math.floor(Date.now() / 1000);

export class MemoryMailbox implements MailboxHandle {
  uidValidity = ++uidValiditySeq;
  /** As the Maildir store's uidlist GUID: made once, kept by RENAME (renamedTo). */
  mailboxId = randomBytes(16).toString('hex');
  uidNext = 1;
  highestModseq = 0;
  private messages: StoredMessage[] = [];
  private readonly byUidMap = new Map<number, StoredMessage>();
  private readonly expungedLog: Array<[uid: number, modseq: number]> = [];
  private readonly listeners = new Set<MailboxListener>();
  /** \Recent for the next read-write session (delivered while none had the folder open). */
  private readonly unclaimedRecent = new Set<number>();
  private readonly keywords: string[] = [];
  private snapshot: number[] | null = null;
  private vanished = false;

  constructor(public name: string) {}

  get count(): number {
    return this.messages.length;
  }

  get recentCount(): number {
    return this.unclaimedRecent.size;
  }

  get all(): readonly MessageRef[] {
    return this.messages;
  }

  get keywordsFull(): boolean {
    return this.keywords.length >= MAX_KEYWORDS;
  }

  keywordNames(): string[] {
    return [...this.keywords];
  }

  byUid(uid: number): MessageRef | undefined {
    return this.byUidMap.get(uid);
  }

  uidSnapshot(): readonly number[] {
    return (this.snapshot ??= this.messages.map((m) => m.uid));
  }

  flagsOf(meta: MessageRef): string[] {
    const m = this.stored(meta);
    if (!m) return [];
    return [...SYSTEM_ORDER.filter((f) => m.flags.has(f)), ...this.keywords.filter((k) => m.flags.has(k))];
  }

  isSeen(meta: MessageRef): boolean {
    return this.stored(meta)?.flags.has('\\Seen') ?? false;
  }

  isDeleted(meta: MessageRef): boolean {
    return this.stored(meta)?.flags.has('\\Deleted') ?? false;
  }

  /** Bytes and messages held (the quota's usage: in memory a message's size is its CRLF form's). */
  usage(): { bytes: number; messages: number } {
    let bytes = 0;
    for (const m of this.messages) bytes += m.data.length;
    return { bytes, messages: this.messages.length };
  }

  async vsizeOf(meta: MessageRef): Promise<number> {
    return this.read(meta).vsize;
  }

  async internalDate(meta: MessageRef): Promise<Date> {
    return new Date(this.read(meta).mtimeMs);
  }

  /** As the Maildir store: made once and kept; LAZY gets only what was made before. */
  async preview(meta: MessageRef, lazy: boolean): Promise<string | null> {
    const m = this.read(meta);
    const cached = m.preview;
    m.preview ??= previewOf(m.data);
    return lazy ? (cached ?? null) : m.preview;
  }

  emailId(meta: MessageRef): string {
    return this.read(meta).emailId;
  }

  async saveDate(meta: MessageRef): Promise<Date | null> {
    return new Date(this.read(meta).savedMs);
  }

  async checkReadable(meta: MessageRef): Promise<void> {
    this.read(meta);
  }

  async refresh(): Promise<void> {}

  async attach<L extends MailboxListener>(listener: L): Promise<L> {
    listener.init(this.uidSnapshot(), [...this.unclaimedRecent].sort((a, b) => a - b));
    if (!listener.readOnly) this.unclaimedRecent.clear();
    this.listeners.add(listener);
    return listener;
  }

  get viewCount(): number {
    return this.listeners.size;
  }

  detach(listener: MailboxListener): void {
    this.listeners.delete(listener);
  }

  async setFlags(
    metas: MessageRef[],
    mode: FlagMode,
    flags: string[],
    origin: MailboxListener | null,
    cond?: { unchangedSince: number; modified: number[] },
  ): Promise<MessageRef[]> {
    const wanted = this.canonical(flags);
    const changed: StoredMessage[] = [];
    for (const ref of metas) {
      const m = this.byUidMap.get(ref.uid);
      if (!m) continue;
      if (cond && m.modseq > cond.unchangedSince) {
        cond.modified.push(m.uid);
        continue;
      }
      const next = new Set(mode === 'replace' ? [] : m.flags);
      for (const f of wanted) mode === 'remove' ? next.delete(f) : next.add(f);
      const info = this.infoOf(next);
      if (info === m.info) continue;
      m.flags = next;
      m.info = info;
      m.modseq = ++this.highestModseq;
      m.arrivedMs = Date.now(); // as the Maildir store's rename sets the file's ctime
      changed.push(m);
    }
    for (const m of changed) for (const l of this.listeners) if (l !== origin) l.onFlags(m);
    return changed;
  }

  async expunge(uids: Set<number> | null): Promise<MessageRef[]> {
    const doomed = this.messages.filter((m) => m.flags.has('\\Deleted') && (!uids || uids.has(m.uid)));
    this.forget(doomed);
    return doomed;
  }

  async arrivedAt(meta: MessageRef): Promise<number> {
    return this.read(meta).arrivedMs;
  }

  async expungeArrivedBefore(metas: readonly MessageRef[], cutoffMs: number): Promise<MessageRef[]> {
    const doomed = metas.map((r) => this.byUidMap.get(r.uid)).filter((m): m is StoredMessage => !!m && m.arrivedMs < cutoffMs);
    this.forget(doomed);
    return doomed;
  }

  /** Makes a message look as if it came into this folder `ms` ago (a test's old file). */
  age(uid: number, ms: number): void {
    const m = this.byUidMap.get(uid);
    if (!m) throw new Error(`no message ${uid}`);
    m.arrivedMs = Date.now() - ms;
  }

  expungedSince(modseq: number): number[] {
    return this.expungedLog.filter(([, ms]) => ms > modseq).map(([uid]) => uid);
  }

  // --- content ---

  async loadMessage(meta: MessageRef): Promise<LoadedMessage> {
    const m = this.read(meta);
    return { root: parseMime(m.data), vsize: m.vsize, data: m.data };
  }

  messageRange(meta: MessageRef, msg: LoadedMessage | null, start: number, end: number): AsyncIterable<Buffer> {
    const data = msg?.data ?? this.read(meta).data;
    return (async function* () {
      yield data.subarray(start, end);
    })();
  }

  async prepareBatch(metas: Array<MessageRef | null>, needs: MessageNeeds): Promise<PreparedBatch> {
    const outcomes = metas.map((ref): Outcome => {
      if (!ref) return 'gone';
      try {
        // Sizes and dates are known without a read (as the Maildir store's index knows them); content is read.
        const m = needs.summary || needs.whole ? this.read(ref) : this.byUidMap.get(ref.uid);
        if (!m) return 'gone';
        if (needs.whole && m.vsize > WHOLE_LIMIT) return 'slow';
        const summary = needs.summary ? StoredSummary.from(summarize(m.data, needs.structure, needs.envelope)) : null;
        return { summary, vsize: m.vsize, mtimeMs: m.mtimeMs, data: needs.whole ? m.data : null };
      } catch (err) {
        if (err instanceof MessageGoneError) return 'gone';
        return { unreadable: this.unreadableFault(ref, err) };
      }
    });
    return { metas, outcomes };
  }

  async summaries<T>(metas: MessageRef[], pick: (s: StoredSummary) => T): Promise<Array<T | null>> {
    return metas.map((ref) => {
      const m = this.byUidMap.get(ref.uid);
      const s = m && !m.fault ? StoredSummary.from(summarize(m.data, false, false)) : null;
      return s ? pick(s) : null;
    });
  }

  unreadableFault(_meta: MessageRef, err: unknown): MailError {
    const fault = mailErrorOf(err);
    if (!fault || fault.kind === 'notfound') throw err;
    return fault;
  }

  async headerFacts(meta: MessageRef): Promise<HeaderFacts> {
    return factsOfMessage(this.read(meta).data).header;
  }

  async bodyMatches(meta: MessageRef, needles: string[]): Promise<boolean[]> {
    const { body } = factsOfMessage(this.read(meta).data);
    return needles.map((n) => body.includes(n));
  }

  /** No text index in memory: every message is evaluated. */
  async textHint(): Promise<TextHint | null> {
    return null;
  }

  // --- what the store and the tests do to it ---

  /**
   * Adds a message (a delivery, APPEND, COPY); every listener hears of it, and
   * unless `recent` is false (a message some earlier session has seen) the
   * first read-write one gets \Recent.
   */
  add(content: Buffer | string, flags: Iterable<string> = [], date: Date | null = null, recent = true, saved: Date | null = null): StoredMessage {
    const canonical = this.canonical([...flags]);
    const data = toCrlf(Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'));
    const set = new Set(canonical);
    const m: StoredMessage = {
      uid: this.uidNext++,
      modseq: ++this.highestModseq,
      info: this.infoOf(set),
      vsize: data.length,
      mtimeMs: (date ?? new Date()).getTime(),
      arrivedMs: Date.now(),
      savedMs: (saved ?? new Date()).getTime(),
      emailId: randomBytes(16).toString('hex'),
      data,
      flags: set,
      fault: null,
    };
    this.messages.push(m);
    this.byUidMap.set(m.uid, m);
    if (this.snapshot) this.snapshot.push(m.uid);
    for (const l of this.listeners) l.onAdded([m]);
    const owner = [...this.listeners].find((l) => !l.readOnly);
    if (!recent) return m;
    if (owner) owner.claimRecent([m.uid]);
    else this.unclaimedRecent.add(m.uid);
    return m;
  }

  /** Makes reading a message fail with `err` (an errno error: EACCES, EIO …). */
  unreadable(uid: number, err: Error): void {
    const m = this.byUidMap.get(uid);
    if (!m) throw new Error(`no message ${uid}`);
    m.fault = err;
  }

  /** The data of a message (a copy or move reads it). */
  contentOf(meta: MessageRef): { data: Buffer; flags: string[]; mtimeMs: number; emailId: string } {
    const m = this.read(meta);
    return { data: m.data, flags: [...m.flags], mtimeMs: m.mtimeMs, emailId: m.emailId };
  }

  /** Removes messages (EXPUNGE, MOVE away); every listener hears of it. */
  forget(refs: MessageRef[]): void {
    const doomed = refs.map((r) => this.byUidMap.get(r.uid)).filter((m): m is StoredMessage => !!m);
    if (!doomed.length) return;
    const gone = new Set(doomed.map((m) => m.uid));
    this.messages = this.messages.filter((m) => !gone.has(m.uid));
    for (const m of doomed) {
      this.byUidMap.delete(m.uid);
      this.unclaimedRecent.delete(m.uid);
      this.expungedLog.push([m.uid, ++this.highestModseq]);
    }
    this.snapshot = null;
    for (const l of this.listeners) l.onExpunged(doomed);
  }

  /** The folder was deleted or renamed away: sessions with it open see every message expunged. */
  vanish(): void {
    this.forget([...this.messages]);
    this.vanished = true;
  }

  /** A new folder object with this one's messages and UIDVALIDITY (RENAME). */
  renamedTo(name: string): MemoryMailbox {
    const next = new MemoryMailbox(name);
    next.uidValidity = this.uidValidity;
    next.mailboxId = this.mailboxId;
    next.uidNext = this.uidNext;
    next.highestModseq = this.highestModseq;
    next.keywords.push(...this.keywords);
    for (const m of this.messages) {
      const copy = { ...m, flags: new Set(m.flags) };
      next.messages.push(copy);
      next.byUidMap.set(copy.uid, copy);
    }
    return next;
  }

  private stored(meta: MessageRef): StoredMessage | undefined {
    return this.byUidMap.get(meta.uid);
  }

  private read(meta: MessageRef): StoredMessage {
    const m = this.byUidMap.get(meta.uid);
    if (!m || this.vanished) throw new MessageGoneError(meta.uid);
    if (m.fault) throw m.fault;
    return m;
  }

  /** Flags as stored: system flags in their canonical case, keywords as first defined in the folder; \Recent dropped. */
  private canonical(flags: string[]): string[] {
    const out: string[] = [];
    const fresh: string[] = [];
    for (const f of flags) {
      const sys = SYSTEM_ORDER.find((s) => s.toLowerCase() === f.toLowerCase());
      if (sys) out.push(sys);
      else if (f.startsWith('\\')) continue;
      else {
        const known = this.keywords.find((k) => k.toLowerCase() === f.toLowerCase());
        if (known) out.push(known);
        else if (!fresh.some((k) => k.toLowerCase() === f.toLowerCase())) fresh.push(f);
      }
    }
    if (this.keywords.length + fresh.length > MAX_KEYWORDS)
      throw new MailError('limit', `No room for more keywords in this folder (${MAX_KEYWORDS} at most): ${fresh.slice(0, 3).join(' ')}`);
    this.keywords.push(...fresh);
    return [...out, ...fresh];
  }

  private infoOf(flags: Set<string>): string {
    return [...SYSTEM_ORDER, ...this.keywords].map((f) => (flags.has(f) ? '1' : '0')).join('');
  }
}

/** A message being APPENDed: its bytes in memory. */
export class MemoryIncoming implements IncomingMessage {
  private chunks: Buffer[] = [];
  size = 0;
  discarded = false;

  write(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
    this.size += chunk.length;
  }

  finish(): void {}

  throwIfFailed(): void {}

  async read(): Promise<Buffer> {
    return this.data;
  }

  async *pieces(): AsyncIterable<Buffer> {
    yield this.data;
  }

  discard(): void {
    this.discarded = true;
    this.chunks = [];
  }

  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export class MemoryUser implements MailUser {
  readonly boxes = new Map<string, MemoryMailbox>([['INBOX', new MemoryMailbox('INBOX')]]);
  readonly subscribed = new Set<string>();
  /** Who hears of folder changes (shared with every MemoryUser of the same mail, as the registry's per-root set). */
  readonly folderWatchers = new Set<(change: FolderChange) => void>();
  /** Every APPEND literal received, kept or not (a test checks none is left behind). */
  readonly spools: MemoryIncoming[] = [];
  private ready = false;
  /** Quota limits (set by userStore() from the users file, or by a test). */
  limits: QuotaLimits = NO_LIMITS;

  constructor(
    private readonly specialUse: SpecialUseMap,
    private readonly createSpecial: boolean,
    /** The user's mail seen by the server's housekeeping: the same folders, and none created (as the Maildir store). */
    sameMailAs?: MemoryUser,
  ) {
    if (sameMailAs) {
      this.boxes = sameMailAs.boxes;
      this.subscribed = sameMailAs.subscribed;
      this.folderWatchers = sameMailAs.folderWatchers;
      this.spools = sameMailAs.spools;
      this.limits = sameMailAs.limits;
    }
  }

  /** At first use the special-use folders are created and subscribed, as the Maildir store does. */
  private init(): void {
    if (this.ready) return;
    this.ready = true;
    if (!this.createSpecial) return;
    for (const name of Object.values(this.specialUse)) {
      if (this.boxes.has(name)) continue;
      this.boxes.set(name, new MemoryMailbox(name));
      this.subscribed.add(name);
    }
  }

  /** Usage summed over the folders (the Maildir store keeps it in maildirsize instead). */
  async quota(): Promise<QuotaStatus> {
    let bytes = 0;
    let messages = 0;
    for (const b of this.boxes.values()) {
      const u = b.usage();
      bytes += u.bytes;
      messages += u.messages;
    }
    return { limits: { ...this.limits }, bytes, messages };
  }

  /** As the Maildir store: MailError 'quota' unless the message(s) fit. */
  private async checkQuota(bytes: number, messages: number): Promise<void> {
    if (!quotaFits(await this.quota(), bytes, messages)) throw new MailError('quota', 'Quota exceeded (mailbox for user is full)');
  }

  /** Nothing is cached in memory: the usage is counted each time anyway. */
  recalculateQuota(): Promise<QuotaStatus> {
    return this.quota();
  }

  /** No caches to drop: the folders and their counts, or 'notfound' as the Maildir store. */
  async reindex(folder: string | null): Promise<Array<{ folder: string; messages: number }>> {
    this.init();
    const names = folder === null ? [...this.boxes.keys()].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : 1)) : [normalizeName(folder)];
    return names.map((name) => {
      const box = this.boxes.get(name);
      if (!box) throw new MailError('notfound', `Mailbox doesn't exist: ${name}`);
      return { folder: name, messages: box.count };
    });
  }

  async folders(): Promise<FolderInfo[]> {
    this.init();
    return folderTree(this.boxes.keys(), this.specialUse);
  }

  async subscriptions(): Promise<Set<string>> {
    this.init();
    return new Set(this.subscribed);
  }

  async subscribe(name: string, on: boolean): Promise<void> {
    name = normalizeName(name);
    if (name !== 'INBOX') checkName(name);
    if (on && !this.boxes.has(name)) throw new MailError('notfound', `Mailbox doesn't exist: ${name}`);
    if (this.subscribed.has(name) === on) return;
    if (on) this.subscribed.add(name);
    else this.subscribed.delete(name);
    this.announce({ kind: on ? 'subscribed' : 'unsubscribed', name });
  }

  watchFolders(listener: (change: FolderChange) => void): () => void {
    this.folderWatchers.add(listener);
    return () => this.folderWatchers.delete(listener);
  }

  /** As the Maildir store's registry: every listener hears it, one failing does not stop the rest. */
  private announce(change: FolderChange): void {
    for (const l of [...this.folderWatchers]) {
      try {
        l(change);
      } catch {
        // the Maildir store logs it; nothing to log to here
      }
    }
  }

  async mailbox(name: string): Promise<MemoryMailbox | null> {
    this.init();
    const canonical = normalizeName(name);
    if (canonical !== 'INBOX') checkName(canonical);
    return this.boxes.get(canonical) ?? null;
  }

  async create(name: string): Promise<void> {
    this.init();
    if (name.endsWith(HIERARCHY_SEPARATOR)) name = name.slice(0, -1);
    name = normalizeName(name);
    if (name === 'INBOX') throw new MailError('exists', 'Mailbox already exists');
    checkName(name);
    if (this.boxes.has(name)) throw new MailError('exists', 'Mailbox already exists');
    this.boxes.set(name, new MemoryMailbox(name));
    this.announce({ kind: 'created', name });
  }

  async delete(name: string): Promise<void> {
    this.init();
    name = normalizeName(name);
    if (name === 'INBOX') throw new MailError('cannot', "INBOX can't be deleted");
    checkName(name);
    const box = this.boxes.get(name);
    if (!box) throw new MailError('notfound', `Mailbox doesn't exist: ${name}`);
    this.boxes.delete(name);
    box.vanish();
    this.announce({ kind: 'deleted', name });
  }

  async rename(from: string, to: string): Promise<void> {
    this.init();
    from = normalizeName(from);
    if (to.endsWith(HIERARCHY_SEPARATOR)) to = to.slice(0, -1);
    to = normalizeName(to);
    if (from !== 'INBOX') checkName(from);
    if (to !== 'INBOX') checkName(to);
    if (to === 'INBOX') throw new MailError('exists', 'Mailbox already exists');
    if (from === to) throw new MailError('exists', "Can't rename mailbox to itself");
    if (to.startsWith(from + HIERARCHY_SEPARATOR)) throw new MailError('cannot', "Can't rename mailbox under itself");
    if (from === 'INBOX') {
      // RFC 3501 §6.3.5: INBOX's messages move to the new folder; INBOX stays, empty.
      if (this.boxes.has(to)) throw new MailError('exists', 'Mailbox already exists');
      this.boxes.set(to, new MemoryMailbox(to));
      const inbox = this.boxes.get('INBOX')!;
      const target = this.boxes.get(to)!;
      for (const m of [...inbox.all]) {
        const c = inbox.contentOf(m);
        target.add(c.data, c.flags, new Date(c.mtimeMs)).emailId = c.emailId;
      }
      inbox.forget([...inbox.all]);
      this.announce({ kind: 'renamed', from: 'INBOX', name: to });
      return;
    }
    const moving = [...this.boxes.keys()].filter((n) => n === from || n.startsWith(from + HIERARCHY_SEPARATOR));
    if (!moving.length) throw new MailError('notfound', `Mailbox doesn't exist: ${from}`);
    const targets = moving.map((n) => to + n.slice(from.length));
    for (const t of targets) checkName(t);
    if (targets.some((t) => this.boxes.has(t))) throw new MailError('exists', 'Target mailbox already exists');
    moving.forEach((n, i) => {
      const box = this.boxes.get(n)!;
      this.boxes.delete(n);
      this.boxes.set(targets[i], box.renamedTo(targets[i]));
      box.vanish();
    });
    this.announce({ kind: 'renamed', from, name: to }); // children went with it, as in the Maildir store
  }

  openSpool(): IncomingMessage {
    const s = new MemoryIncoming();
    this.spools.push(s);
    return s;
  }

  async append(mailbox: MailboxHandle, message: IncomingMessage, flags: string[], date: Date | null): Promise<{ uid: number; uidValidity: number }> {
    const box = mailbox as unknown as MemoryMailbox;
    const data = (message as MemoryIncoming).data;
    await this.checkQuota(toCrlf(data).length, 1);
    const m = box.add(data, flags, date);
    return { uid: m.uid, uidValidity: box.uidValidity };
  }

  /** As the Maildir store: the quota for all at once, then every message added, or none. */
  async appendMany(mailbox: MailboxHandle, items: AppendItem[]): Promise<{ uids: number[]; uidValidity: number }> {
    const box = mailbox as unknown as MemoryMailbox;
    const datas = items.map((it) => (it.message as MemoryIncoming).data);
    await this.checkQuota(
      datas.reduce((n, d) => n + toCrlf(d).length, 0),
      items.length,
    );
    const uids = items.map((it, i) => box.add(datas[i]!, it.flags, it.date).uid);
    return { uids, uidValidity: box.uidValidity };
  }

  /** As the Maildir store delivers: the trace header fields, then the message, into `folder` if it exists, else INBOX; \Recent. */
  async deliver(message: IncomingMessage, envelope: DeliveryEnvelope, folder?: string | null, options: DeliveryOptions = {}): Promise<{ folder: string; uid: number | null }> {
    const header = traceHeader(envelope);
    let name = 'INBOX';
    if (folder) {
      try {
        const wanted = normalizeName(folder);
        if (this.boxes.has(wanted)) name = wanted;
        else if (wanted !== 'INBOX' && options.create) {
          await this.create(wanted);
          name = wanted;
        }
      } catch (err) {
        if (!(err instanceof MailError)) throw err;
      }
    }
    const box = this.boxes.get(name)!;
    const data = Buffer.concat([header, (message as MemoryIncoming).data]);
    await this.checkQuota(toCrlf(data).length, 1);
    const m = box.add(data, options.flags ?? []);
    this.delivered.push({ folder: name, flags: options.flags ?? [], filtered: !!options.filtered });
    return { folder: name, uid: m.uid };
  }

  /** Every delivery, in order: where it went and how (for filter tests). */
  readonly delivered: Array<{ folder: string; flags: string[]; filtered: boolean }> = [];

  copy(source: MailboxHandle, metas: MessageRef[], dest: MailboxHandle): Promise<{ uids: number[]; uidValidity: number }> {
    return this.transfer(source, metas, dest, true);
  }

  private async transfer(source: MailboxHandle, metas: MessageRef[], dest: MailboxHandle, quota: boolean): Promise<{ uids: number[]; uidValidity: number }> {
    const from = source as unknown as MemoryMailbox;
    const to = dest as unknown as MemoryMailbox;
    // All or nothing: every message is read before any is added.
    const contents = metas.map((m) => {
      try {
        return from.contentOf(m);
      } catch (err) {
        if (err instanceof MessageGoneError) throw new MailError('expunged', 'Some of the requested messages no longer exist');
        throw err;
      }
    });
    if (quota) await this.checkQuota(contents.reduce((n, c) => n + c.data.length, 0), contents.length);
    // As the Maildir store: a copy keeps its EMAILID (RFC 8474 §5.1).
    const uids = contents.map((c) => {
      const m = to.add(c.data, c.flags, new Date(c.mtimeMs));
      m.emailId = c.emailId;
      return m.uid;
    });
    return { uids, uidValidity: to.uidValidity };
  }

  /** MOVE takes no more room: never refused by the quota (as the Maildir store and Dovecot). */
  async move(source: MailboxHandle, metas: MessageRef[], dest: MailboxHandle): Promise<{ uids: number[]; uidValidity: number }> {
    const result = await this.transfer(source, metas, dest, false);
    (source as unknown as MemoryMailbox).forget(metas);
    return result;
  }
}

/** Users' mail in memory, one MemoryUser per mail location, for ImapServer's `mail` option. */
export class MemoryMail implements MailProvider {
  readonly users = new Map<string, MemoryUser>();

  constructor(private readonly opts: { specialUse: SpecialUseMap; createSpecialFolders: boolean }) {}

  /** `housekeeping`: the same mail, with no special-use folder created (as the Maildir store). */
  userStore(root: string, quota?: QuotaLimits, housekeeping = false): MemoryUser {
    let u = this.users.get(root);
    if (!u) this.users.set(root, (u = new MemoryUser(this.opts.specialUse, this.opts.createSpecialFolders)));
    if (quota) u.limits = { ...quota };
    return housekeeping ? new MemoryUser(this.opts.specialUse, false, u) : u;
  }

  async close(): Promise<void> {}
}
