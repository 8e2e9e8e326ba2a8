// One client connection: framing, the state machine (not authenticated →
// authenticated → selected → logout), dispatch to one file per command, and
// writing responses with backpressure.
import { schedulePush } from './push-queue.js';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DeflateStream } from './deflate-stream.js';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { CommandFramer, parseCommand, ParseError, discardSinks, type FramedCommand, type FrameError, type Token } from '../wire/parser.js';
import { appendLiteralSink } from './append-literal.js';
import { encode, StreamLiteral, type ImapValue } from '../wire/encoder.js';
import { BadError, NoError } from '../wire/errors.js';
import { noFor } from './mail-errors.js';
import { MailError, mailErrorOf, type MailUser } from '../mail/api.js';
import type { MailboxView } from './tracker.js';
import { COMMANDS, type CommandContext } from './commands/index.js';
import { EnabledExtensions } from './extensions.js';
import { flagLines } from './flag-lines.js';
import { compressUids } from '../wire/sequence-set.js';
import type { ServerContext } from './server-context.js';
import { plaintextAuthAllowed } from './capabilities.js';
import type { UserEntry } from '../auth/passwd-file.js';
import type { NotifyWatch } from './notify/watch.js';

export type ConnState = 'notauth' | 'auth' | 'selected' | 'logout';

type Inbound = { cmd: FramedCommand } | { error: FrameError };

/** Commands during which EXPUNGE responses must wait (RFC 3501 §7.4.1; SORT and THREAD answer in sequence numbers too). */
const NO_EXPUNGE_DURING = new Set(['FETCH', 'STORE', 'SEARCH', 'SORT', 'THREAD']);

const MAX_QUEUED = 32;

/**
 * Output a client has not read yet. Above the high-water mark no further
 * command runs (and its input is not read) until the socket drains; above the
 * maximum the client is not reading at all (an IDLE that never reads its
 * pushes) and the connection is dropped. Pipelined CAPABILITYs that were
 * never read took 1.2 GB before this.
 */
const OUTPUT_HIGH_WATER = 256 * 1024;
const OUTPUT_MAX = 16 * 1024 * 1024;

/** Commands that carry a password. */
const PASSWORD_COMMANDS = new Set(['LOGIN', 'AUTHENTICATE']);

export class Connection {
  state: ConnState = 'notauth';
  user: UserEntry | null = null;
  store: MailUser | null = null;
  /** Extensions this session has turned on (ENABLE, or a CONDSTORE-enabling command). */
  extensions = new EnabledExtensions();
  view: MailboxView | null = null;
  /** NOTIFY (RFC 5465): what this session watches beyond the selected folder; null when off. */
  notify: NotifyWatch | null = null;
  failedLogins = 0;
  /** When the connection was accepted, and when it logged in (the admin command's `who`). */
  readonly since = Date.now();
  loggedInAt: number | null = null;
  /** Inside IDLE now. */
  idling = false;
  readonly log: Logger;
  /** Kept: a closed socket no longer knows it. */
  readonly remoteAddress: string | undefined;
  private framer: CommandFramer;
  private readonly inbox: Inbound[] = [];
  private running = false;
  private lineWaiter: ((item: Inbound) => void) | null = null;
  private idleFlushScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** A streamed literal is partly written: an error now cannot be answered in-band. */
  private midLiteral = false;
  /** Waiting for the socket to drain before the next command runs. */
  private outputBlocked = false;

  /** The client's byte stream: the TCP socket, TLS over it, or DEFLATE over either. */
  socket: Duplex;
  /** COMPRESS=DEFLATE is on (RFC 4978). */
  private compressed = false;

  constructor(
    socket: Socket,
    readonly ctx: ServerContext,
    readonly id: string,
    /** Implicit TLS; becomes true after STARTTLS. */
    private secure = false,
  ) {
    this.socket = socket;
    this.log = ctx.log.child({ cid: id });
    this.remoteAddress = socket.remoteAddress;
    this.framer = this.newFramer();
    this.framer.setLimits(ctx.config.preauthLimits);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    this.attach(socket);
    this.armTimer();
  }

