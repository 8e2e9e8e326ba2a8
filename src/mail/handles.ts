// What the protocols may ask of the store, as interfaces: a user's mail
// (MailUser), one folder (MailboxHandle), one message (MessageRef), and what a
// session's tracker hears (MailboxListener). The Maildir store implements them
// (store.ts, mailbox.ts); the command tests implement them in memory
// (test/support/memory-store.ts). Plain data in and out: nothing here names a
// file, a directory or a Maildir letter.
import type { LiteralSink } from '../wire/framer.js';
import type { MimePart } from '../wire/mime.js';
import type { StoredSummary } from '../wire/summary.js';
import type { MailError } from './errors.js';
import type { HeaderFacts } from './facts.js';
import type { SpecialUse } from './special-use.js';

/** One message of a folder, as long as it is there. */
export interface MessageRef {
  readonly uid: number;
  /** CONDSTORE mod-sequence of the message's last change (RFC 7162). */
  readonly modseq: number;
  /**
   * An opaque key of the message's flags: within a folder, equal keys mean
   * equal flags (the fast path renders each distinct FLAGS list once).
   */
  readonly info: string;
  /** CRLF size (RFC822.SIZE), once known; else vsizeOf(). */
  readonly vsize: number | null;
  /** INTERNALDATE in ms, once known; else internalDate(). */
  readonly mtimeMs: number | null;
  /**
   * The Date: header in UTC ms (null: none, or unparsable), once a SORT or
   * THREAD has read it (undefined until then): SORT (DATE) then needs no
   * record of the index (8 bytes a message in memory, a 100 MB read saved).
   */
  readonly sentMs?: number | null;
}

export type FlagMode = 'add' | 'remove' | 'replace';

/**
 * A session's view of the folder as the store sees it (the protocol's
 * tracker): told the UIDs when it attaches, then of every change, at once.
 */
export interface MailboxListener {
  readonly readOnly: boolean;
  /** The folder's UIDs (a shared array the mailbox only appends to) and those \Recent for this session. */
  init(uids: readonly number[], recent: number[]): void;
  onAdded(metas: MessageRef[]): void;
  onExpunged(metas: MessageRef[]): void;
  onFlags(meta: MessageRef): void;
  /** These new messages are \Recent in this session (it is the first read-write one). */
  claimRecent(uids: number[]): void;
  /** The folder got a new UIDVALIDITY and its messages new UIDs: this view is detached and means nothing any more. */
  onRenumbered(): void;
}

/** A message's content, parsed for FETCH: its MIME structure, and the bytes when small enough to keep. */
export interface LoadedMessage {
  root: MimePart;
  vsize: number;
  /** The whole CRLF form, when small enough to keep. */
  data: Buffer | null;
}

/** What the caller will render for each message of a batch: plain flags, no protocol. */
export interface MessageNeeds {
  /** A stored summary (header fields at least). */
  summary: boolean;
  /** …with the MIME structure (BODY, BODYSTRUCTURE). */
  structure: boolean;
  /** …with the ENVELOPE. */
  envelope: boolean;
  /** The CRLF size. */
  size: boolean;
  /** INTERNALDATE. */
  date: boolean;
  /** The whole message in its CRLF form (only when at most WHOLE_LIMIT bytes; else 'slow'). */
  whole: boolean;
}

/** What one message's response needs, gathered before it is written. */
export interface Prepared {
  summary: StoredSummary | null;
  vsize: number;
  mtimeMs: number;
  data: Buffer | null;
}

/** 'slow': serve it the general way (too big to hold whole); unreadable: that message's fault, logged by the store. */
export type Outcome = Prepared | 'gone' | 'slow' | { unreadable: MailError };

export interface PreparedBatch {
  metas: Array<MessageRef | null>;
  outcomes: Array<Outcome | null>;
  /**
   * The batch's responses are written: the store may reuse the memory its
   * summaries and whole messages were read into (nothing from them may be
   * kept past this).
   */
  release?: () => void;
}

/** The messages of one session's view: its UIDs in sequence order (for the text index's hints). */
export interface UidView {
  readonly uidList: readonly number[];
  /** 1-based sequence number, or 0 when the view does not hold `uid`. */
  seqOf(uid: number): number;
}

