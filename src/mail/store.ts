// A user's mail: the Maildir++ tree under one root. INBOX is the root itself;
// folder "Archive.2024" lives in "<root>/.Archive.2024/". Names on the wire and
// on disk are the same (IMAP modified UTF-7, as Dovecot's default layout keeps them).
// A folder whose parent has no directory of its own ("A" beside ".A.B") is a
// virtual parent: listed \Noselect, as Dovecot lists it.
import { promises as fs, mkdirSync, type Stats } from 'node:fs';
import { writeFileAtomically } from './atomic-write.js';
import crypto from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { Mailbox, unloadOptions, type InboxArrivals, type MessageMeta } from './mailbox.js';
import { forgetTextIndex } from './text-index.js';
import { decodeMutf7, Mutf7Error } from '../wire/mutf7.js';
import { nextUidValidity } from './uidvalidity.js';
import { DEFAULT_SPECIAL_USE, type SpecialUseMap } from './special-use.js';
import { withDotlock } from './dotlock.js';
import { MessageSpool, newBaseName, sizedBaseName } from './spool.js';
import { curName, parseName, sortLetters, type ScannedFile } from './maildir.js';
import { systemFlag, systemLetter, isKeywordLetter } from './flags.js';
import { KeywordTable } from './keywords.js';
import { MailError, MessageGoneError, isDiskFull } from './errors.js';
import type { ArrivalFilter, DeliveryEnvelope, DeliveryOptions, FilterDecision, FolderChange, FolderInfo, MailUser, QuotaLimits, QuotaStatus } from './handles.js';
import { MaildirQuota, NO_LIMITS, folderUsage, sizeInName } from './quota.js';
import { folderTree, HIERARCHY_SEPARATOR } from './folder-tree.js';
import { deliveryError, traceHeader, writeDelivery } from './delivery.js';

export { HIERARCHY_SEPARATOR };

/** How often open folders are checked for ones to drop from memory (Mailbox.unloadable). */
const SWEEP_MS = 10_000;

/**
 * Every open Mailbox, shared across all sessions of all users (keyed by
 * path). A folder nobody has used for a while is dropped, so memory follows
 * the folders in use, not every folder ever opened since the start.
 */
export class MailboxRegistry {
  private readonly open = new Map<string, Mailbox>();
  /** \Recent owed by dropped folders to their next read-write session (usually empty). */
  private readonly owedRecent = new Map<string, number[]>();
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Each user's quota usage, by Maildir root: one per process, shared by the user's sessions and deliveries. */
  private readonly quotas = new Map<string, MaildirQuota>();
  /** Who hears of folder changes, by Maildir root (NOTIFY sessions; empty for most users). */
  private readonly folderWatchers = new Map<string, Set<(change: FolderChange) => void>>();

  constructor(
    readonly log: Logger,
    private readonly rescanMs: number,
    /** For a user's INBOX (its directory is the Maildir root): the filter of mail written into new/, if any. */
    private readonly inboxArrivals?: (root: string, inbox: Mailbox) => InboxArrivals,
  ) {}

  /** The quota usage of the user whose Maildir is `root`. */
  quotaOf(root: string): MaildirQuota {
    let q = this.quotas.get(root);
    if (!q) this.quotas.set(root, (q = new MaildirQuota(root, this.log)));
    return q;
  }

  /** `listener` hears every folder change of the Maildir at `root`; returns its removal. */
  watchFolders(root: string, listener: (change: FolderChange) => void): () => void {
    let set = this.folderWatchers.get(root);
    if (!set) this.folderWatchers.set(root, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.folderWatchers.get(root) === set) this.folderWatchers.delete(root);
    };
  }

  /** Tells the watchers of `root` of a change; one failing listener does not stop the others. */
  announce(root: string, change: FolderChange): void {
    for (const l of [...(this.folderWatchers.get(root) ?? [])]) {
      try {
        l(change);
      } catch (err) {
        this.log.error({ err, root }, 'folder change listener failed');
      }
    }
  }

  get(name: string, dir: string, quota: MaildirQuota | null = null): Mailbox {
    let mb = this.open.get(dir);
    if (!mb) {
      mb = new Mailbox(name, dir, this.log.child({ mailbox: dir }), this.rescanMs, quota);
      if (name === 'INBOX' && this.inboxArrivals) mb.arrivals = this.inboxArrivals(dir, mb);
      const owed = this.owedRecent.get(dir);
      if (owed) mb.oweRecent(owed);
      this.owedRecent.delete(dir);
      this.open.set(dir, mb);
      this.sweepTimer ??= setInterval(() => this.sweep(), Math.min(SWEEP_MS, unloadOptions.idleMs)).unref();
    }
    mb.lastUsed = Date.now();
    return mb;
  }

  /** The Mailbox for `dir` if one is open (no I/O). */
  peek(dir: string): Mailbox | undefined {
    const mb = this.open.get(dir);
    if (mb) mb.lastUsed = Date.now();
    return mb;
  }

  /** Open folders (tests, the memory report). */
  get openCount(): number {
    return this.open.size;
  }

  /**
   * Drops the folders nobody uses. A caller still holding a dropped Mailbox
   * (none should, past idleMs) works on as a second server on the same
   * Maildir would: the uidlist's lock keeps UIDs unique.
   */
  sweep(now = Date.now()): void {
    for (const [dir, mb] of this.open) {
      if (!mb.unloadable(now)) continue;
      this.open.delete(dir);
      const owed = mb.owedRecent;
      if (owed.length) this.owedRecent.set(dir, owed);
      forgetTextIndex(mb);
      // close() writes the index records still pending and closes the uidlist's file.
      mb.close().catch((err) => this.log.warn({ err, mailbox: dir }, 'closing an unused folder failed'));
    }
    if (this.open.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
  }

  /** The folder at `dir` went away (DELETE, RENAME): its sessions see every message expunged. */
  drop(dir: string): void {
    const mb = this.open.get(dir);
    if (!mb) return;
    this.open.delete(dir);
    mb.vanish();
  }

  async closeAll(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const closing = [...this.open.values()].map((mb) => mb.close());
    this.open.clear();
    await Promise.all(closing);
  }
}

