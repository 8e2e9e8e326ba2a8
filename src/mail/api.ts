// The store's API: the only module of src/mail that the rest of the server
// (the IMAP protocol, the server wiring, and next LMTP, Sieve and the admin
// socket) imports. The protocol works on the interfaces of handles.ts — a
// user's mail (MailUser), a folder (MailboxHandle), a message (MessageRef) —
// in plain data; MailService makes the Maildir implementation of them. The
// command tests plug in an in-memory one (test/support/memory-store.ts).
import type { Logger } from 'pino';
import { MailStore, MailboxRegistry } from './store.js';
import type { SpecialUseMap } from './special-use.js';
import type { ArrivalFilter, MailUser, QuotaLimits } from './handles.js';
import { removeLockTemplates } from './dotlock.js';
import { textIndexBytes } from './text-index.js';
import { contentCacheBytes } from './content.js';
import { factsCache } from './facts.js';
import { cacheBudget } from '../runtime/memory-budget.js';

export type {
  MailUser,
  MailboxHandle,
  MessageRef,
  MailboxListener,
  IncomingMessage,
  AppendItem,
  DeliveryEnvelope,
  DeliveryOptions,
  FilterDecision,
  ArrivalFilter,
  FolderInfo,
  FolderChange,
  FlagMode,
  LoadedMessage,
  MessageNeeds,
  Prepared,
  PreparedBatch,
  Outcome,
  TextHint,
  UidView,
  QuotaLimits,
  QuotaStatus,
} from './handles.js';
export { MailError, MessageGoneError, mailErrorOf, isMessageGone, type MailErrorKind } from './errors.js';
export { HIERARCHY_SEPARATOR, normalizeName, checkName } from './store.js';
export { DEFAULT_SPECIAL_USE, type SpecialUseMap, type SpecialUse } from './special-use.js';
export { SYSTEM_FLAGS } from './flags.js';
export type { HeaderFacts } from './facts.js';
// Pure content helpers, for any store implementation (what the Maildir store computes from its files).
export { factsOfMessage } from './facts.js';
export { transferDecoder, type ByteDecoder } from './body-decode.js';
export { previewOf } from './preview.js';
export { folderTree } from './folder-tree.js';
export { traceHeader } from './delivery.js';
/** HTML to the text a reader sees (Sieve's body :text, as the word index reads it). */
export { htmlToText } from './html-text.js';
export { fits as quotaFits, NO_LIMITS, MAILDIRSIZE } from './quota.js';

export interface MailServiceOptions {
  log: Logger;
  /** How often open folders are checked for changes the watcher missed. */
  rescanMs: number;
  specialUse: SpecialUseMap;
  /** Create the special-use folders at a user's first login. */
  createSpecialFolders: boolean;
  /** Filters mail written straight into INBOX's new/ (Sieve), before any session hears of it. */
  arrivalFilter?: ArrivalFilter;
}

/** Where the server gets each user's mail from: the Maildir store (MailService), or an in-memory one in tests. */
export interface MailProvider {
  /**
   * The mail of the user whose mail location (a Maildir path) is `root`, with
   * the user's quota limits. `housekeeping`: for the server's own work on a
   * user who may never have logged in (autoexpunge, the admin command): no
   * special-use folder is created.
   */
  userStore(root: string, quota?: QuotaLimits, housekeeping?: boolean): MailUser;
  /** Flushes what is pending and stops watching (shutdown). */
  close(): Promise<void>;
  /** Keeps watching the INBOX of the Maildir at `root` with no session (its new mail is filtered as it comes). */
  watchInbox?(root: string): Promise<void>;
  /** What the store holds in memory (the SIGUSR2 report): open folders, cache bytes and the budget they share. */
  memoryReport?(): MailMemoryReport;
}

export interface MailMemoryReport {
  openFolders: number;
  textIndexBytes: number;
  contentCacheBytes: number;
  headerCacheBytes: number;
  cacheBudgetBytes: number;
}

/** Every user's mail, sharing one set of open folders (watchers, indexes) for the whole process. */
export class MailService implements MailProvider {
  private readonly registry: MailboxRegistry;

  constructor(private readonly opts: MailServiceOptions) {
    const filter = opts.arrivalFilter;
    this.registry = new MailboxRegistry(
      opts.log,
      opts.rescanMs,
      filter
        ? (root, inbox) => ({
            wanted: () => filter.wanted?.(root) ?? true,
            place: (files) => new MailStore(root, this.registry, opts.specialUse, false).filterArrivals(inbox, files, filter),
          })
        : undefined,
    );
  }

  /**
   * Keeps the user's INBOX watched with no session (its new mail is
   * filtered as it comes, not at the next login). For users with scripts.
   */
  async watchInbox(root: string): Promise<void> {
    await this.registry.get('INBOX', root).pin();
  }

  /** The mail of the user whose Maildir is `root`. */
  userStore(root: string, quota?: QuotaLimits, housekeeping = false): MailUser {
    return new MailStore(root, this.registry, this.opts.specialUse, this.opts.createSpecialFolders && !housekeeping, quota);
  }

  memoryReport(): MailMemoryReport {
    return {
      openFolders: this.registry.openCount,
      textIndexBytes: textIndexBytes(),
      contentCacheBytes: contentCacheBytes(),
      headerCacheBytes: factsCache.bytes,
      cacheBudgetBytes: cacheBudget(),
    };
  }

  /** Flushes every open folder's index to disk and stops watching (shutdown). */
  async close(): Promise<void> {
    await this.registry.closeAll();
    await removeLockTemplates();
  }
}