  /** Hooks only act for the current framer: input framed before STARTTLS must go nowhere. */
  private newFramer(): CommandFramer {
    const framer: CommandFramer = new CommandFramer(
      {
        onCommand: (cmd) => {
          if (this.framer !== framer) return;
          // What follows COMPRESS may already be compressed: it stays unframed until the command has run.
          if (isCompressCommand(cmd)) framer.hold();
          this.enqueue({ cmd });
        },
        onContinuation: () => this.framer === framer && this.write('+ Ready for literal data\r\n'),
        onError: (error) => this.framer === framer && this.enqueue({ error }),
        // APPEND's message literal streams to a spool file, never into memory.
        literalSink: (req) => (this.framer === framer ? appendLiteralSink(this.store, this.ctx.config.limits.maxAppendBytes, req) : null),
      },
      this.ctx.config.limits,
    );
    return framer;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.framer.push(chunk);
    if (this.state === 'notauth' && !this.closed && this.ctx.preauth && !this.ctx.preauth.account(this, this.framer.bufferedBytes)) {
      this.log.warn({ ip: this.remoteAddress, buffered: this.framer.bufferedBytes }, 'pre-login input budget exhausted; closing');
      this.bye('Server busy, try again later');
    }
  };

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => this.cleanup());
  }

  get isSecure(): boolean {
    return this.secure;
  }

  /** Whether LOGIN and AUTHENTICATE may run here (see plaintextAuthAllowed). */
  get plaintextAllowed(): boolean {
    return plaintextAuthAllowed({ secure: this.secure, address: this.remoteAddress, allowPlaintext: this.ctx.allowPlaintext, networks: this.ctx.plaintextNetworks });
  }

  /**
   * STARTTLS (RFC 3501 §6.2.1), once its tagged OK is written. Whatever the
   * client sent after STARTTLS came in the clear and could have been injected
   * by anyone on the path: it is dropped, never run after the handshake
   * (CVE-2011-1926 class).
   */
  startTls(context: SecureContext): void {
    const plain = this.socket;
    plain.off('data', this.onData);
    this.inbox.length = 0;
    const cleartext = this.framer;
    this.framer = this.newFramer();
    this.framer.setLimits(this.ctx.config.preauthLimits); // STARTTLS is a pre-login command
    cleartext.close(); // stops framing the rest of the packet STARTTLS came in
    const socket = new TLSSocket(plain, { isServer: true, secureContext: context });
    this.socket = socket;
    this.secure = true;
    this.attach(socket);
    const timer = setTimeout(() => {
      this.log.info({ ip: this.remoteAddress }, 'tls handshake timed out');
      socket.destroy();
    }, this.ctx.config.tlsHandshakeTimeoutMs);
    timer.unref();
    const failed = (err: Error) => this.log.info({ ip: this.remoteAddress, err: err.message }, 'tls handshake failed');
    socket.once('error', failed);
    // 'secure' is what a server-side TLSSocket made without a tls.Server emits.
    socket.once('secure', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      this.log.debug({ protocol: socket.getProtocol() }, 'tls started');
    });
    socket.once('close', () => clearTimeout(timer));
  }

  get isCompressed(): boolean {
    return this.compressed;
  }

  /**
   * COMPRESS DEFLATE (RFC 4978 §3), once its tagged OK is written: from here
   * on both directions are compressed. Input the framer held back after the
   * command is the start of the client's compressed stream.
   */
  async startCompression(tag: string): Promise<void> {
    // A command can run inside the framer's push(), before it has kept the rest of that chunk: let it finish.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.closed) return;
    this.write(`${tag} OK DEFLATE active\r\n`);
    const raw = this.socket;
    raw.off('data', this.onData);
    const stream = new DeflateStream(raw, this.framer.takeHeld());
    this.socket = stream;
    this.compressed = true;
    stream.on('data', this.onData);
    stream.on('error', (err) => this.log.info({ ip: this.remoteAddress, err: err.message }, 'compressed stream failed; closing'));
    stream.on('close', () => this.cleanup());
  }

  greet(): void {
    this.write(`* OK [CAPABILITY ${this.ctx.capabilities(this).join(' ')}] maildir-imapd ready.\r\n`);
  }

  // --- input ---

  private enqueue(item: Inbound): void {
    this.inbox.push(item);
    // Before login, the next command is framed (under the limits then in force) only once this one has run;
    // after it, at most MAX_QUEUED wait (a 64 KiB chunk of pipelined NOOPs is 8,000 commands).
    if (this.state === 'notauth' || this.inbox.length >= MAX_QUEUED) this.framer.hold();
    this.updateInput();
    this.pump();
  }

  /**
   * Reads from the socket only while there is room: fewer than MAX_QUEUED
   * commands waiting, output drained below the high-water mark, and the
   * framer not holding input back.
   */
  private updateInput(): void {
    if (this.closed) return;
    const full = this.inbox.length > MAX_QUEUED || this.outputBlocked || this.framer.isHolding;
    if (full && !this.socket.isPaused()) this.socket.pause();
    else if (!full && this.socket.isPaused() && this.inbox.length <= MAX_QUEUED / 2) this.socket.resume();
  }

  /** True (and a drain awaited) when the client has not read enough of what we wrote to run another command. */
  private waitForOutput(): boolean {
    if (this.outputBlocked) return true;
    if (this.socket.writableLength <= OUTPUT_HIGH_WATER) return false;
    this.outputBlocked = true;
    this.updateInput();
    const socket = this.socket;
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      this.outputBlocked = false;
      this.updateInput();
      this.pump();
    };
    socket.on('drain', done);
    socket.on('close', done);
    return true;
  }

  private pump(): void {
    while (this.inbox.length) {
      if (this.lineWaiter) {
        const w = this.lineWaiter;
        this.lineWaiter = null;
        w(this.inbox.shift()!);
        continue;
      }
      if (this.running || this.closed || this.waitForOutput()) return;
      const item = this.inbox.shift()!;
      this.updateInput();
      this.running = true;
      this.handle(item)
        .catch((err) => {
          this.log.error({ err }, 'unexpected error');
          this.bye('Internal error');
        })
        .finally(() => {
          if ('cmd' in item) discardSinks(item.cmd.parts); // a spooled literal no command took over
          this.running = false;
          if (this.view?.renumbered) this.flushUpdates(true); // its BYE, after the tagged reply
          this.armTimer();
          this.framer.release();
          this.updateInput();
          this.pump();
        });
    }
  }

  /** The next raw line from the client (for IDLE's DONE, or an AUTHENTICATE response). */
  nextLine(): Promise<Inbound> {
    return new Promise((resolve) => {
      this.lineWaiter = resolve;
      this.framer.release();
      this.updateInput();
      this.pump();
    });
  }

  /** Puts a line back to be run as a command (a client that sent a command instead of DONE). */
  unshift(item: Inbound): void {
    this.inbox.unshift(item);
  }

  private async handle(item: Inbound): Promise<void> {
    if ('error' in item) return this.frameError(item.error);
    let parsed;
    try {
      parsed = parseCommand(item.cmd, this.ctx.config.limits.maxDepth);
    } catch (err) {
      if (err instanceof ParseError) {
        this.write(`${err.tag ?? '*'} BAD ${err.message}\r\n`);
        return;
      }
      throw err;
    }
    let { name, args } = parsed;
    const tag = parsed.tag;
    let uid = false;
    if (name === 'UID') {
      const sub = args[0];
      if (!sub || sub.type !== 'atom') {
        this.write(`${tag} BAD UID: missing command\r\n`);
        return;
      }
      name = sub.value.toUpperCase();
      args = args.slice(1);
      uid = true;
    }
    const command = COMMANDS.get(name);
    if (!command || (uid && !command.uid)) {
      this.write(`${tag} BAD Unknown command ${uid ? 'UID ' : ''}${name.slice(0, 32)}\r\n`);
      return;
    }
    if (!command.states.includes(this.state)) {
      this.write(`${tag} BAD ${name} is not allowed ${stateText(this.state)}\r\n`);
      return;
    }
    if (PASSWORD_COMMANDS.has(name) && !this.plaintextAllowed) return this.refusePlaintext(tag, name);
    const ctx: CommandContext = { conn: this, tag, name, args, uid };
    try {
      const result = await command.run(ctx);
      if (this.closed) return;
      this.flushUpdates(!NO_EXPUNGE_DURING.has(name) || uid);
      await this.updateContexts();
      await this.notify?.flush(true);
      if (result !== 'done') {
        const code = result?.code ? `[${result.code}] ` : '';
        this.write(`${tag} OK ${code}${result?.text ?? `${uid ? 'UID ' : ''}${name} completed`}\r\n`);
      }
    } catch (thrown) {
      if (this.closed) return;
      let err = thrown;
      const mailError = err instanceof NoError || err instanceof BadError ? null : mailErrorOf(err);
      if (mailError) {
        // A fault of the server's files (not of the client's request) is worth an operator's look.
        if (!(err instanceof MailError)) this.log.warn({ err: (err as Error).message, user: this.user?.name, mailbox: this.view?.mailbox.name, command: name }, 'command failed on a file-system error');
        err = noFor(mailError.kind, mailError.message, name);
      }
      if ((err instanceof NoError || err instanceof BadError) && !this.midLiteral) {
        this.flushUpdates(!NO_EXPUNGE_DURING.has(name) || uid);
        await this.updateContexts();
        await this.notify?.flush(true);
        const code = err.code ? `[${err.code}] ` : '';
        this.write(`${tag} ${err instanceof NoError ? 'NO' : 'BAD'} ${code}${err.message}\r\n`);
      } else this.serverBug(tag, name, thrown);
    }
  }

  /**
   * An error nobody expected ends that command, not the session: logged once
   * with the user and folder, answered NO [SERVERBUG]. Only a literal cut off
   * mid-way cannot be answered: the client is counting its bytes.
   */
  private serverBug(tag: string, name: string, err: unknown): void {
    this.log.error({ err, user: this.user?.name, mailbox: this.view?.mailbox.name, command: name }, 'unexpected error in a command');
    if (this.midLiteral) {
      this.socket.destroy();
      this.cleanup();
      return;
    }
    this.flushUpdates(!NO_EXPUNGE_DURING.has(name));
    this.write(`${tag} NO [SERVERBUG] Internal error; the server log says more\r\n`);
  }

  /** As Dovecot answers (RFC 5530 PRIVACYREQUIRED); a LOGIN has already sent the password, so say so. */
  private refusePlaintext(tag: string, name: string): void {
    if (name === 'LOGIN') {
      this.write('* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.\r\n');
    }
    this.write(`${tag} NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n`);
    this.log.info({ ip: this.remoteAddress }, 'login refused without tls');
  }

  private frameError(e: FrameError): void {
    switch (e.kind) {
      case 'line-too-long':
        this.write(`${e.tag ?? '*'} BAD Command line too long\r\n`);
        break;
      case 'literal-too-large':
        this.write(`${e.tag ?? '*'} NO [TOOBIG] Literal too large\r\n`);
        break;
      case 'too-many-literals':
        this.write(`${e.tag ?? '*'} BAD Too many literals\r\n`);
        break;
      case 'command-too-large':
        this.write(`${e.tag ?? '*'} NO [TOOBIG] Command too large\r\n`);
        break;
      case 'fatal':
        this.bye(e.reason);
        break;
    }
  }

  // --- output ---

  /** `written`: called once the socket no longer needs `data` (not called if it is never written). */
  write(data: string | Buffer, written?: () => void): void {
    if (this.closed) return;
    if (this.socket.writableLength > OUTPUT_MAX) {
      this.log.warn({ ip: this.remoteAddress, unread: this.socket.writableLength }, 'client does not read its responses; closing');
      this.socket.destroy();
      this.cleanup();
      return;
    }
    if (written) this.socket.write(data, (err) => err || written());
    else this.socket.write(data);
  }

  /** LOGIN or AUTHENTICATE succeeded: the post-login limits apply from the next command on. */
  authenticated(user: UserEntry, store: MailUser): void {
    this.user = user;
    this.store = store;
    this.state = 'auth';
    this.loggedInAt = Date.now();
    this.framer.setLimits(this.ctx.config.limits);
    this.ctx.preauth?.release(this);
  }

  /**
   * UNAUTHENTICATE (RFC 8437): back to the not-authenticated state with
   * nothing of the session kept — the selected folder, the user's store, the
   * enabled extensions. TLS stays. False when the IP already has as many
   * connections waiting to log in as it may (the caller then says BYE).
   */
  unauthenticate(): boolean {
    this.setNotify(null);
    this.select(null);
    this.user = null;
    this.loggedInAt = null;
    this.store = null;
    this.extensions = new EnabledExtensions();
    this.state = 'notauth';
    this.framer.setLimits(this.ctx.config.preauthLimits);
    return this.ctx.preauth ? this.ctx.preauth.admit(this, this.remoteAddress) : true;
  }

  /** Writes `* <text>`; a value list is encoded, StreamLiterals streamed. */
  async untagged(parts: ImapValue[] | string): Promise<void> {
    if (typeof parts === 'string') {
      this.write(`* ${parts}\r\n`);
      return;
    }
    const chunks: Array<string | Buffer | StreamLiteral> = ['* '];
    parts.forEach((p, i) => {
      if (i > 0) chunks.push(' ');
      encode(p, chunks);
    });
    chunks.push('\r\n');
    await this.writeChunks(chunks);
  }

  private async writeChunks(chunks: Array<string | Buffer | StreamLiteral>): Promise<void> {
    let text = '';
    for (const c of chunks) {
      if (typeof c === 'string') {
        text += c;
        continue;
      }
      if (text) this.write(text);
      text = '';
      if (Buffer.isBuffer(c)) this.write(c);
      else await this.writeStream(c);
      await this.drained();
    }
    if (text) this.write(text);
    await this.drained();
  }

  private async writeStream(lit: StreamLiteral): Promise<void> {
    let sent = 0;
    this.midLiteral = true;
    for await (const chunk of lit.open()) {
      if (this.closed) return;
      const part = chunk.length > lit.size - sent ? chunk.subarray(0, lit.size - sent) : chunk;
      this.write(part);
      sent += part.length;
      await this.drained();
      if (sent >= lit.size) break;
    }
    this.midLiteral = false;
    // The file changed under us and the announced size cannot be met: the stream is unusable.
    if (sent < lit.size) {
      this.log.warn({ expected: lit.size, sent }, 'message shorter than its announced size');
      this.socket.destroy();
      this.closed = true;
    }
  }

  /** Resolves once the socket can take more data (backpressure for big responses). */
  drained(): Promise<void> {
    if (this.closed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /**
   * Turns CONDSTORE (or QRESYNC) on. The first time, with a folder selected,
   * the client hears its HIGHESTMODSEQ at once (RFC 7162 §3.1, as Dovecot
   * says it: before the command's own responses).
   */
  enableExtension(name: 'CONDSTORE' | 'QRESYNC'): boolean {
    const wasOn = this.extensions.condstore;
    const now = this.extensions.enable(name);
    if (!wasOn && this.extensions.condstore && this.view) this.write(`* OK [HIGHESTMODSEQ ${this.view.mailbox.highestModseq}] Highest\r\n`);
    return now;
  }

  /** Tells the session of keywords new to it (FLAGS, PERMANENTFLAGS), before any FETCH that may show one. */
  announceKeywords(): void {
    const keywords = this.view?.newKeywords();
    if (keywords) this.write(flagLines(keywords, this.view!.readOnly, this.view!.mailbox.keywordsFull));
  }

  /** Writes the selected mailbox's pending updates (EXISTS, RECENT, EXPUNGE, FETCH FLAGS); returns what was written. */
  flushUpdates(allowExpunge: boolean): string {
    const view = this.view;
    if (!view) return '';
    if (view.renumbered) {
      // RFC 3501 has no way to give a selected mailbox a new UIDVALIDITY: the client must select it again.
      // A command in progress gets its tagged reply first (an APPEND that made the renumbering is done).
      if (this.busy) return '';
      this.log.info({ user: this.user?.name, mailbox: view.mailbox.name }, 'selected mailbox renumbered; closing the session');
      this.bye(`Mailbox ${view.mailbox.name} was given new UIDs (new UIDVALIDITY); select it again`);
      return '';
    }
    let out = '';
    const keywords = view.newKeywords();
    if (keywords) out += flagLines(keywords, view.readOnly, view.mailbox.keywordsFull);
    const { condstore, qresync } = this.extensions;
    // RFC 5267 §4.3: live searches hear of their expunged messages first, numbered as the client knows them.
    const removals = allowExpunge ? view.contexts.expunging(view, view.pendingExpunges()) : '';
    const vanished: number[] = [];
    const lastUid = view.uidAt(view.exists) ?? 0;
    const updates = view.flush(allowExpunge);
    if (view.contexts.size) view.contexts.touch(updates.flatMap((u) => (u.kind === 'flags' ? [u.uid] : u.kind === 'exists' ? view.uidList.filter((x) => x > lastUid) : [])));
    for (const u of updates) {
      if (u.kind === 'expunge') {
        // RFC 7162 §3.2.10: with QRESYNC enabled, VANISHED (by UID) replaces EXPUNGE.
        if (qresync) vanished.push(u.uid);
        else out += `* ${u.seq} EXPUNGE\r\n`;
      } else if (u.kind === 'exists') out += `* ${u.count} EXISTS\r\n`;
      else if (u.kind === 'recent') out += `* ${u.count} RECENT\r\n`;
      else out += `* ${u.seq} FETCH (UID ${u.uid} ${condstore ? `MODSEQ (${u.modseq}) ` : ''}FLAGS (${u.flags.join(' ')}))\r\n`;
    }
    if (vanished.length) out = `* VANISHED ${compressUids(vanished)}\r\n` + out;
    out = removals + out;
    if (out) this.write(out);
    return out;
  }

  /** Writes what the live searches (RFC 5267 UPDATE) make of the changes flushed so far. */
  async updateContexts(): Promise<void> {
    const view = this.view;
    if (!view?.contexts.size) return;
    try {
      const text = await view.contexts.refresh(view);
      if (text && this.view === view && !this.closed) this.write(text);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, user: this.user?.name, mailbox: view.mailbox.name }, 'live search update failed');
    }
  }

  /** While idling, updates are written as soon as the mailbox reports them (one write per turn). */
  setIdle(on: boolean): void {
    this.idling = on;
    this.updatePush();
    if (on && this.view) this.flushUpdates(true);
    if (on) void this.notify?.flush(false);
  }

  /** Bytes written that the client has not read yet (NOTIFY holds its pushes back above a limit). */
  get unreadOutput(): number {
    return this.socket.writableLength;
  }

  /** A command is writing its responses (IDLE aside): nothing unsolicited may go out now. */
  get busy(): boolean {
    return this.running && !this.idling;
  }

  /** NOTIFY SET (a new watch) or NONE (null): the old one stops. */
  setNotify(watch: NotifyWatch | null): void {
    if (this.notify !== watch) this.notify?.stop();
    this.notify = watch;
    this.updatePush();
  }

  /** The selected folder's changes go out as they happen while idling, and any time with NOTIFY SELECTED (RFC 5465 §5). */
  private updatePush(): void {
    if (this.view) this.view.onChange = this.idling || this.notify?.pushesSelected ? this.pushSelected : null;
  }

  private readonly pushSelected = (): void => {
    if (this.idleFlushScheduled) return;
    this.idleFlushScheduled = true;
    schedulePush(() => {
      this.idleFlushScheduled = false;
      if (this.busy) return; // the command's end writes them
      const sent = this.flushUpdates(this.idling || this.notify?.expungeAnytime === true);
      void this.updateContexts();
      void this.notify?.flush(false);
      // One line per push at debug (the demo's level): what an idling client was sent, unasked.
      if (sent && this.log.isLevelEnabled('debug')) this.log.debug({ user: this.user?.name, mailbox: this.view?.mailbox.name, sent: sent.trimEnd().split('\r\n') }, 'push');
    });
  };

  /**
   * Unsolicited work that writes several responses (NOTIFY's FETCH for new
   * mail): run now in IDLE, else as a command would (the next command waits);
   * skipped while a command runs, whose end does it instead.
   */
  async unsolicited(work: () => Promise<void>): Promise<void> {
    if (this.closed) return;
    if (this.idling) return work();
    if (this.running) return;
    this.running = true;
    try {
      await work();
    } finally {
      this.running = false;
      this.pump();
    }
  }

  // --- selection ---

  select(view: MailboxView | null): void {
    this.view?.close();
    this.view = view;
    this.state = view ? 'selected' : this.user ? 'auth' : 'notauth';
    this.notify?.selectionChanged();
    this.updatePush();
  }

  // --- lifetime ---

  /** Inactivity autologout: RFC 3501 §5.4 asks for at least 30 minutes once authenticated. IDLE has no limit. */
  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.closed) return;
    const ms = this.state === 'notauth' ? this.ctx.config.loginTimeoutMs : this.ctx.config.idleTimeoutMs;
    this.timer = setTimeout(() => {
      if (this.lineWaiter && this.view?.onChange) return this.armTimer(); // idling: no upper limit
      this.bye('Autologout; idle for too long');
    }, ms);
    this.timer.unref();
  }

  bye(reason: string): void {
    if (this.closed) return;
    this.write(`* BYE ${reason}\r\n`);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.state = 'logout';
    this.socket.end();
    this.cleanup();
    // A client that never reads must not keep the socket forever.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private cleanup(): void {
    if (this.closed && !this.view) return;
    this.closed = true;
    this.framer.close(); // drops a half-received APPEND's spool file
    if (this.timer) clearTimeout(this.timer);
    if (this.lineWaiter) {
      const w = this.lineWaiter;
      this.lineWaiter = null;
      w({ error: { kind: 'fatal', reason: 'connection closed' } });
    }
    if (this.view) {
      this.view.close();
      this.view = null;
    }
    this.notify?.stop();
    this.notify = null;
    this.ctx.onClose(this);
  }
}

function isCompressCommand(cmd: FramedCommand): boolean {
  const first = cmd.parts[0];
  return cmd.parts.length === 1 && first?.kind === 'text' && /^\S+ COMPRESS( |$)/i.test(first.text);
}

function stateText(state: ConnState): string {
  return state === 'notauth' ? 'before login' : state === 'auth' ? 'without a selected mailbox' : state === 'selected' ? 'here' : 'after logout';
}

export type { Inbound, Token };