const SUBSCRIPTIONS = 'subscriptions';
const LOCK = { staleMs: 120_000, timeoutMs: 30_000 };

/** "inbox", "Inbox.x" → "INBOX", "INBOX.x" (INBOX is case-insensitive, RFC 3501 §5.1). */
export function normalizeName(name: string): string {
  const up = name.slice(0, 6).toUpperCase();
  if (up === 'INBOX' && name.length === 5) return 'INBOX';
  if (up === 'INBOX' + HIERARCHY_SEPARATOR) return 'INBOX' + name.slice(5);
  return name;
}

/** Longest folder name: its directory, "." + name, must fit the file system's 255 bytes. */
const MAX_NAME_BYTES = 254;

/** Checks a folder name (INBOX excluded); throws MailError 'invalid' (or 'limit') with the reason. */
export function checkName(name: string): void {
  if (name.length === 0) throw new MailError('invalid', 'Invalid mailbox name');
  // The whole name is one directory name, ".A.B.C", and file systems stop at 255 bytes.
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new MailError('limit', `Mailbox name longer than ${MAX_NAME_BYTES} bytes`);
  // A wildcard in a name could never be listed by itself (RFC 3501 §6.3.8).
  if (/[*%]/.test(name)) throw new MailError('invalid', "Invalid mailbox name: must not contain '*' or '%'");
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) throw new MailError('invalid', 'Mailbox name contains a control character');
  if (/[/\\]/.test(name)) throw new MailError('invalid', "Invalid mailbox name: must not contain '/' or '\\'");
  const parts = name.split(HIERARCHY_SEPARATOR);
  if (parts[0] === '') throw new MailError('invalid', 'Invalid mailbox name: begins with hierarchy separator');
  if (parts.some((p) => p === '')) throw new MailError('invalid', 'Invalid mailbox name: has adjacent or trailing hierarchy separators');
  if (parts.some((p) => p.startsWith('~'))) throw new MailError('invalid', "Invalid mailbox name: a level starts with '~'");
  try {
    decodeMutf7(name);
  } catch (err) {
    if (err instanceof Mutf7Error) throw new MailError('invalid', err.message);
    throw err;
  }
}

/** Users' Maildir roots whose special-use folders this process has made sure of. */
const ensuredRoots = new Set<string>();

export class MailStore implements MailUser {
  private ready: Promise<void> | null = null;
  /** The user's quota usage (shared with every session and delivery of the user in this process). */
  readonly usage: MaildirQuota;

  constructor(
    readonly root: string,
    private readonly registry: MailboxRegistry,
    readonly specialUse: SpecialUseMap = DEFAULT_SPECIAL_USE,
    /** Create the special-use folders when missing (Dovecot's `auto = subscribe`). */
    private readonly autoCreate = true,
    /** The user's quota limits (users file, else the configured default). */
    limits: QuotaLimits = NO_LIMITS,
  ) {
    this.usage = registry.quotaOf(root);
    this.usage.setLimits(limits);
  }

  quota(): Promise<QuotaStatus> {
    return this.usage.status();
  }

  async recalculateQuota(): Promise<QuotaStatus> {
    return this.usage.recalculateNow();
  }

  async reindex(folder: string | null): Promise<Array<{ folder: string; messages: number }>> {
    const names = folder === null ? ['INBOX', ...(await this.folderNames())] : [normalizeName(folder)];
    const out: Array<{ folder: string; messages: number }> = [];
    for (const name of names) {
      const mb = await this.mailbox(name);
      if (!mb) throw new MailError('notfound', `Mailbox doesn't exist: ${name}`);
      out.push({ folder: name, messages: await mb.rebuildCaches() });
    }
    return out;
  }

