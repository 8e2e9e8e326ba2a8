// One session's view of a mailbox: its own sequence numbers, its \Recent set,
// and the changes it has not been told about yet. RFC 3501 §7.4.1: EXPUNGE
// responses wait until the session may receive them; EXISTS may go any time.
import type { MailboxHandle, MailboxListener, MessageRef } from '../mail/api.js';
import { SearchContexts } from './search/context.js';

export type ViewUpdate =
  | { kind: 'expunge'; seq: number; uid: number }
  | { kind: 'exists'; count: number }
  | { kind: 'recent'; count: number }
  | { kind: 'flags'; seq: number; uid: number; flags: string[]; modseq: number };

export class MailboxView implements MailboxListener {
  /**
   * Sequence number n ↔ uids[n-1] for n ≤ len, ascending. While the view is in
   * step with the mailbox this is the mailbox's shared UID array (10,000 idling
   * sessions hold one array, not 10,000 copies). The mailbox only appends to
   * it, past this view's `len`; the view copies it before changing it.
   */
  private uids: readonly number[] = [];
  private len = 0;
  private shared = false;
  // The collections below exist only while they hold something: an idling
  // session holds none (at 10,000 TLS sessions, 1 KB each; issue 14).
  /** Metadata of messages expunged from the mailbox but still in this view. */
  private gone: Map<number, MessageRef> | null = null;
  private pendingNew: number[] = [];
  private pendingFlags: Set<number> | null = null;
  private recent: Set<number> | null = null;
  /**
   * RFC 9051 (IMAP4rev2 enabled): the session shows no \Recent flag and no RECENT
   * response. Messages are still claimed (new/ → cur/); the client is just not told.
   */
  hideRecent = false;
  /** Keywords this session has been told of (FLAGS at SELECT, or since). */
  private announced: Set<string> | null = null;
  /**
   * RFC 5182 search result variable ("$"): the UIDs the last SEARCH … RETURN (SAVE)
   * kept, ascending. It lives on the view, so SELECT/EXAMINE (a new view) empties it;
   * expunged messages drop out when "$" is resolved (§2.1).
   */
  savedSearch: readonly number[] = [];
  /** RFC 5267 searches kept live with RETURN (UPDATE); a new SELECT ends them with this view. */
  readonly contexts = new SearchContexts();
  /** Called whenever an update is queued, so an idling connection can write it at once. */
  onChange: (() => void) | null = null;

  constructor(
    readonly mailbox: MailboxHandle,
    readonly readOnly: boolean,
  ) {}

  /** A new view of `mailbox`, attached to it (SELECT, EXAMINE). */
  static async open(mailbox: MailboxHandle, readOnly: boolean): Promise<MailboxView> {
    return mailbox.attach(new MailboxView(mailbox, readOnly));
  }

  /**
   * The folder's keywords, when some are new to this session since it was
   * last told (at SELECT: all of them): it must hear FLAGS again before a
   * FETCH shows one (RFC 3501 §7.2.6). Null when nothing is new.
   */
  newKeywords(): string[] | null {
    const names = this.mailbox.keywordNames();
    if (names.every((n) => this.announced?.has(n))) return null;
    this.announced ??= new Set();
    for (const n of names) this.announced.add(n);
    return names;
  }

  /** Stops hearing of changes (UNSELECT, another SELECT, logout). */
  close(): void {
    this.onChange = null;
    this.mailbox.detach(this);
  }

  /** Sets the initial contents at SELECT time (`uids` is the mailbox's shared snapshot). */
  init(uids: readonly number[], recent: number[]): void {
    this.uids = uids;
    this.len = uids.length;
    this.shared = true;
    if (recent.length) this.recent = new Set(recent);
  }

  /** The UID list, made this view's own before it is changed. */
  private own(): number[] {
    if (this.shared) {
      this.uids = this.uids.slice(0, this.len);
      this.shared = false;
    }
    return this.uids as number[];
  }

  get exists(): number {
    return this.len;
  }

  /** How many messages this session holds as \Recent. */
  get recentCount(): number {
    return this.recent?.size ?? 0;
  }

  /** The view's UIDs in sequence order; stable while the caller holds it (a shared array is copied). */
  get uidList(): readonly number[] {
    return this.shared ? this.uids.slice(0, this.len) : this.uids;
  }

  /** 1-based sequence number of `uid`, or 0 if the view does not hold it. */
  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.len - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.uids[mid];
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  uidAt(seq: number): number | undefined {
    return seq >= 1 && seq <= this.len ? this.uids[seq - 1] : undefined;
  }

