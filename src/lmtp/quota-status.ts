// The quota policy service for Postfix (Dovecot's quota-status): Postfix's
// smtpd asks at RCPT time, through `check_policy_service`, and a full
// mailbox is refused before the message is accepted (no bounce to send
// later). The protocol is Postfix's policy delegation (SMTPD_POLICY_README):
// the client sends `name=value` lines ending with an empty line, we answer
// one `action=…` line and an empty line; a connection carries many requests.
//
// recipient= names the user as LMTP resolves it (whole address, then the
// bare local part, then without its +detail). A mailbox that cannot take
// size= more bytes (0 when the client gave no SIZE) and one more message gets
// the configured action (default `552 5.2.2 Mailbox full`); everything else,
// an unknown recipient included (Postfix rejects those itself), gets DUNNO.
import net from 'node:net';
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { quotaFits, type MailUser } from '../mail/api.js';
import { resolveRecipient } from './recipient.js';
import { listenOn, type OpenListener, type SocketOwnership } from './listen-spec.js';

export interface QuotaStatusOptions<U extends { name: string }> {
  log: Logger;
  users: { lookup(login: string): U | undefined };
  storeFor(user: U): MailUser;
  recipientDelimiter: string;
  socket: SocketOwnership;
  /** The action for a full mailbox (Dovecot's quota_status_overquota). */
  overquota: string;
  /** Requests idle longer than this are closed (Postfix reconnects). */
  idleMs?: number;
  maxConnections?: number;
}

/** One attribute line (Postfix's are short; 8 KiB is generous) and one request. */
const MAX_LINE = 8192;
const MAX_REQUEST = 64 * 1024;

export class QuotaStatusService<U extends { name: string }> {
  private readonly listeners: OpenListener[] = [];
  private readonly sockets = new Set<net.Socket>();
  private ready = false;
  private readonly idPrefix = 'q' + crypto.randomBytes(3).toString('hex');
  private nextId = 1;

  constructor(private readonly opts: QuotaStatusOptions<U>) {}

  async listen(spec: string): Promise<OpenListener> {
    const server = net.createServer((socket) => this.accept(socket));
    server.on('error', (err) => this.opts.log.error({ err }, 'quota-status listener error'));
    const l = await listenOn(server, spec, this.opts.socket);
    this.listeners.push(l);
    return l;
  }

  /** Requests are answered from now on (the users file is loaded); before, every answer is DUNNO. */
  open(): void {
    this.ready = true;
  }

  /** The action for one request's attributes. */
  async decide(attrs: Map<string, string>): Promise<string> {
    const recipient = attrs.get('recipient') ?? '';
    if (!recipient || !this.ready) return 'DUNNO';
    const found = resolveRecipient(recipient, (login) => this.opts.users.lookup(login), this.opts.recipientDelimiter);
    if (!found) return 'DUNNO';
    const size = /^\d+$/.test(attrs.get('size') ?? '') ? Number(attrs.get('size')) : 0;
    try {
      const q = await this.opts.storeFor(found.user).quota();
      if (quotaFits(q, size, 1)) return 'DUNNO';
      this.opts.log.info({ to: recipient, user: found.user.name, size }, 'quota-status: mailbox full');
      return this.opts.overquota;
    } catch (err) {
      this.opts.log.error({ err, to: recipient }, 'quota-status: quota lookup failed');
      return 'DEFER_IF_PERMIT Temporary quota lookup failure';
    }
  }

  private accept(socket: net.Socket): void {
    const log = this.opts.log.child({ conn: `${this.idPrefix}-${this.nextId++}` });
    if (this.sockets.size >= (this.opts.maxConnections ?? 200)) {
      log.warn('quota-status connection refused: too many at once');
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.setTimeout(this.opts.idleMs ?? 10 * 60_000, () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => log.debug({ err: err.message }, 'quota-status connection error'));
    let buf = '';
    let attrs = new Map<string, string>();
    let requestBytes = 0;
    // Requests are answered in order, one at a time (Postfix sends the next only after the answer).
    let chain: Promise<void> = Promise.resolve();
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      requestBytes += chunk.length;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (line === '') {
          const request = attrs;
          attrs = new Map();
          requestBytes = buf.length;
          chain = chain.then(async () => {
            const action = await this.decide(request);
            if (!socket.destroyed) socket.write(`action=${action}\n\n`);
          });
          continue;
        }
        const eq = line.indexOf('=');
        if (eq <= 0) {
          log.warn({ line: line.slice(0, 80) }, 'quota-status: not a name=value line; closing');
          socket.destroy();
          return;
        }
        attrs.set(line.slice(0, eq), line.slice(eq + 1));
      }
      if (buf.length > MAX_LINE || requestBytes > MAX_REQUEST) {
        log.warn({ bytes: requestBytes }, 'quota-status: request too long; closing');
        socket.destroy();
      }
    });
  }

  async close(): Promise<void> {
    this.ready = false;
    for (const s of this.sockets) s.destroy();
    await Promise.race([Promise.all(this.listeners.map((l) => l.close())), new Promise((r) => setTimeout(r, 200))]);
  }
}
