// The ManageSieve service (RFC 5804, port 4190): its listeners and sessions.
// Users, passwords, the plaintext policy, the failure penalty and the TLS
// certificate are the IMAP side's, handed in by src/server.ts.
import net from 'node:net';
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { listenOn, type OpenListener } from '../lmtp/listen-spec.js';
import { addressGroup } from '../auth/penalty.js';
import { ManageSieveSession, DEFAULT_MANAGESIEVE_LIMITS, type ManageSieveContext, type ManageSieveLimits } from './session.js';

export interface ManageSieveServiceOptions extends Omit<ManageSieveContext, 'limits'> {
  limits?: Partial<ManageSieveLimits>;
  /** Sessions at once. */
  maxConnections: number;
  /** Sessions at once per client address (an IPv6 /64) that have not logged in. */
  maxUnauthenticatedPerIp: number;
}

export class ManageSieveService {
  private readonly listeners: OpenListener[] = [];
  private readonly sessions = new Set<ManageSieveSession>();
  private readonly ctx: ManageSieveContext;
  private ready = false;
  private nextId = 1;
  private readonly idPrefix = 's' + crypto.randomBytes(3).toString('hex');

  constructor(private readonly opts: ManageSieveServiceOptions) {
    this.ctx = { ...opts, limits: { ...DEFAULT_MANAGESIEVE_LIMITS, ...opts.limits } };
  }

  /** Opens one listener: HOST:PORT, or unix:PATH for a local webmail. */
  async listen(spec: string): Promise<OpenListener> {
    const server = net.createServer((socket) => this.accept(socket));
    server.on('error', (err) => this.opts.log.error({ err }, 'managesieve listener error'));
    const l = await listenOn(server, spec, { user: null, group: null, mode: 0o660 });
    this.listeners.push(l);
    return l;
  }

  /** Sessions may log in from now on (the users file is loaded). */
  open(): void {
    this.ready = true;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private accept(socket: net.Socket): void {
    const log = this.opts.log;
    socket.on('error', () => undefined); // a reset before the session attaches its own handler
    if (!this.ready) {
      socket.end('BYE "Server starting, try again."\r\n');
      return;
    }
    if (this.sessions.size >= this.opts.maxConnections) {
      log.warn({ max: this.opts.maxConnections }, 'managesieve connection refused: too many at once');
      socket.end('BYE "Too many connections, try again later."\r\n');
      return;
    }
    const group = addressGroup(socket.remoteAddress);
    let waiting = 0;
    for (const s of this.sessions) if (!s.isAuthenticated && addressGroup(s.remoteAddress) === group) waiting++;
    if (waiting >= this.opts.maxUnauthenticatedPerIp) {
      log.warn({ ip: socket.remoteAddress, max: this.opts.maxUnauthenticatedPerIp }, 'managesieve connection refused: too many not logged in from this IP');
      socket.end('BYE "Too many connections from your address that have not logged in."\r\n');
      return;
    }
    const session = new ManageSieveSession(socket, this.ctx, `${this.idPrefix}-${this.nextId++}`, (s) => this.sessions.delete(s));
    this.sessions.add(session);
    session.log.info({ ip: socket.remoteAddress, port: socket.remotePort }, 'connect');
    session.greet();
  }

  /** Stops listening and says BYE to every session. */
  async close(): Promise<void> {
    this.ready = false;
    const closing = Promise.all(this.listeners.map((l) => l.close()));
    for (const s of [...this.sessions]) s.bye('Server shutting down.');
    await Promise.race([closing, new Promise((r) => setTimeout(r, 1000))]);
  }
}