/**
 * What the text index says about one TEXT/BODY key over a view: messages in
 * `match` match, messages in `maybe` must be evaluated, every other message
 * of the view does not match.
 */
export interface TextHint {
  match: Set<number>;
  maybe: Set<number>;
}

/** One folder. The same object for every session of the process that opens it. */
export interface MailboxHandle {
  readonly name: string;
  readonly uidValidity: number;
  /** RFC 8474 MAILBOXID: stable for the folder's life, RENAME included (the Maildir store: the uidlist's GUID, Dovecot's too). */
  readonly mailboxId: string;
  readonly uidNext: number;
  readonly highestModseq: number;
  readonly count: number;
  /** Messages \Recent for nobody yet (STATUS RECENT). */
  readonly recentCount: number;
  readonly all: readonly MessageRef[];
  /** Sessions (views) that have the folder open. */
  readonly viewCount: number;
  /** No keyword can be added any more (PERMANENTFLAGS leaves out \*). */
  readonly keywordsFull: boolean;
  /** Keywords defined in the folder (for FLAGS and PERMANENTFLAGS). */
  keywordNames(): string[];

  byUid(uid: number): MessageRef | undefined;
  /** UIDs ascending: one array shared by every view in step (only appended to). */
  uidSnapshot(): readonly number[];
  /** IMAP flags, without \Recent (that belongs to a view). */
  flagsOf(meta: MessageRef): string[];
  isSeen(meta: MessageRef): boolean;
  /** Whether the message carries \\Deleted (STATUS DELETED). */
  isDeleted(meta: MessageRef): boolean;
  vsizeOf(meta: MessageRef): Promise<number>;
  internalDate(meta: MessageRef): Promise<Date>;
  /** When the message came into this folder (RFC 8514 SAVEDATE), as far as the store can tell; null when it cannot. */
  saveDate(meta: MessageRef): Promise<Date | null>;
  /** RFC 8474 EMAILID: an objectid (letters, digits, - and _) stable for the message in this folder. */
  emailId(meta: MessageRef): string;
  /**
   * RFC 8970 PREVIEW: about 200 characters of the message's first text part
   * ('' when it has none), cached. With `lazy`, only what is cached (else null,
   * and it is made in the background for next time).
   */
  preview(meta: MessageRef, lazy: boolean): Promise<string | null>;
  /** Throws the fault if the message cannot be read (before a streamed literal is announced). */
  checkReadable(meta: MessageRef): Promise<void>;
  /** Catches up with changes made outside (STATUS of a folder nobody has open); `force` rescans regardless. */
  refresh(force?: boolean): Promise<void>;

  /** A session's tracker starts hearing of changes; it gets the current UIDs first. */
  attach<L extends MailboxListener>(listener: L): Promise<L>;
  detach(listener: MailboxListener): void;

  /** Changes flags; returns the messages whose flags changed. Every listener but `origin` hears of it. */
  setFlags(
    metas: MessageRef[],
    mode: FlagMode,
    flags: string[],
    origin: MailboxListener | null,
    cond?: { unchangedSince: number; modified: number[] },
  ): Promise<MessageRef[]>;
  /** Removes the messages with \Deleted (only those in `uids`, if given); returns those removed. */
  expunge(uids: Set<number> | null): Promise<MessageRef[]>;
  /** UIDs expunged after `modseq` (QRESYNC's VANISHED (EARLIER)). */
  expungedSince(modseq: number): number[];
  /**
   * When the message came into this folder (ms), as well as the store knows
   * it (Dovecot's save date); INTERNALDATE where it knows nothing better.
   * The Maildir store answers the file's ctime (see Mailbox.arrivedAt).
   */
  arrivedAt(meta: MessageRef): Promise<number>;
  /**
   * Removes those of `metas` that arrived in this folder before `cutoffMs`,
   * whatever their flags (autoexpunge, the admin command), judged and removed
   * under the folder's lock so that a message made younger meanwhile stays.
   * Every listener hears of it as of any EXPUNGE. Returns those removed.
   */
  expungeArrivedBefore(metas: readonly MessageRef[], cutoffMs: number): Promise<MessageRef[]>;

