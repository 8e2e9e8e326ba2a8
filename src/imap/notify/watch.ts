// One session's NOTIFY (RFC 5465): the folders it watches and what it is owed.
// Other folders are watched through a read-only listener on each (it claims
// no \Recent, and keeps the folder loaded and watched, so no event is lost to
// the registry's sweep); folder and subscription changes come from
// MailUser.watchFolders. What is owed is written when the session may hear
// untagged responses: at once between commands and during IDLE (§5), else
// before the next tagged reply.
import type { FolderChange, MailboxHandle, MailboxListener, MessageRef } from '../../mail/api.js';
import { HIERARCHY_SEPARATOR, normalizeName } from '../../mail/api.js';
import { NoError } from '../../wire/errors.js';
import { schedulePush } from '../push-queue.js';
import type { Connection } from '../connection.js';
import { mailboxName } from '../commands/mailbox-name.js';
import { statusLine } from '../commands/status.js';
import { fetch } from '../commands/fetch.js';
import type { NotifyEvents, NotifyGroup, NotifySpec } from './spec.js';

/** Folders one session may watch for message events (each is a loaded, watched folder). */
export const MAX_WATCHED_FOLDERS = 500;
/** LIST lines queued for a session that does not read them; past this, NOTIFICATIONOVERFLOW (§5.8). */
export const MAX_PENDING_LINES = 1000;
/**
 * Unread output above which pushes wait in the queue (STATUS per folder
 * coalesces there; LIST lines count toward the overflow) instead of piling
 * up in the socket until the connection's own limit drops the client.
 */
const PUSH_BACKLOG_BYTES = 64 * 1024;

/** Hears one watched folder's message changes for the session, without claiming \Recent. */
class StatusListener implements MailboxListener {
  readonly readOnly = true;
  constructor(
    private readonly events: NotifyEvents,
    private readonly changed: () => void,
  ) {}
  init(): void {}
  onAdded(): void {
    if (this.events.messageNew) this.changed();
  }
  onExpunged(): void {
    if (this.events.messageExpunge) this.changed();
  }
  onFlags(_meta: MessageRef): void {
    if (this.events.flagChange) this.changed();
  }
  claimRecent(): void {}
  onRenumbered(): void {
    this.changed(); // a new UIDVALIDITY: the client must hear it
  }
}

function sameEvents(a: NotifyEvents | undefined, b: NotifyEvents): boolean {
  return !!a && a.messageNew === b.messageNew && a.messageExpunge === b.messageExpunge && a.flagChange === b.flagChange;
}

interface Watched {
  mailbox: MailboxHandle;
  listener: StatusListener;
  events: NotifyEvents;
}

export class NotifyWatch {
  private readonly watched = new Map<string, Watched>();
  private readonly pendingStatus = new Set<string>();
  private lines: string[] = [];
  /** Changes in the folder list made by this session's own command: §5 says not to echo them back. */
  private own: FolderChange[] = [];
  private subscribed = new Set<string>();
  private stopFolders: (() => void) | null = null;
  private stopped = false;
  private overflowed = false;
  private scheduled = false;
  /** Serialises rewatching and flushing (both await the store). */
  private chain: Promise<void> = Promise.resolve();
  /** The selected folder's highest UID already sent with MessageNew's fetch-att list. */
  private fetchedUpTo = 0;

  private constructor(
    private readonly conn: Connection,
    readonly spec: NotifySpec,
  ) {}

  /** Starts watching; NO [LIMIT] when the filters name more folders than a session may watch. */
  static async start(conn: Connection, spec: NotifySpec): Promise<NotifyWatch> {
    const w = new NotifyWatch(conn, spec);
    w.stopFolders = conn.store!.watchFolders((c) => w.onFolderChange(c));
    try {
      await w.rewatch(true);
    } catch (err) {
      w.stop();
      throw err;
    }
    w.selectionChanged();
    return w;
  }

