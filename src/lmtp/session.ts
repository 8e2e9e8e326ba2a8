// One LMTP connection (RFC 2033): LHLO, then transactions of MAIL FROM, RCPT
// TO (each recipient resolved through the users file), DATA (streamed into a
// spool file as it arrives, dot-unstuffed, bounded by the APPEND limit), and
// after the final dot one reply per accepted recipient, in RCPT order, each
// sent only once that recipient's copy is on disk. Pipelined commands
// (Postfix pipelines MAIL, RCPT… and DATA) are answered in order.
import type net from 'node:net';
import type { Logger } from 'pino';
import { mailErrorOf, traceHeader, type IncomingMessage, type MailUser } from '../mail/api.js';
import { DotDecoder } from './data.js';
import { formatReply, parseCommand, SmtpReplyError, type LmtpCommand } from './command.js';

export interface LmtpLimits {
  /** Largest message (the bytes between DATA and the dot, as sent): the same as APPENDLIMIT. */
  maxMessageBytes: number;
  /** Recipients per transaction; more get 452 (RFC 5321 §4.5.3.1.10: the client sends them later). */
  maxRecipients: number;
  /** One command line. */
  maxLineBytes: number;
  /** Silence from the client, at any point (RFC 5321 §4.5.3.2.7: 5 minutes). */
  idleTimeoutMs: number;
  /** Bad commands before the connection is closed. */
  maxErrors: number;
  /** Copies written at once for one message. */
  deliveryConcurrency: number;
}

export const DEFAULT_LMTP_LIMITS: LmtpLimits = {
  maxMessageBytes: 50 * 1024 * 1024,
  maxRecipients: 100,
  maxLineBytes: 4096,
  idleTimeoutMs: 5 * 60_000,
  maxErrors: 20,
  deliveryConcurrency: 8,
};

/** What the recipient's filter (Sieve) decided for one message. */
export interface LmtpFilterResult {
  /** Folders to store into (INBOX: the default place, a +detail folder if there is one); none: discard. */
  targets: Array<{ folder: string; flags: string[]; create: boolean }>;
  /** Refuse this recipient with 550 5.7.1 and this text. */
  reject: string | null;
  /** Redirect and vacation, once the message is stored; false when a redirect failed. Never rejects. */
  sideEffects(): Promise<boolean>;
  /** False when no script applied: deliver as without a filter. */
  filtered: boolean;
  summary: string;
}

/** A recipient the users file knows, with the mail to deliver into. */
export interface LmtpRecipient {
  /** The user's canonical login (for the log). */
  user: string;
  store: MailUser;
  /** A +detail's folder, or null. */
  folder: string | null;
  /**
   * The recipient's Sieve scripts, run on the message as it will be stored
   * (trace header fields included) before anything is written.
   */
  filter?: (message: Buffer, envelope: { from: string; to: string; originalTo: string | null }) => Promise<LmtpFilterResult>;
}

export interface LmtpSessionContext {
  log: Logger;
  hostname: string;
  limits: LmtpLimits;
  /**
   * The user an address names, or null when there is none (550 5.1.1). A
   * throw is a server fault (a Maildir template that cannot be expanded):
   * the client hears 451 and keeps the message.
   */
  resolve(address: string): LmtpRecipient | null;
  /** Connections are accepted (false before the users file is loaded). */
  ready(): boolean;
}

interface AcceptedRcpt {
  address: string;
  originalTo: string | null;
  recipient: LmtpRecipient;
}

interface DataState {
  decoder: DotDecoder;
  spool: IncomingMessage | null;
  /** Message bytes received (as sent, CRLF). */
  bytes: number;
  tooBig: boolean;
  spoolError: unknown;
}

const NO_RECIPIENTS = () => new SmtpReplyError(503, '5.5.1', 'No valid recipients');