  // Content. A message gone meanwhile throws what isMessageGone() recognises.
  loadMessage(meta: MessageRef): Promise<LoadedMessage>;
  /** Bytes [start, end) of the CRLF form, from `msg` if it holds them, else streamed. */
  messageRange(meta: MessageRef, msg: LoadedMessage | null, start: number, end: number): AsyncIterable<Buffer>;
  /** What one FETCH batch's responses need (null metas are gone). */
  prepareBatch(metas: Array<MessageRef | null>, needs: MessageNeeds): Promise<PreparedBatch>;
  /**
   * What SORT and THREAD take from each message's header summary (`pick`,
   * called batch by batch, so only what it returns is held: the summary's
   * bytes may be a reused read buffer, so `pick` returns copies, never the
   * summary or a slice of it); null for a message gone meanwhile.
   */
  summaries<T>(metas: MessageRef[], pick: (s: StoredSummary) => T): Promise<Array<T | null>>;
  /** A read fault of one message: logged, and returned as its MailError; anything else is rethrown. */
  unreadableFault(meta: MessageRef, err: unknown): MailError;
  headerFacts(meta: MessageRef): Promise<HeaderFacts>;
  /** For each needle (folded), whether the decoded body text contains it. */
  bodyMatches(meta: MessageRef, needles: string[]): Promise<boolean[]>;
  /** The text index's answer for TEXT/BODY, or null to evaluate every message. */
  textHint(view: UidView, value: string, bodyOnly: boolean): Promise<TextHint | null>;
}

/** A message being received (an APPEND literal), held by the store until appended or discarded. */
export interface IncomingMessage extends LiteralSink {
  /** Bytes received so far. */
  readonly size: number;
  /** Throws what stopped the message from being kept (a full disk), if anything did. */
  throwIfFailed(): void;
  /** The whole message once finished (as stored: LF line endings in a Maildir), for a delivery's filter. */
  read(): Promise<Buffer>;
  /** The same bytes as read(), a piece at a time (a CATENATE TEXT part is never held whole). */
  pieces(): AsyncIterable<Buffer>;
}

/** One message of an APPEND: its spool, flags and INTERNALDATE (null: now). */
export interface AppendItem {
  message: IncomingMessage;
  flags: string[];
  date: Date | null;
}

/** How a delivery is stored beyond its envelope: what a Sieve filter decided. */
export interface DeliveryOptions {
  /** Flags for the stored message (imap4flags); it stays \Recent. */
  flags?: string[];
  /** Create `folder` when it does not exist (fileinto :create); else a missing folder means INBOX. */
  create?: boolean;
  /** The message went through the user's filter already: the watcher must not filter it again. */
  filtered?: boolean;
}

/** Where a filter puts a message: folders (INBOX for keep) with flags; none at all is a discard. */
export interface FilterDecision {
  targets: Array<{ folder: string; flags: string[]; create: boolean }>;
  /**
   * Runs once the message is in its targets (before it is removed, for a
   * discard): redirect, vacation. False when it could not be handed on, so
   * a message with no target is kept in INBOX instead. Never rejects.
   */
  after(): Promise<boolean>;
  /** For the store's log line. */
  summary: string;
}

/**
 * A filter for mail another program (Postfix's virtual(8)) wrote into a
 * user's INBOX new/: called with the user's Maildir root and a reader of the
 * message bytes (read only if the user has something to filter with), once,
 * before any session hears of the message. Null: leave it.
 */
export interface ArrivalFilter {
  (root: string, read: () => Promise<Buffer>): Promise<FilterDecision | null>;
  /**
   * Whether mail for the Maildir at `root` would be filtered at all; asked
   * first, so a user with nothing to filter with costs no uidlist read on
   * the push path. Absent: always.
   */
  wanted?(root: string): boolean | Promise<boolean>;
}

/** The envelope of a message delivered over LMTP: what virtual(8) writes as trace header fields. */
export interface DeliveryEnvelope {
  /** MAIL FROM's address; '' for the null sender (a bounce). Becomes `Return-Path: <…>`. */
  returnPath: string;
  /** The recipient, as RCPT TO named it. Becomes `Delivered-To:`. */
  deliveredTo: string;
  /** The recipient before any rewriting (ORCPT), when the client passed it: `X-Original-To:`. */
  originalTo?: string | null;
}

/** A user's quota limits: bytes of storage (the files' sizes) and messages; null is no limit. */
export interface QuotaLimits {
  storage: number | null;
  messages: number | null;
}