  /** The SELECTED or SELECTED-DELAYED group, if any. */
  get selectedGroup(): NotifyGroup | undefined {
    return this.spec.groups.find((g) => g.filter === 'selected' || g.filter === 'selected-delayed');
  }

  /** The selected folder's changes are pushed as they happen (not only in IDLE). */
  get pushesSelected(): boolean {
    return !this.stopped && !!this.selectedGroup?.events.messageNew;
  }

  /** SELECTED (not -DELAYED): EXPUNGE may go out between commands too (§5.1, §5.2). */
  get expungeAnytime(): boolean {
    return !this.stopped && this.selectedGroup?.filter === 'selected';
  }

  /** STATUS lines for every watched folder (NOTIFY SET STATUS, §3). */
  async statusLines(): Promise<string> {
    let out = '';
    for (const name of [...this.watched.keys()]) {
      if (name === this.selectedName()) continue;
      out += await this.statusOf(name, true);
    }
    return out;
  }

  /** Stops everything (NOTIFY NONE, a new NOTIFY SET, logout, overflow). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopFolders?.();
    for (const w of this.watched.values()) w.mailbox.detach(w.listener);
    this.watched.clear();
    this.pendingStatus.clear();
    this.lines = [];
  }

  /** A SELECT/EXAMINE/CLOSE changed the selected folder: fetch-att lists start from its current messages. */
  selectionChanged(): void {
    const view = this.conn.view;
    this.fetchedUpTo = view ? (view.uidAt(view.exists) ?? 0) : 0;
  }

  /**
   * Writes what is owed. `commandEnd`: before a tagged reply, where anything
   * may go; else only if no command is writing now (a push).
   */
  flush(commandEnd: boolean): Promise<void> {
    const run = this.chain.then(() => this.flushNow(commandEnd));
    this.chain = run.catch((err) => this.conn.log.warn({ err: (err as Error).message }, 'notify flush failed'));
    return this.chain;
  }

  private async flushNow(commandEnd: boolean): Promise<void> {
    const conn = this.conn;
    if (commandEnd) this.own = [];
    if (conn.isClosed) return;
    if (this.overflowed) {
      this.overflowed = false;
      conn.write('* OK [NOTIFICATIONOVERFLOW] Too many notifications pending; NOTIFY is off\r\n');
      if (conn.notify === this) conn.setNotify(null);
      return;
    }
    if (!commandEnd && conn.busy) return; // the command's end writes it
    if (!commandEnd && conn.unreadOutput > PUSH_BACKLOG_BYTES) return; // kept for the next push or command
    await this.fetchNew(commandEnd);
    const names = [...this.pendingStatus];
    this.pendingStatus.clear();
    let out = this.lines.join('');
    this.lines = [];
    for (const name of names) if (name !== this.selectedName()) out += await this.statusOf(name);
    if (!out || conn.isClosed) return;
    if (!commandEnd && conn.busy) {
      // A command started meanwhile: it gets these before its tagged reply.
      this.lines.unshift(out);
      return;
    }
    conn.write(out);
  }

  /** §5.1: MessageNew with a fetch-att list sends FETCH for the selected folder's new messages, once EXISTS has gone out. */
  private async fetchNew(commandEnd: boolean): Promise<void> {
    const atts = this.selectedGroup?.events.fetchAtts;
    const view = this.conn.view;
    if (!atts || !view) return;
    const last = view.uidAt(view.exists) ?? 0;
    if (last <= this.fetchedUpTo) return;
    const from = this.fetchedUpTo + 1;
    this.fetchedUpTo = last;
    const work = () => fetch.run({ conn: this.conn, tag: '*', name: 'FETCH', uid: true, args: [{ type: 'atom', value: `${from}:${last}` }, { type: 'list', items: atts }] });
    if (commandEnd) await work();
    else await this.conn.unsolicited(async () => void (await work()));
  }