  /** The folder's directory; rejects any name that could leave the Maildir. */
  dirOf(name: string): string {
    name = normalizeName(name);
    if (name === 'INBOX') return this.root;
    checkName(name);
    return path.join(this.root, '.' + name);
  }

  /**
   * Once per session (a MailStore lives for one login): the special-use
   * folders are created and subscribed if missing.
   */
  init(): Promise<void> {
    this.ready ??= (async () => {
      // Once per user and process, not per session: a phone reconnecting every few minutes
      // need not stat five folders before each SELECT. Our own DELETE/RENAME forget it.
      if (!this.autoCreate || ensuredRoots.has(this.root)) return;
      await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
      for (const name of Object.values(this.specialUse)) {
        try {
          if (await this.exists(name)) continue;
          await this.createFolder(name);
          await this.subscribe(name, true);
        } catch (err) {
          // A full disk: the user can still read and delete mail; the next session tries again.
          if (isDiskFull(err)) return;
          if (!(err instanceof MailError)) throw err;
        }
      }
      ensuredRoots.add(this.root);
    })();
    // A failure is this command's NO; the next command tries again (never a session that fails every command).
    this.ready.catch(() => (this.ready = null));
    return this.ready;
  }

  /** Names of every Maildir++ folder with a cur/ directory (INBOX not included), sorted. */
  private async folderNames(): Promise<string[]> {
    let entries: string[] = [];
    try {
      entries = await fs.readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const names: string[] = [];
    await Promise.all(
      entries.map(async (e) => {
        if (e.length < 2 || e[0] !== '.' || e === '..') return;
        const name = e.slice(1);
        try {
          checkName(name);
        } catch {
          return; // not a name we could serve
        }
        if (await isFolderDir(path.join(this.root, e))) names.push(name);
      }),
    );
    return names.sort();
  }

  /** INBOX, every Maildir++ folder that exists (has cur/), and virtual parents of nested ones. */
  async folders(): Promise<FolderInfo[]> {
    await this.init();
    return folderTree(await this.folderNames(), this.specialUse);
  }

  // --- subscriptions (Dovecot's `subscriptions`: "V\t2\n\n", then one name per line, levels separated by TAB) ---

  async subscriptions(): Promise<Set<string>> {
    const text = await fs.readFile(path.join(this.root, SUBSCRIPTIONS), 'utf8').catch(() => '');
    return new Set(parseSubscriptions(text));
  }

  /** Adds or removes a subscription; the file is rewritten atomically under Dovecot's dotlock. */
  async subscribe(name: string, on: boolean): Promise<void> {
    name = normalizeName(name);
    if (name !== 'INBOX') checkName(name);
    if (on && !(await this.exists(name))) throw new MailError('notfound', `Mailbox doesn't exist: ${name}`);
    const file = path.join(this.root, SUBSCRIPTIONS);
    let changed = false;
    await withDotlock(file, LOCK, async () => {
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      const names = parseSubscriptions(text);
      const has = names.includes(name);
      if (has === on) return;
      const next = on ? [...names, name] : names.filter((n) => n !== name);
      const body = 'V\t2\n\n' + next.map((n) => n.split(HIERARCHY_SEPARATOR).join('\t') + '\n').join('');
      await writeFileAtomically(file, body);
      changed = true;
    });
    if (changed) this.registry.announce(this.root, { kind: on ? 'subscribed' : 'unsubscribed', name });
  }

  watchFolders(listener: (change: FolderChange) => void): () => void {
    return this.registry.watchFolders(this.root, listener);
  }

  async exists(name: string): Promise<boolean> {
    const dir = this.dirOf(name);
    return isFolderDir(dir, dir === this.root);
  }

  /** The shared live mailbox for a folder that exists. */
  async mailbox(name: string): Promise<Mailbox | null> {
    await this.init();
    const canonical = normalizeName(name);
    if (!(await this.exists(canonical))) {
      if (canonical !== 'INBOX') return null;
      for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(this.root, sub), { recursive: true, mode: 0o700 });
    }
    const mb = this.registry.get(canonical, this.dirOf(canonical), this.usage);
    await mb.load();
    mb.lastUsed = Date.now(); // a first read of a big folder takes a while: the caller's use starts now
    return mb;
  }

  // --- folder operations ---

  /** CREATE: `.Name/` with tmp/ new/ cur/ (0700), `maildirfolder`, and a uidlist with a fresh UIDVALIDITY. */
  async create(name: string): Promise<void> {
    await this.init();
    // RFC 3501 §6.3.3: a trailing separator only declares the intent to create children.
    if (name.endsWith(HIERARCHY_SEPARATOR)) name = name.slice(0, -1);
    name = normalizeName(name);
    if (name === 'INBOX') throw new MailError('exists', 'Mailbox already exists');
    await this.createFolder(name);
  }