export class LmtpSession {
  private input: Buffer = Buffer.alloc(0);
  /** Skipping the rest of an overlong line. */
  private skipping = false;
  private greeted = false;
  private sender: string | null = null;
  private rcpts: AcceptedRcpt[] = [];
  private data: DataState | null = null;
  /** Deliveries in progress: input waits (the socket is paused). */
  private busy = false;
  private errors = 0;
  private closed = false;
  /** Set by shutdown(): close once the current transaction's replies are out. */
  private closing = false;
  readonly log: Logger;

  constructor(
    readonly socket: net.Socket,
    private readonly ctx: LmtpSessionContext,
    readonly id: string,
    private readonly onClose: (s: LmtpSession) => void,
  ) {
    this.log = ctx.log.child({ cid: id, proto: 'lmtp' });
    socket.setNoDelay(true);
    socket.setTimeout(ctx.limits.idleTimeoutMs, () => {
      if (this.busy) return;
      this.reply(421, '4.4.2', `${ctx.hostname} Timeout, closing connection`);
      this.end();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'lmtp socket error'));
    socket.on('close', () => this.cleanup());
  }

  greet(): void {
    if (!this.ctx.ready()) {
      this.reply(421, '4.3.2', `${this.ctx.hostname} Service starting, try again`);
      this.end();
      return;
    }
    this.socket.write(formatReply(220, [`${this.ctx.hostname} maildir-imapd LMTP ready`]));
  }