  private selectedName(): string | null {
    return this.conn.view?.mailbox.name ?? null;
  }

  private async statusOf(name: string, full = false): Promise<string> {
    const w = this.watched.get(name);
    if (!w) return '';
    // §5.2–5.4: what changed is counted by MESSAGES, UIDNEXT and UNSEEN; HIGHESTMODSEQ with CONDSTORE on.
    const items = ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN'];
    // §3.1: SET STATUS with FlagChange carries HIGHESTMODSEQ (a server with CONDSTORE); later ones, once CONDSTORE is on (§5.1–5.3).
    if (this.conn.extensions.condstore || (full && w.events.flagChange)) items.push('HIGHESTMODSEQ');
    return statusLine(name, w.mailbox, items, 0, this.conn.extensions.utf8).catch(() => '');
  }

  // --- which folders ---

  private matches(g: NotifyGroup, name: string): boolean {
    switch (g.filter) {
      case 'inboxes':
        return name === 'INBOX'; // the only folder mail is delivered to by default (a +detail aside)
      case 'personal':
        return true;
      case 'subscribed':
        return this.subscribed.has(name);
      case 'subtree':
        return g.names.some((n) => name === n || name.startsWith(n + HIERARCHY_SEPARATOR));
      case 'mailboxes':
        return g.names.includes(name);
      default:
        return false;
    }
  }

  /** §6: every group whose filter takes `name` adds its events (SELECTED aside: it is for the selected folder only). */
  private eventsFor(name: string): NotifyEvents | null {
    let out: NotifyEvents | null = null;
    for (const g of this.spec.groups) {
      if (g.filter === 'selected' || g.filter === 'selected-delayed' || !this.matches(g, name)) continue;
      const e = g.events;
      out = out
        ? {
            messageNew: out.messageNew || e.messageNew,
            fetchAtts: null,
            messageExpunge: out.messageExpunge || e.messageExpunge,
            flagChange: out.flagChange || e.flagChange,
            mailboxName: out.mailboxName || e.mailboxName,
            subscriptionChange: out.subscriptionChange || e.subscriptionChange,
          }
        : e;
    }
    return out;
  }

  /** This session's command is about to make `change` (CREATE, DELETE, RENAME, SUBSCRIBE); forgotten at its end. */
  expectOwn(change: FolderChange): void {
    // As the store spells them: INBOX in any case is INBOX, a trailing separator only declares children.
    const spelled = (n: string) => normalizeName(n.endsWith(HIERARCHY_SEPARATOR) ? n.slice(0, -1) : n);
    const c = change.kind === 'renamed' ? { ...change, from: spelled(change.from), name: spelled(change.name) } : { ...change, name: spelled(change.name) };
    if (this.own.length < 4) this.own.push(c);
  }

  private isOwn(c: FolderChange): boolean {
    const i = this.own.findIndex((o) => o.kind === c.kind && o.name === c.name && (o.kind !== 'renamed' || (c.kind === 'renamed' && o.from === c.from)));
    if (i < 0) return false;
    this.own.splice(i, 1);
    return true;
  }

  /** Attaches to every folder the filters now take for message events, detaches from the rest. */
  private async rewatch(fromSet: boolean): Promise<void> {
    if (this.stopped) return;
    const store = this.conn.store!;
    this.subscribed = await store.subscriptions();
    const wanted = new Map<string, NotifyEvents>();
    for (const f of await store.folders()) {
      if (f.noselect) continue;
      const events = this.eventsFor(f.name);
      if (events?.messageNew) wanted.set(f.name, events);
    }
    if (wanted.size > MAX_WATCHED_FOLDERS) {
      if (fromSet) throw new NoError(`NOTIFY may watch at most ${MAX_WATCHED_FOLDERS} mailboxes`, 'LIMIT');
      return this.overflow();
    }
    for (const [name, w] of this.watched) {
      if (sameEvents(wanted.get(name), w.events) && !this.stale(name, w)) continue;
      w.mailbox.detach(w.listener);
      this.watched.delete(name);
    }
    for (const [name, events] of wanted) {
      if (this.watched.has(name) || this.stopped) continue;
      const mailbox = await store.mailbox(name).catch(() => null);
      if (!mailbox || this.stopped || this.watched.has(name)) continue;
      const listener = new StatusListener(events, () => this.statusChanged(name));
      await mailbox.attach(listener);
      this.watched.set(name, { mailbox, listener, events });
      // A folder that came (or came back under a new name) after SET may have mail by now: its first STATUS.
      if (!fromSet && mailbox.count > 0) this.statusChanged(name);
    }
  }

