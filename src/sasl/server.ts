// The Postfix SMTP AUTH service (smtpd_sasl_type = dovecot): listeners on
// unix sockets or TCP, one SaslConnection per auth client. Listening happens
// before the privilege drop (a socket in /var/spool/postfix/private, handed to
// postfix); connections are served once open() has the users (one that
// arrives in between waits for it).
import net from 'node:net';
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { listenOn, parseListenSpec, type BoundListener, type SocketOptions } from '../listen-spec.js';
import { SaslConnection, DEFAULT_SASL_LIMITS, type SaslContext, type SaslLimits } from './connection.js';
import { isLoopback } from '../imap/capabilities.js';

export interface SaslServerOptions {
  specs: string[];
  socket: SocketOptions;
  log: Logger;
  limits?: SaslLimits;
}

export class SaslServer {
  private readonly listeners: BoundListener[] = [];
  private readonly connections = new Set<SaslConnection>();
  /** Accepted before open(): served as soon as it runs. */
  private waiting: net.Socket[] = [];
  private ctx: SaslContext | null = null;
  private nextCuid = 1;
  private readonly idPrefix = crypto.randomBytes(3).toString('hex');
  readonly limits: SaslLimits;

  constructor(private readonly opts: SaslServerOptions) {
    this.limits = opts.limits ?? DEFAULT_SASL_LIMITS;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Opens every listener; returns where each listens (`unix:/path`, `127.0.0.1:PORT`). */
  async listen(): Promise<string[]> {
    for (const spec of this.opts.specs) {
      const s = parseListenSpec(spec);
      if (s.kind === 'tcp' && !isLoopback(s.host)) {
        this.opts.log.warn({ listen: spec }, 'sasl listener on a non-loopback address: whoever reaches it can check passwords and name any client address; keep it on 127.0.0.1 or a unix socket');
      }
      const server = net.createServer((socket) => this.accept(socket));
      server.on('error', (err) => this.opts.log.error({ err }, 'sasl listener error'));
      this.listeners.push(await listenOn(server, s, this.opts.socket));
    }
    return this.listeners.map((l) => l.where);
  }

  /** Starts serving (after any privilege drop). */
  open(ctx: Omit<SaslContext, 'log' | 'limits' | 'spid' | 'cookie'>): void {
    this.ctx = { ...ctx, log: this.opts.log, limits: this.limits, spid: process.pid, cookie: crypto.randomBytes(16).toString('hex') };
    const waiting = this.waiting;
    this.waiting = [];
    for (const socket of waiting) if (!socket.destroyed) this.serve(socket);
  }

  private accept(socket: net.Socket): void {
    if (this.connections.size + this.waiting.length >= this.limits.maxConnections) {
      this.opts.log.warn({ max: this.limits.maxConnections }, 'sasl connection refused: too many');
      socket.destroy();
      return;
    }
    if (!this.ctx) {
      this.waiting.push(socket);
      socket.once('close', () => (this.waiting = this.waiting.filter((s) => s !== socket)));
      return;
    }
    this.serve(socket);
  }

  private serve(socket: net.Socket): void {
    const cuid = this.nextCuid++;
    const conn = new SaslConnection(socket, this.ctx!, cuid, `${this.idPrefix}-s${cuid}`, (c) => {
      this.connections.delete(c);
      c.log.debug('sasl client disconnected');
    });
    this.connections.add(conn);
    conn.log.info({ peer: socket.remoteAddress ?? 'unix' }, 'sasl client connected');
    conn.start();
  }

  /** Stops listening, removes the sockets, and closes every connection. */
  async stop(): Promise<void> {
    const closing = Promise.all(this.listeners.map((l) => l.close()));
    for (const s of this.waiting) s.destroy();
    for (const c of [...this.connections]) c.close();
    await closing;
  }
}