  /** Server shutdown: an idle session ends now, one mid-transaction after its replies. */
  shutdown(): void {
    this.closing = true;
    if (!this.busy && !this.data) {
      this.reply(421, '4.3.2', `${this.ctx.hostname} Shutting down`);
      this.end();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // --- input ---

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.input = this.input.length ? Buffer.concat([this.input, chunk]) : chunk;
    this.pump();
  }

  /** Works through buffered input until it is used up or a delivery must finish first. */
  private pump(): void {
    while (!this.busy && !this.closed && this.input.length) {
      if (this.data) {
        this.feedData();
        continue;
      }
      const nl = this.input.indexOf(10);
      if (this.skipping) {
        if (nl < 0) {
          this.input = Buffer.alloc(0);
          return;
        }
        this.skipping = false;
        this.input = this.input.subarray(nl + 1);
        continue;
      }
      if (nl < 0) {
        if (this.input.length > this.ctx.limits.maxLineBytes) {
          this.input = Buffer.alloc(0);
          this.skipping = true;
          this.fail(new SmtpReplyError(500, '5.5.2', 'Line too long'));
        }
        return;
      }
      if (nl > this.ctx.limits.maxLineBytes) {
        this.input = this.input.subarray(nl + 1);
        this.fail(new SmtpReplyError(500, '5.5.2', 'Line too long'));
        continue;
      }
      const end = nl > 0 && this.input[nl - 1] === 13 ? nl - 1 : nl;
      const raw = this.input.subarray(0, end);
      this.input = this.input.subarray(nl + 1);
      this.command(raw);
    }
  }

  private command(raw: Buffer): void {
    let line: string;
    try {
      line = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      this.fail(new SmtpReplyError(500, '5.5.2', 'The command line is not UTF-8'));
      return;
    }
    try {
      this.run(parseCommand(line));
    } catch (err) {
      if (err instanceof SmtpReplyError) this.fail(err);
      else {
        // A bug answers this command, never ends the process (nor bounces mail: 4xx).
        this.log.error({ err }, 'lmtp command failed');
        this.reply(451, '4.3.0', 'Internal error; try again later');
      }
    }
  }

  private run(cmd: LmtpCommand): void {
    const host = this.ctx.hostname;
    switch (cmd.verb) {
      case 'LHLO':
        this.greeted = true;
        this.resetTransaction();
        this.socket.write(
          formatReply(250, [host, 'PIPELINING', 'ENHANCEDSTATUSCODES', '8BITMIME', 'SMTPUTF8', `SIZE ${this.ctx.limits.maxMessageBytes}`]),
        );
        return;
      case 'HELO':
      case 'EHLO':
        throw new SmtpReplyError(500, '5.5.1', 'This is LMTP: use LHLO (RFC 2033)');
      case 'MAIL':
        if (!this.greeted) throw new SmtpReplyError(503, '5.5.1', 'Send LHLO first');
        if (this.sender !== null) throw new SmtpReplyError(503, '5.5.1', 'Nested MAIL command');
        if (cmd.params.size !== null && cmd.params.size > this.ctx.limits.maxMessageBytes)
          throw new SmtpReplyError(552, '5.3.4', `Message too big (at most ${this.ctx.limits.maxMessageBytes} bytes)`);
        this.sender = cmd.address;
        this.reply(250, '2.1.0', 'Ok');
        return;
      case 'RCPT':
        return this.rcpt(cmd.address, cmd.originalTo);
      case 'DATA':
        return this.startData();
      case 'RSET':
        this.resetTransaction();
        this.reply(250, '2.0.0', 'Ok');
        return;
      case 'NOOP':
        this.reply(250, '2.0.0', 'Ok');
        return;
      case 'HELP':
        this.reply(214, '2.0.0', 'Commands: LHLO MAIL RCPT DATA RSET NOOP QUIT');
        return;
      case 'VRFY':
        this.reply(252, '2.5.0', 'Cannot VRFY; send some mail and see');
        return;
      case 'QUIT':
        this.reply(221, '2.0.0', `${host} Bye`);
        this.end();
        return;
    }
  }

  private rcpt(address: string, originalTo: string | null): void {
    if (this.sender === null) throw new SmtpReplyError(503, '5.5.1', 'MAIL first');
    if (this.rcpts.length >= this.ctx.limits.maxRecipients)
      throw new SmtpReplyError(452, '4.5.3', `Too many recipients (at most ${this.ctx.limits.maxRecipients} per message)`);
    let recipient: LmtpRecipient | null;
    try {
      recipient = this.ctx.resolve(address);
    } catch (err) {
      this.log.error({ err, rcpt: address }, 'cannot resolve an LMTP recipient');
      this.reply(451, '4.3.5', `<${address}> Server configuration error; try again later`);
      return;
    }
    if (!recipient) {
      this.log.info({ rcpt: address }, 'lmtp: unknown recipient');
      this.reply(550, '5.1.1', `<${address}> User doesn't exist`);
      return;
    }
    this.rcpts.push({ address, originalTo, recipient });
    this.reply(250, '2.1.5', 'Ok');
  }

  private startData(): void {
    if (this.sender === null) throw new SmtpReplyError(503, '5.5.1', 'MAIL first');
    if (!this.rcpts.length) throw NO_RECIPIENTS();
    // The message is spooled once, in the first recipient's Maildir that takes it.
    let spool: IncomingMessage | null = null;
    let lastErr: unknown = null;
    for (const r of this.rcpts) {
      try {
        spool = r.recipient.store.openSpool();
        break;
      } catch (err) {
        lastErr = err;
      }
    }
    if (!spool) {
      this.log.warn({ err: (lastErr as Error)?.message }, 'lmtp: cannot spool a message');
      throw new SmtpReplyError(451, '4.3.0', 'Cannot store the message now; try again later');
    }
    this.data = { decoder: new DotDecoder(), spool, bytes: 0, tooBig: false, spoolError: null };
    this.socket.write(formatReply(354, ['Start mail input; end with <CRLF>.<CRLF>']));
  }

  private feedData(): void {
    const d = this.data!;
    const used = d.decoder.push(this.input, (bytes) => {
      d.bytes += bytes.length;
      if (d.tooBig || d.spoolError) return;
      if (d.bytes > this.ctx.limits.maxMessageBytes) {
        // Read on to the dot, keep nothing: the spool goes now, not after 50 MB more.
        d.tooBig = true;
        d.spool?.discard();
        return;
      }
      try {
        d.spool!.write(bytes);
      } catch (err) {
        d.spoolError = err;
        d.spool?.discard();
      }
    });
    this.input = this.input.subarray(used);
    if (d.decoder.done) {
      this.data = null;
      this.finishData(d).catch((err) => {
        this.log.error({ err }, 'lmtp: finishing a message failed');
        this.end();
      });
    }
  }

  /** The dot came: deliver to each recipient, then one reply for each, in RCPT order. */
  private async finishData(d: DataState): Promise<void> {
    this.busy = true;
    this.socket.pause();
    const rcpts = this.rcpts;
    const sender = this.sender ?? '';
    this.resetTransaction();
    try {
      let replies: string[];
      if (d.tooBig) {
        this.log.info({ from: sender, bytes: d.bytes, max: this.ctx.limits.maxMessageBytes }, 'lmtp: message too big');
        replies = rcpts.map((r) => line(552, '5.3.4', `<${r.address}> Message too big (at most ${this.ctx.limits.maxMessageBytes} bytes)`));
      } else if (d.spoolError) {
        this.log.warn({ err: (d.spoolError as Error).message }, 'lmtp: spooling the message failed');
        replies = rcpts.map((r) => line(451, '4.3.0', `<${r.address}> Cannot store the message now; try again later`));
      } else {
        try {
          d.spool!.finish(); // its last byte may still be written: a full disk fails here too
          replies = await this.deliverAll(d.spool!, sender, rcpts);
        } catch (err) {
          this.log.warn({ err }, 'lmtp: spooling the message failed');
          replies = rcpts.map((r) => line(451, '4.3.0', `<${r.address}> Cannot store the message now; try again later`));
        }
      }
      if (!this.closed) this.socket.write(replies.join(''));
    } finally {
      d.spool?.discard();
      this.busy = false;
    }
    if (this.closing) {
      this.shutdown();
      return;
    }
    if (this.closed) return;
    this.socket.resume();
    this.pump();
  }

  /**
   * One copy per distinct recipient (the same address given twice gets one
   * copy and two replies), a few at once. A failure of one recipient is its
   * own reply; the others are delivered.
   */
  private async deliverAll(spool: IncomingMessage, sender: string, rcpts: AcceptedRcpt[]): Promise<string[]> {
    const distinct: Array<{ key: string; r: AcceptedRcpt }> = [];
    for (const r of rcpts) {
      const key = r.address.toLowerCase();
      if (!distinct.some((x) => x.key === key)) distinct.push({ key, r });
    }
    let next = 0;
    const results = new Map<string, { code: number; enhanced: string; text: string }>();
    const worker = async () => {
      while (next < distinct.length) {
        const { key, r } = distinct[next++];
        results.set(key, await this.deliverOne(spool, sender, r));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.ctx.limits.deliveryConcurrency, distinct.length) }, worker));
    return rcpts.map((r) => {
      const res = results.get(r.address.toLowerCase())!;
      return line(res.code, res.enhanced, `<${r.address}> ${res.text}`);
    });
  }

  private async deliverOne(spool: IncomingMessage, sender: string, r: AcceptedRcpt): Promise<{ code: number; enhanced: string; text: string }> {
    const started = performance.now();
    const envelope = { returnPath: sender, deliveredTo: r.address, originalTo: r.originalTo };
    try {
      const outcome = await this.filter(spool, sender, r);
      if (outcome?.reject != null) {
        this.log.info({ from: sender, to: r.address, user: r.recipient.user, sieve: outcome.summary }, 'lmtp: rejected by sieve');
        return { code: 550, enhanced: '5.7.1', text: outcome.reject };
      }
      if (!outcome || !outcome.filtered) {
        const { folder, uid } = await r.recipient.store.deliver(spool, envelope, r.recipient.folder);
        this.log.info({ from: sender, to: r.address, user: r.recipient.user, folder, uid, size: spool.size, ms: +(performance.now() - started).toFixed(1) }, 'delivered');
        return { code: 250, enhanced: '2.0.0', text: 'Saved' };
      }
      // Every copy is written before any side effect: a failure here is a 451 and nothing has left yet.
      const stored: Array<{ folder: string; uid: number | null }> = [];
      const into = async (t: { folder: string; flags: string[]; create: boolean }) =>
        stored.push(
          await r.recipient.store.deliver(spool, envelope, t.folder === 'INBOX' ? r.recipient.folder : t.folder, { flags: t.flags, create: t.create, filtered: true }),
        );
      for (const t of outcome.targets) await into(t);
      const handedOn = await outcome.sideEffects();
      // A redirect that failed with nothing else holding the message: INBOX, never lost.
      if (!handedOn && !outcome.targets.length) await into({ folder: 'INBOX', flags: [], create: false });
      const ms = +(performance.now() - started).toFixed(1);
      if (!stored.length) this.log.info({ from: sender, to: r.address, user: r.recipient.user, sieve: outcome.summary, size: spool.size, ms }, 'discarded by sieve');
      else this.log.info({ from: sender, to: r.address, user: r.recipient.user, stored, sieve: outcome.summary, size: spool.size, ms }, 'delivered');
      return { code: 250, enhanced: '2.0.0', text: stored.length ? 'Saved' : 'Discarded by the recipient\'s filter' };
    } catch (err) {
      const fault = mailErrorOf(err);
      if (fault?.kind === 'quota') {
        this.log.info({ to: r.address, user: r.recipient.user }, 'lmtp: mailbox full');
        return { code: 552, enhanced: '5.2.2', text: 'Mailbox full' };
      }
      if (fault) {
        this.log.warn({ to: r.address, user: r.recipient.user, err: fault.message }, 'lmtp: delivery failed; the client will retry');
        return { code: 451, enhanced: '4.3.0', text: `${fault.message}; try again later` };
      }
      // A bug, never a bounce: the client keeps the message and retries.
      this.log.error({ err, to: r.address, user: r.recipient.user }, 'lmtp: delivery failed');
      return { code: 451, enhanced: '4.3.0', text: 'Internal error; try again later' };
    }
  }

  /** The recipient's filter on the message; null without one, and on a fault of the filter itself (logged: INBOX). */
  private async filter(spool: IncomingMessage, sender: string, r: AcceptedRcpt): Promise<LmtpFilterResult | null> {
    if (!r.recipient.filter) return null;
    try {
      const header = traceHeader({ returnPath: sender, deliveredTo: r.address, originalTo: r.originalTo });
      const bytes = Buffer.concat([header, await spool.read()]);
      return await r.recipient.filter(bytes, { from: sender, to: r.address, originalTo: r.originalTo });
    } catch (err) {
      if (mailErrorOf(err)) throw err;
      this.log.error({ err, to: r.address, user: r.recipient.user }, 'sieve: filtering failed; delivered to INBOX');
      return null;
    }
  }

  // --- output ---

  private reply(code: number, enhanced: string, text: string): void {
    if (!this.closed) this.socket.write(line(code, enhanced, text));
  }

  private fail(err: SmtpReplyError): void {
    this.reply(err.code, err.enhanced, err.message);
    if (err.code >= 500 && ++this.errors >= this.ctx.limits.maxErrors) {
      this.reply(421, '4.7.0', `${this.ctx.hostname} Too many errors, closing connection`);
      this.end();
    }
  }

  private resetTransaction(): void {
    this.sender = null;
    this.rcpts = [];
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    // A client that never reads must not hold the socket open.
    setTimeout(() => this.socket.destroy(), 10_000).unref();
  }

  private cleanup(): void {
    this.closed = true;
    if (this.data) {
      this.data.spool?.discard();
      this.data = null;
    }
    this.onClose(this);
  }
}

function line(code: number, enhanced: string, text: string): string {
  return `${code} ${enhanced} ${text}\r\n`;
}
