// The LMTP service (RFC 2033) Postfix delivers through (`virtual_transport =
// lmtp:unix:…` or `lmtp:inet:HOST:PORT`): its listeners, its sessions, and
// the recipient lookup through the users file the IMAP side uses.
import net from 'node:net';
import os from 'node:os';
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { MailUser } from '../mail/api.js';
import { LmtpSession, DEFAULT_LMTP_LIMITS, type LmtpLimits, type LmtpRecipient } from './session.js';
import { resolveRecipient } from './recipient.js';
import { listenOn, type OpenListener, type SocketOwnership } from './listen-spec.js';

export interface LmtpUsers<U extends { name: string }> {
  lookup(login: string): U | undefined;
}

export interface LmtpServiceOptions<U extends { name: string }> {
  log: Logger;
  users: LmtpUsers<U>;
  /** The user's mail (throws when the Maildir template cannot be expanded for the user). */
  storeFor(user: U): MailUser;
  /** The recipient's filter (Sieve), if deliveries to this user are filtered. */
  filterFor?(user: U, store: MailUser): LmtpRecipient['filter'];
  /** Characters that separate a +detail from the user (Postfix's recipient_delimiter); '' for none. */
  recipientDelimiter: string;
  socket: SocketOwnership;
  limits?: Partial<LmtpLimits>;
  /** Sessions at once (Postfix's default process limit is 100 per service). */
  maxConnections?: number;
  hostname?: string;
}

export class LmtpService<U extends { name: string }> {
  private readonly listeners: OpenListener[] = [];
  private readonly sessions = new Set<LmtpSession>();
  private readonly limits: LmtpLimits;
  private readonly maxConnections: number;
  private ready = false;
  private nextId = 1;
  private readonly idPrefix = 'l' + crypto.randomBytes(3).toString('hex');

  constructor(private readonly opts: LmtpServiceOptions<U>) {
    this.limits = { ...DEFAULT_LMTP_LIMITS, ...opts.limits };
    this.maxConnections = opts.maxConnections ?? 200;
  }

  /** Opens one listener (before the privilege drop: a socket in Postfix's private/ needs root to create). */
  async listen(spec: string): Promise<OpenListener> {
    const server = net.createServer((socket) => this.accept(socket));
    server.on('error', (err) => this.opts.log.error({ err }, 'lmtp listener error'));
    const l = await listenOn(server, spec, this.opts.socket);
    this.listeners.push(l);
    return l;
  }

  /** Sessions may deliver from now on (the users file is loaded). */
  open(): void {
    this.ready = true;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private accept(socket: net.Socket): void {
    const log = this.opts.log;
    if (this.sessions.size >= this.maxConnections) {
      log.warn({ max: this.maxConnections }, 'lmtp connection refused: too many at once');
      socket.end('421 4.3.2 Too many connections, try again later\r\n');
      return;
    }
    const session = new LmtpSession(
      socket,
      {
        log,
        hostname: this.opts.hostname ?? os.hostname(),
        limits: this.limits,
        ready: () => this.ready,
        resolve: (address) => this.resolve(address),
      },
      `${this.idPrefix}-${this.nextId++}`,
      (s) => this.sessions.delete(s),
    );
    this.sessions.add(session);
    session.log.debug({ ip: socket.remoteAddress }, 'lmtp connect');
    session.greet();
  }

  private resolve(address: string): LmtpRecipient | null {
    const found = resolveRecipient(address, (login) => this.opts.users.lookup(login), this.opts.recipientDelimiter);
    if (!found) return null;
    const store = this.opts.storeFor(found.user);
    return { user: found.user.name, store, folder: found.detailFolder, filter: this.opts.filterFor?.(found.user, store) };
  }

  /** Stops listening; idle sessions get 421 now, busy ones after their replies; waits up to `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    this.ready = false;
    const closing = Promise.all(this.listeners.map((l) => l.close()));
    for (const s of this.sessions) s.shutdown();
    const until = Date.now() + graceMs;
    while (this.sessions.size && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sessions) s.socket.destroy();
    await Promise.race([closing, new Promise((r) => setTimeout(r, 200))]);
  }
}