  /** `announce`: tell watchers of a new folder (RENAME INBOX tells of a rename instead). */
  private async createFolder(name: string, announce = true): Promise<void> {
    const dir = this.dirOf(name);
    if (await this.exists(name)) throw new MailError('exists', 'Mailbox already exists');
    // Stale state of a folder that was here before (deleted by someone else) must not survive.
    this.registry.drop(dir);
    const made = await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      for (const sub of ['tmp', 'new']) await fs.mkdir(path.join(dir, sub), { recursive: true, mode: 0o700 });
      await fs.writeFile(path.join(dir, 'maildirfolder'), '', { mode: 0o600 });
      const uidValidity = await nextUidValidity(this.root);
      const guid = crypto.randomBytes(16).toString('hex');
      const uidlist = path.join(dir, 'dovecot-uidlist');
      await withDotlock(uidlist, LOCK, async () => {
        await writeFileAtomically(uidlist, `3 V${uidValidity} N1 G${guid}\n`);
      });
    } catch (err) {
      // A full disk (or any fault) before cur/ exists: the half-made folder goes, if this CREATE made it.
      if (made !== undefined) await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
    // cur/ last: a folder is listed once cur/ exists, and by then it is complete.
    try {
      await fs.mkdir(path.join(dir, 'cur'), { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new MailError('exists', 'Mailbox already exists');
      throw err;
    }
    // Every way a folder comes to be (CREATE, special-use at first login, fileinto :create) is a new folder to a watcher.
    if (announce) this.registry.announce(this.root, { kind: 'created', name });
  }

  /**
   * DELETE (RFC 3501 §6.3.4). The folder's directory goes; its children stay,
   * so a folder with children becomes a \Noselect virtual parent, as in Dovecot.
   * Subscriptions are kept (Dovecot keeps them too: LIST (SUBSCRIBED) shows \NonExistent).
   */
  async delete(name: string): Promise<void> {
    await this.init();
    ensuredRoots.delete(this.root);
    name = normalizeName(name);
    if (name === 'INBOX') throw new MailError('cannot', "INBOX can't be deleted");
    const dir = this.dirOf(name);
    if (!(await this.exists(name))) throw new MailError('notfound', `Mailbox doesn't exist: ${name}`);
    // Renamed away first, so no one ever sees a half-deleted folder; then removed.
    const trash = path.join(this.root, `..deleted-${crypto.randomBytes(6).toString('hex')}`);
    try {
      await fs.rename(dir, trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MailError('notfound', `Mailbox doesn't exist: ${name}`);
      throw err;
    }
    this.registry.drop(dir);
    this.registry.announce(this.root, { kind: 'deleted', name }); // in the same turn as the drop (see rename)
    // What the folder held leaves the quota (its open Mailbox, dropped, reports nothing: RENAME drops too).
    if (this.usage.active) {
      const freed = await folderUsage(trash).catch(() => null);
      if (freed) this.usage.changed(-freed.bytes, -freed.messages);
      else this.usage.unknownChange();
    }
    await fs.rm(trash, { recursive: true, force: true });
  }

  /**
   * RENAME (RFC 3501 §6.3.5), children included; UIDVALIDITY travels with the
   * folder. RENAME INBOX moves INBOX's messages into a new folder and leaves
   * INBOX empty (Dovecot refuses it for Maildir++; the RFC asks for this).
   */
  async rename(from: string, to: string): Promise<void> {
    await this.init();
    ensuredRoots.delete(this.root);
    from = normalizeName(from);
    if (to.endsWith(HIERARCHY_SEPARATOR)) to = to.slice(0, -1);
    to = normalizeName(to);
    this.dirOf(from); // validates
    const toDir = this.dirOf(to);
    if (to === 'INBOX') throw new MailError('exists', 'Mailbox already exists');
    if (from === to) throw new MailError('exists', "Can't rename mailbox to itself");
    if (to.startsWith(from + HIERARCHY_SEPARATOR)) throw new MailError('cannot', "Can't rename mailbox under itself");
    if (from === 'INBOX') return this.renameInbox(to);
    const names = await this.folderNames();
    const moving = names.filter((n) => n === from || n.startsWith(from + HIERARCHY_SEPARATOR));
    if (!moving.length) throw new MailError('notfound', `Mailbox doesn't exist: ${from}`);
    const targets = moving.map((n) => to + n.slice(from.length));
    for (const t of targets) checkName(t);
    const existing = new Set(names);
    if (targets.some((t) => existing.has(t)) || (await dirExists(toDir)))
      throw new MailError('exists', 'Target mailbox already exists');
    const moved: string[] = [];
    try {
      for (let i = 0; i < moving.length; i++) {
        const src = this.dirOf(moving[i]);
        await fs.rename(src, this.dirOf(targets[i]));
        moved.push(src);
      }
    } finally {
      // Dropped and announced in one turn: a watcher lets go of the old folders before they report their messages gone.
      for (const src of moved) this.registry.drop(src);
    }
    this.registry.announce(this.root, { kind: 'renamed', from, name: to }); // children went with it
  }

  private async renameInbox(to: string): Promise<void> {
    await this.createFolder(to, false);
    const inbox = await this.mailbox('INBOX');
    const target = await this.mailbox(to);
    if (!inbox || !target) throw new MailError('notfound', 'Mailbox disappeared');
    const moved: ScannedFile[] = [];
    for (const meta of [...inbox.all]) {
      const sub = meta.sub;
      try {
        await fs.rename(inbox.pathOf(meta), target.maildir.file(sub, meta.filename));
        moved.push({ sub, filename: meta.filename });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    await inbox.refresh(true);
    await target.addOwn(moved, false);
    // RFC 5465 §5.4: a renamed INBOX is a rename, and a new INBOX is assumed.
    this.registry.announce(this.root, { kind: 'renamed', from: 'INBOX', name: to });
  }

  // --- saving messages ---

  /**
   * A spool file in tmp/ for a message about to arrive (APPEND's literal, an
   * LMTP delivery). A Maildir that does not exist yet (a new user's first
   * mail) is created, as a delivery agent does.
   */
  openSpool(): MessageSpool {
    const tmp = path.join(this.root, 'tmp');
    // A spool that could not be opened keeps its error (a full disk is a NO once the literal is read);
    // a Maildir not made yet (a new user's first LMTP delivery) is made, and the spool opened again.
    const spool = new MessageSpool(tmp);
    if (!spool.failedWith('ENOENT')) return spool;
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(this.root, sub), { recursive: true, mode: 0o700 });
    return new MessageSpool(tmp);
  }

  /**
   * A delivery (LMTP), written as Postfix's virtual(8) writes one (see
   * delivery.ts) into new/ of `folder` when it exists (Dovecot's
   * lmtp_save_to_detail_mailbox), else of INBOX. If the folder is open in
   * this process (a session has it, or had it a minute ago) it learns of the
   * message now: the UID is assigned and every session hears EXISTS, and the
   * first read-write one \Recent, before this resolves. A folder nobody has
   * open is not loaded for it: the file in new/ is found at its next open,
   * as a virtual(8) delivery is.
   */
  async deliver(spool: MessageSpool, envelope: DeliveryEnvelope, folder?: string | null, options: DeliveryOptions = {}): Promise<{ folder: string; uid: number | null }> {
    const header = traceHeader(envelope);
    let name = 'INBOX';
    if (folder) {
      try {
        const wanted = normalizeName(folder);
        if (wanted !== 'INBOX' && (await this.exists(wanted))) name = wanted;
        else if (wanted !== 'INBOX' && options.create) {
          // fileinto :create (RFC 5490). Another delivery may create it at the same moment: that is fine.
          await this.createFolder(wanted).catch((err) => {
            if (!(err instanceof MailError && err.kind === 'exists')) throw err;
          });
          name = wanted;
        }
      } catch (err) {
        if (!(err instanceof MailError)) throw deliveryError(err);
        // not a folder name we could have: INBOX
        this.registry.log.info({ folder, err: err.message }, 'delivery: no such folder; delivered to INBOX');
      }
    }
    const dir = this.dirOf(name);
    const info = options.flags?.length ? await this.flagLetters(dir, options.flags) : '';
    // The quota is checked before a byte is written: MailError 'quota' (LMTP 552 5.2.2).
    await this.usage.check(header.length + spool.size, 1);
    let filename: string;
    try {
      try {
        filename = await writeDelivery(dir, spool, header, { info, filtered: options.filtered });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || name !== 'INBOX') throw err;
        // A new user's first mail: the Maildir is made, as virtual(8) makes it.
        for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, sub), { recursive: true, mode: 0o700 });
        filename = await writeDelivery(dir, spool, header, { info, filtered: options.filtered });
      }
    } catch (err) {
      throw deliveryError(err);
    }
    // From here the message is delivered: a failure to announce it must not fail the delivery
    // (the client would retry, and the message would be there twice). The watcher finds it then.
    const mailbox = this.registry.peek(dir);
    if (!mailbox) {
      // Nobody has the folder open: no Mailbox will count it, so the quota is told here.
      this.usage.changed(header.length + spool.size, 1);
      return { folder: name, uid: null };
    }
    try {
      const [meta] = await mailbox.addOwn([{ sub: 'new', filename }], false);
      return { folder: name, uid: meta?.uid ?? null };
    } catch (err) {
      this.registry.log.error({ err, mailbox: dir, file: filename }, 'delivered message not announced; the watcher will find it');
      return { folder: name, uid: null };
    }
  }

  /**
   * The filter's side of mail another program wrote into INBOX's new/ (see
   * Mailbox.filterArrivals; called with INBOX's mutex held). Each file is
   * read and given to `filter`; then moved, all within the Maildir and by
   * rename, so it is in one place at every instant:
   *  - into each other folder's new/ (flags in the name; the folder made
   *    first for :create; a folder that does not exist means INBOX): a hard
   *    link for all but the last, which gets the file itself unless INBOX
   *    keeps it; a folder open in this process hears of it at once;
   *  - kept in INBOX: stays (renamed in new/ to carry its flags);
   *  - nowhere (discard, redirect alone): removed, but only once the
   *    filter's side effects succeeded; a failed redirect keeps it.
   * Answers the files that stay in INBOX. A fault keeps the file in INBOX.
   */
  async filterArrivals(inbox: Mailbox, files: ScannedFile[], filter: ArrivalFilter): Promise<ScannedFile[]> {
    const kept: ScannedFile[] = [];
    const log = this.registry.log;
    for (const f of files) {
      const src = inbox.maildir.file(f.sub, f.filename);
      let readError: NodeJS.ErrnoException | null = null;
      const read = () =>
        fs.readFile(src).catch((err: NodeJS.ErrnoException) => {
          readError = err;
          throw err;
        });
      let decision: FilterDecision | null;
      try {
        decision = await filter(this.root, read);
      } catch (err) {
        if (readError) {
          if ((readError as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone already (moved by us, or by someone else)
          log.warn({ file: src, err: (readError as Error).message }, 'cannot read new mail to filter it; left in INBOX');
        } else log.error({ err, file: src }, 'filter failed; message left in INBOX');
        kept.push(f);
        continue;
      }
      if (!decision) {
        kept.push(f);
        continue;
      }
      try {
        const stays = await this.placeArrival(inbox, f, decision);
        if (stays) kept.push(stays);
      } catch (err) {
        log.error({ err, file: src }, 'placing a filtered message failed; left where it is');
        if (await fs.access(src).then(() => true, () => false)) kept.push(f);
      }
    }
    return kept;
  }

  private async placeArrival(inbox: Mailbox, f: ScannedFile, decision: FilterDecision): Promise<ScannedFile | null> {
    const log = this.registry.log;
    const { basename, info: oldInfo } = parseName(f.filename);
    const src = inbox.maildir.file(f.sub, f.filename);
    let keep: { flags: string[] } | null = null;
    const dests: Array<{ name: string; flags: string[] }> = [];
    for (const t of decision.targets) {
      let name: string | null = normalizeName(t.folder);
      if (name === 'INBOX') {
        keep = { flags: t.flags };
        continue;
      }
      try {
        if (!(await this.exists(name))) {
          if (!t.create) throw new MailError('notfound', `no folder ${name}`);
          await this.createFolder(name).catch((err) => {
            if (!(err instanceof MailError && err.kind === 'exists')) throw err;
          });
        }
      } catch (err) {
        if (!(err instanceof MailError)) throw err;
        log.info({ mailbox: this.root, folder: t.folder, err: err.message }, 'filter: no such folder; kept in INBOX');
        name = null;
      }
      if (name === null) keep ??= { flags: t.flags };
      else if (!dests.some((d) => d.name === name)) dests.push({ name, flags: t.flags });
    }
    const placed: Array<{ dir: string; file: ScannedFile }> = [];
    for (let i = 0; i < dests.length; i++) {
      const dir = this.dirOf(dests[i].name);
      const info = dests[i].flags.length ? await this.flagLetters(dir, dests[i].flags) : oldInfo;
      const file: ScannedFile = { sub: 'new', filename: info ? curName(basename, info) : basename };
      const to = path.join(dir, 'new', file.filename);
      if (i === dests.length - 1 && !keep) await fs.rename(src, to);
      else {
        await fs.link(src, to).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err; // EEXIST: linked before a crash; the same message
        });
      }
      placed.push({ dir, file });
    }
    let stays: ScannedFile | null = null;
    if (keep) {
      const info = keep.flags.length ? await this.flagLetters(this.root, keep.flags) : oldInfo;
      const filename = info ? curName(basename, info) : basename;
      if (filename !== f.filename) await fs.rename(src, inbox.maildir.file('new', filename));
      stays = { sub: 'new', filename };
    }
    // Folders open in this process hear of it now (not under INBOX's lock: their watcher would find it too).
    for (const p of placed) {
      const mb = this.registry.peek(p.dir);
      if (mb) void mb.addOwn([p.file], false).catch((err) => log.warn({ err, mailbox: p.dir }, 'filtered message not announced; the watcher will find it'));
    }
    const handedOn = await decision.after().catch(() => false);
    const where = [...(keep ? ['INBOX'] : []), ...dests.map((d) => d.name)];
    if (!keep && !dests.length) {
      if (handedOn) {
        await fs.unlink(src);
        log.info({ mailbox: this.root, file: f.filename, sieve: decision.summary }, 'filter: discarded');
        return null;
      }
      log.info({ mailbox: this.root, file: f.filename, sieve: decision.summary }, 'filter: could not be handed on; kept in INBOX');
      return f;
    }
    log.info({ mailbox: this.root, file: f.filename, folders: where, sieve: decision.summary }, 'filter: delivered');
    return stays;
  }

  /**
   * Maildir info letters for a delivery's flags. A keyword that no longer
   * fits (26 per folder) is left off: the message is delivered without it.
   */
  async flagLetters(dir: string, flags: string[]): Promise<string> {
    let letters = '';
    const keywords: string[] = [];
    for (const f of flags) {
      const l = systemLetter(f);
      if (l) letters += l;
      else if (!f.startsWith('\\')) keywords.push(f);
    }
    if (keywords.length) {
      const table = this.registry.peek(dir)?.keywords ?? new KeywordTable(dir);
      for (const l of await table.lettersFor(keywords)) if (l) letters += l;
    }
    return sortLetters(letters);
  }

  /**
   * APPEND: the spooled message becomes `cur/<base>,S=..,W=..:2,<flags>` of
   * the folder, with `date` as its mtime (INTERNALDATE); the Mailbox learns of
   * it at once, so every session with the folder open hears EXISTS before the
   * tagged OK. Returns the new UID and the folder's UIDVALIDITY.
   */
  async append(mailbox: Mailbox, spool: MessageSpool, flags: string[], date: Date | null): Promise<{ uid: number; uidValidity: number }> {
    const { uids, uidValidity } = await this.appendMany(mailbox, [{ message: spool, flags, date }]);
    return { uid: uids[0]!, uidValidity };
  }

  /**
   * MULTIAPPEND: each spool renamed into cur/ as append() does, then all of
   * them given UIDs in one step. A failure before that step renames the files
   * already placed back to tmp/ (the spools discard them), so no UID is used.
   */
  async appendMany(mailbox: Mailbox, items: Array<{ message: MessageSpool; flags: string[]; date: Date | null }>): Promise<{ uids: number[]; uidValidity: number }> {
    for (const it of items) await it.message.durable();
    await this.usage.check(
      items.reduce((n, it) => n + it.message.size, 0),
      items.length,
    );
    // Keyword letters first: a folder out of keyword room fails the command before any file moves.
    const files: ScannedFile[] = [];
    for (const { message: spool, flags } of items)
      files.push({ sub: 'cur', filename: curName(sizedBaseName(spool.base, spool.size, spool.vsize), await mailbox.lettersOf(flags)) });
    const placed: Array<{ spool: MessageSpool; file: ScannedFile }> = [];
    const place = async (): Promise<ScannedFile[]> => {
      try {
        for (const [i, { message: spool, date }] of items.entries()) {
          const file = files[i]!;
          const when = date ?? new Date();
          await fs.utimes(spool.file, when, when);
          await fs.rename(spool.file, mailbox.maildir.file(file.sub, file.filename));
          placed.push({ spool, file });
        }
      } catch (err) {
        for (const p of placed.reverse()) await fs.rename(mailbox.maildir.file(p.file.sub, p.file.filename), p.spool.file).catch(() => undefined);
        throw err;
      }
      for (const p of placed) p.spool.consumed();
      return placed.map((p) => p.file);
    };
    const metas = await mailbox.addOwn(place, true);
    if (metas.length !== items.length) throw new MailError('temporary', 'Message vanished while being saved');
    return { uids: metas.map((m) => m.uid), uidValidity: mailbox.uidValidity };
  }

  /**
   * COPY: each message hard-linked into the destination's cur/ under a new
   * base name with ,S= and ,W= (as Dovecot does), keywords mapped through
   * the destination's dovecot-keywords. All or nothing: on failure, the links
   * made so far are removed. Returns the destination UIDs in source order.
   */
  async copy(source: Mailbox, metas: MessageMeta[], dest: Mailbox): Promise<{ uids: number[]; uidValidity: number }> {
    if (this.usage.active) await this.usage.check(await this.sizeOf(source, metas), metas.length);
    const made: ScannedFile[] = [];
    try {
      for (const meta of metas) {
        const { to } = await this.transferOne(source, meta, dest, async (file, target, st) => {
          try {
            await fs.link(file, target);
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
            await fs.copyFile(file, target, fs.constants.COPYFILE_EXCL);
            await fs.utimes(target, st.atime, st.mtime);
          }
        });
        made.push(to);
      }
    } catch (err) {
      for (const f of made) await dest.maildir.remove(f);
      throw goneAsExpunged(err);
    }
    const added = await dest.addOwn(made, true);
    return { uids: added.map((m) => m.uid), uidValidity: dest.uidValidity };
  }

  /** The file sizes of messages (from ,S= in their names, else stat'ed): what a COPY adds to the quota. */
  private async sizeOf(source: Mailbox, metas: MessageMeta[]): Promise<number> {
    let total = 0;
    for (const meta of metas) {
      let size = meta.size ?? sizeInName(meta.filename);
      if (size === null) {
        try {
          size = (await source.withFile(meta, (f) => fs.stat(f))).size;
        } catch (err) {
          throw goneAsExpunged(err);
        }
        meta.size = size;
      }
      total += size;
    }
    return total;
  }

  /**
   * MOVE: each message file is renamed into the destination's cur/ (same
   * base-name rules as COPY), so it is in exactly one folder at every instant,
   * whatever crashes when. A message another session moved or expunged first
   * fails the whole MOVE: the files this one moved go back, and nothing is
   * duplicated. Then the destination gives the new UIDs (every session there
   * hears EXISTS) and the source's sessions hear the messages expunged.
   */
  async move(source: Mailbox, metas: MessageMeta[], dest: Mailbox): Promise<{ uids: number[]; uidValidity: number }> {
    const moved: Array<{ from: string; to: ScannedFile }> = [];
    try {
      for (const meta of metas) moved.push(await this.transferOne(source, meta, dest, (file, target) => fs.rename(file, target)));
    } catch (err) {
      for (const m of moved.reverse()) await fs.rename(dest.maildir.file(m.to.sub, m.to.filename), m.from).catch(() => undefined);
      throw goneAsExpunged(err);
    }
    const added = await dest.addOwn(
      moved.map((m) => m.to),
      true,
    );
    await source.forgetMoved(metas);
    return { uids: added.map((m) => m.uid), uidValidity: dest.uidValidity };
  }

  /**
   * Puts one message into the destination's cur/ under a new base name with
   * ,S= and ,W= (as Dovecot does), its keywords mapped through the
   * destination's dovecot-keywords; `put` links, copies or renames the file.
   */
  private async transferOne(
    source: Mailbox,
    meta: MessageMeta,
    dest: Mailbox,
    put: (file: string, target: string, st: Stats) => Promise<void>,
  ): Promise<{ from: string; to: ScannedFile }> {
    const kept = [...meta.info].filter((l) => !systemFlag(l) && !isKeywordLetter(l)).join('');
    const info = kept + (await dest.lettersOf(source.flagsOf(meta)));
    const vsize = await source.vsizeOf(meta);
    return source.withFile(meta, async (file) => {
      const st = await fs.stat(file);
      // RFC 8474 §5.1: the copy keeps the EMAILID, recorded as the new record's G (Dovecot's message GUID field).
      const guid = source.emailId(meta);
      const to: ScannedFile = { sub: 'cur', filename: curName(sizedBaseName(newBaseName(), st.size, vsize), info), ext: /^[0-9a-f]{32}$/.test(guid) ? [`G${guid}`] : [] };
      await put(file, dest.maildir.file(to.sub, to.filename), st);
      return { from: file, to };
    });
  }
}

/** A message gone meanwhile (another session's EXPUNGE or MOVE) fails COPY/MOVE as EXPUNGEISSUED. */
function goneAsExpunged(err: unknown): unknown {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof MessageGoneError) return new MailError('expunged', 'Some of the requested messages no longer exist');
  return err;
}