  /** The saved search result (RFC 5182 "$") still numbered in this view, ascending UIDs. */
  savedUids(): number[] {
    return this.savedSearch.filter((u) => this.seqOf(u) > 0);
  }

  /** The message behind a uid of this view, even if expunged meanwhile. */
  meta(uid: number): MessageRef | undefined {
    return this.mailbox.byUid(uid) ?? this.gone?.get(uid);
  }

  isExpunged(uid: number): boolean {
    return this.gone?.has(uid) === true;
  }

  /** Whether the session shows `uid` as \Recent (never under IMAP4rev2). */
  isRecent(uid: number): boolean {
    return !this.hideRecent && this.recent?.has(uid) === true;
  }

  /** IMAP flags of a message as this session sees them (\Recent included). */
  flagsOf(meta: MessageRef): string[] {
    const flags = this.mailbox.flagsOf(meta);
    if (this.isRecent(meta.uid)) flags.push('\\Recent');
    return flags;
  }

  // --- changes from the mailbox ---

  onAdded(metas: MessageRef[]): void {
    for (const m of metas) this.pendingNew.push(m.uid);
    this.changed();
  }

  claimRecent(uids: number[]): void {
    if (!uids.length) return;
    this.recent ??= new Set();
    for (const u of uids) this.recent.add(u);
  }

  onExpunged(metas: MessageRef[]): void {
    for (const m of metas) {
      const i = this.pendingNew.indexOf(m.uid);
      if (i >= 0) {
        this.pendingNew.splice(i, 1); // never announced: nothing to tell
        this.recent?.delete(m.uid);
      } else if (this.seqOf(m.uid)) {
        (this.gone ??= new Map()).set(m.uid, m);
      }
    }
    this.changed();
  }

  /** The folder's UIDs were renumbered under a new UIDVALIDITY: the session must select it again. */
  renumbered = false;

  onRenumbered(): void {
    this.renumbered = true;
    this.changed();
  }

  onFlags(meta: MessageRef): void {
    (this.pendingFlags ??= new Set()).add(meta.uid);
    this.changed();
  }

  private changed(): void {
    this.onChange?.();
  }

  /** UIDs expunged from the mailbox that this view has not announced yet, ascending. */
  pendingExpunges(): number[] {
    return this.gone ? [...this.gone.keys()].sort((a, b) => a - b) : [];
  }

  get hasPending(): boolean {
    return this.gone !== null || this.pendingNew.length > 0 || this.pendingFlags !== null;
  }

  /**
   * The updates to send now. Expunges are held back unless `allowExpunge`;
   * held-back messages keep their sequence numbers meanwhile.
   */
  flush(allowExpunge: boolean): ViewUpdate[] {
    const out: ViewUpdate[] = [];
    if (allowExpunge && this.gone) {
      for (const uid of [...this.gone.keys()].sort((a, b) => a - b)) {
        const seq = this.seqOf(uid);
        if (seq) {
          this.own().splice(seq - 1, 1);
          out.push({ kind: 'expunge', seq, uid });
        }
        this.recent?.delete(uid);
        this.pendingFlags?.delete(uid);
      }
      this.gone = null;
      this.len = this.uids.length;
    }
    if (this.pendingNew.length) {
      this.pendingNew.sort((a, b) => a - b);
      let last = this.len ? this.uids[this.len - 1] : 0;
      // out of order: cannot be shown without renumbering
      const fresh = this.pendingNew.filter((uid) => (uid > last ? ((last = uid), true) : false));
      this.pendingNew = [];
      // In step with the mailbox (nothing held back): take its snapshot instead of growing a copy.
      const snap = this.gone === null ? this.mailbox.uidSnapshot() : null;
      if (snap && snap.length === this.len + fresh.length && (!fresh.length || snap[snap.length - 1] === fresh[fresh.length - 1])) {
        this.uids = snap;
        this.shared = true;
      } else if (fresh.length) {
        const own = this.own();
        for (const u of fresh) own.push(u); // a spread of 125,000+ arguments overflows the stack
      }
      this.len = this.shared ? this.len + fresh.length : this.uids.length;
      out.push({ kind: 'exists', count: this.len });
      if (!this.hideRecent) out.push({ kind: 'recent', count: this.recentCount });
    }
    for (const uid of this.pendingFlags ?? []) {
      const seq = this.seqOf(uid);
      const meta = this.mailbox.byUid(uid);
      if (seq && meta && !this.isExpunged(uid)) out.push({ kind: 'flags', seq, uid, flags: this.flagsOf(meta), modseq: meta.modseq });
    }
    this.pendingFlags = null;
    return out;
  }
}