/** A user's quota as IMAP QUOTA and the policy service report it. */
export interface QuotaStatus {
  limits: QuotaLimits;
  /** Bytes the user's messages take (their file sizes, as Maildir++ counts them); 0 when nothing is limited (not tracked). */
  bytes: number;
  /** Messages in all the user's folders; 0 when nothing is limited. */
  messages: number;
}

/**
 * A change to the user's folder list, as any session or the store itself
 * made it (NOTIFY's MailboxName and SubscriptionChange, RFC 5465 §5.4, §5.5).
 * A RENAME is one change, its children moved with it; RENAME INBOX is a
 * rename from INBOX (a new, empty INBOX is implied).
 */
export type FolderChange =
  | { kind: 'created'; name: string }
  | { kind: 'deleted'; name: string }
  | { kind: 'renamed'; from: string; name: string }
  | { kind: 'subscribed'; name: string }
  | { kind: 'unsubscribed'; name: string };

/** One user's mail. */
export interface MailUser {
  /**
   * Hears every change to the user's folders and subscriptions made through
   * any MailUser of the same mail in this process, once it is done. Returns
   * the function that stops it.
   */
  watchFolders(listener: (change: FolderChange) => void): () => void;
  /**
   * The user's quota (Maildir++ `maildirsize`): limits and usage. APPEND,
   * COPY and deliver fail with MailError 'quota' when the message would not
   * fit; MOVE never does (it takes no more room). EXPUNGE and DELETE free room.
   */
  quota(): Promise<QuotaStatus>;
  folders(): Promise<FolderInfo[]>;
  subscriptions(): Promise<Set<string>>;
  subscribe(name: string, on: boolean): Promise<void>;
  /** The folder, or null when there is none of that name. */
  mailbox(name: string): Promise<MailboxHandle | null>;
  create(name: string): Promise<void>;
  delete(name: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Somewhere to receive a message into before append(). */
  openSpool(): IncomingMessage;
  append(mailbox: MailboxHandle, message: IncomingMessage, flags: string[], date: Date | null): Promise<{ uid: number; uidValidity: number }>;
  /**
   * MULTIAPPEND (RFC 3502): every message or none. The quota is checked for
   * all of them at once; their UIDs are assigned together, ascending in the
   * order given, only once every message is in place, so a failure leaves
   * no message and no UID used. The spools are consumed only on success.
   */
  appendMany(mailbox: MailboxHandle, messages: AppendItem[]): Promise<{ uids: number[]; uidValidity: number }>;
  /**
   * A delivery (LMTP): `message` (a spool from any user's openSpool(), read,
   * not consumed: one message goes to several recipients) is written with the
   * envelope's trace header fields into `folder` if that folder exists (a
   * `+detail`), else INBOX, as a new message (\Recent). Resolves once it is
   * on disk; every session with the folder open has heard EXISTS by then.
   * Fails with MailError 'temporary' (disk full, folder not writable: nothing
   * is left half-written) or 'quota'.
   */
  deliver(message: IncomingMessage, envelope: DeliveryEnvelope, folder?: string | null, options?: DeliveryOptions): Promise<{ folder: string; uid: number | null }>;
  /** Counts the usage afresh from the folders (Maildir++: maildirsize rewritten); with no limit set, counts it anyway. */
  recalculateQuota(): Promise<QuotaStatus>;
  /**
   * Drops and rebuilds the store's caches of `folder` (every folder when
   * null): never UIDs, flags or anything else that is state. Returns each
   * folder done with its message count. MailError 'notfound' for no such folder.
   */
  reindex(folder: string | null): Promise<Array<{ folder: string; messages: number }>>;
  /** UIDPLUS: the new UIDs in source order. All or nothing. */
  copy(source: MailboxHandle, metas: MessageRef[], dest: MailboxHandle): Promise<{ uids: number[]; uidValidity: number }>;
  move(source: MailboxHandle, metas: MessageRef[], dest: MailboxHandle): Promise<{ uids: number[]; uidValidity: number }>;
}

export interface FolderInfo {
  name: string;
  /** True when a child folder exists (Archive has Archive.2024). */
  hasChildren: boolean;
  /** A virtual parent: no directory of its own, only children. */
  noselect: boolean;
  specialUse: SpecialUse[];
}