function parseSubscriptions(text: string): string[] {
  const lines = text.split('\n');
  let start = 0;
  if (lines[0]?.startsWith('V\t')) {
    // Version header, then header lines up to an empty line.
    start = 1;
    while (start < lines.length && lines[start] !== '') start++;
    start++;
  }
  const out: string[] = [];
  for (const l of lines.slice(start)) {
    if (l === '') continue;
    const name = normalizeName(l.split('\t').join(HIERARCHY_SEPARATOR));
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/**
 * A folder is a real directory with a real cur/ in it. A symbolic link is
 * never followed: `.Evil -> ../alice/Maildir` planted in bob's Maildir would
 * otherwise give bob alice's mail. (The Maildir root itself may be a link:
 * that one the operator made.)
 */
async function isFolderDir(dir: string, isRoot = false): Promise<boolean> {
  const real = (p: string) =>
    fs
      .lstat(p)
      .then((s) => s.isDirectory())
      .catch(() => false);
  // Both at once: this is on every SELECT's path. The root needs no look of its own (cur/ is in it).
  const [top, cur] = await Promise.all([isRoot || real(dir), real(path.join(dir, 'cur'))]);
  return top && cur;
}

async function dirExists(dir: string): Promise<boolean> {
  return fs
    .stat(dir)
    .then((s) => s.isDirectory())
    .catch(() => false);
}