  /** A folder deleted or renamed away and made again is another object: the old one hears nothing more. */
  private stale(name: string, w: Watched): boolean {
    return w.mailbox.name !== name;
  }

  private statusChanged(name: string): void {
    if (this.stopped) return;
    this.pendingStatus.add(name);
    this.schedule();
  }

  private onFolderChange(c: FolderChange): void {
    if (this.stopped) return;
    if (c.kind === 'subscribed') this.subscribed.add(c.name);
    const ev = this.eventsFor(c.name);
    const old = c.kind === 'renamed' ? this.eventsFor(c.from) : null;
    if (c.kind === 'unsubscribed') this.subscribed.delete(c.name);
    const own = this.isOwn(c);
    const mailboxNameEvent = !!(ev?.mailboxName || old?.mailboxName);
    const subscriptionEvent = !!ev?.subscriptionChange;
    const utf8 = this.conn.extensions.utf8;
    const sep = `"${HIERARCHY_SEPARATOR}"`;
    const quoted = (n: string) => mailboxName(n, utf8);
    let line = '';
    if (own) {
      // §5: nothing to tell the session that made the change; the watch still follows it (below).
    } else if (mailboxNameEvent) {
      // §5.4: a new folder, one gone (\NonExistent, RFC 5258), or a rename with its OLDNAME.
      if (c.kind === 'created') line = `* LIST () ${sep} ${quoted(c.name)}\r\n`;
      else if (c.kind === 'deleted') line = `* LIST (\\NonExistent) ${sep} ${quoted(c.name)}\r\n`;
      else if (c.kind === 'renamed') line = `* LIST () ${sep} ${quoted(c.name)} ("OLDNAME" (${quoted(c.from)}))\r\n`;
    }
    if (!own && subscriptionEvent) {
      // §5.5: LIST with \Subscribed on, without it off.
      if (c.kind === 'subscribed') line = `* LIST (\\Subscribed) ${sep} ${quoted(c.name)}\r\n`;
      else if (c.kind === 'unsubscribed') line = `* LIST () ${sep} ${quoted(c.name)}\r\n`;
    }
    if (line) this.queueLine(line);
    if (c.kind === 'deleted' || c.kind === 'renamed') {
      const gone = c.kind === 'deleted' ? c.name : c.from;
      for (const [name, w] of this.watched) {
        if (name !== gone && !name.startsWith(gone + HIERARCHY_SEPARATOR)) continue;
        w.mailbox.detach(w.listener);
        this.watched.delete(name);
      }
    }
    const rewatch = this.chain.then(() => this.rewatch(false));
    this.chain = rewatch.catch((err) => this.conn.log.warn({ err: (err as Error).message }, 'notify rewatch failed'));
  }

  private queueLine(line: string): void {
    if (this.lines.length >= MAX_PENDING_LINES) return this.overflow();
    this.lines.push(line);
    this.schedule();
  }

  /** §5.8: the client is told once, and NOTIFY is off (as after NOTIFY NONE). */
  private overflow(): void {
    this.stop();
    this.overflowed = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    schedulePush(() => {
      this.scheduled = false;
      void this.flush(false);
    });
  }
}
