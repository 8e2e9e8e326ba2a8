// One auth client (a Postfix smtpd process) on the Dovecot auth protocol:
// the handshake, then any number of AUTH requests, each with its own id, in
// flight at once. Each SMTP AUTH is one request: PLAIN or LOGIN, CONT lines for
// the challenges, then OK with the canonical login or FAIL.
//
// Limits: a line is at most maxLineBytes (Dovecot's 16 KiB; longer is a broken
// client: the connection is closed), at most maxRequests requests at once
// (Postfix has one; a new one past the cap ends the oldest still waiting for a
// CONT, which an SMTP client that gave up with "*" leaves behind), a request
// waits at most contTimeoutMs for its CONT, the handshake must arrive within
// handshakeTimeoutMs, and a connection silent for idleTimeoutMs is closed.
import type net from 'node:net';
import { isIP, type BlockList } from 'node:net';
import type { Logger } from 'pino';
import {
  AUTH_PROTOCOL_MAJOR,
  AuthProtocolError,
  contLine,
  decodeBase64,
  failLine,
  okLine,
  parseAuth,
  parseCont,
  parseVersion,
  serverHandshake,
  splitLine,
  type AuthRequest,
} from '../wire/dovecot-auth.js';
import { MECHANISMS, createMechanism, type Mechanism, type MechStep } from './mechanisms.js';
import { verifyLogin, type VerifyOptions } from './verify.js';
import { inNetworks } from '../imap/capabilities.js';
import { clientIp } from '../auth/penalty.js';

export interface SaslLimits {
  maxLineBytes: number;
  maxRequests: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  contTimeoutMs: number;
  /** From the credentials to OK/FAIL, penalty included (Postfix stops reading after 10 s). */
  replyWithinMs: number;
  /** Connections at once on all SASL listeners (Postfix opens one per smtpd process). */
  maxConnections: number;
}

export const DEFAULT_SASL_LIMITS: SaslLimits = {
  maxLineBytes: 16 * 1024,
  maxRequests: 64,
  handshakeTimeoutMs: 30_000,
  // Postfix keeps its connection for the life of the smtpd process and notices a
  // close only when its next AUTH fails: close only connections idle for long.
  idleTimeoutMs: 60 * 60_000,
  // Postfix waits smtpd_timeout (300 s) for the SMTP client's answer to a 334.
  contTimeoutMs: 330_000,
  replyWithinMs: 5_000,
  maxConnections: 1_000,
};

export interface SaslContext {
  log: Logger;
  limits: SaslLimits;
  verify: VerifyOptions;
  /** Passwords without `secured` (no TLS between the SMTP client and Postfix) from outside plaintextNetworks. */
  allowPlaintext: boolean;
  plaintextNetworks: BlockList;
  /** The server's process id, for SPID. */
  spid: number;
  cookie: string;
}

interface Request {
  id: string;
  mechanism: string;
  mech: Mechanism;
  ip: string;
  service: string;
  state: 'waiting' | 'checking';
  timer: NodeJS.Timeout | null;
  login?: string;
}

/** Replies queue up to this before the connection stops reading (a client that does not read). */
const MAX_OUTPUT_BYTES = 64 * 1024;

export class SaslConnection {
  readonly log: Logger;
  private buf: Buffer = Buffer.alloc(0);
  private state: 'new' | 'versioned' | 'ready' = 'new';
  private readonly requests = new Map<string, Request>();
  private closed = false;

  constructor(
    readonly socket: net.Socket,
    private readonly ctx: SaslContext,
    readonly cuid: number,
    cid: string,
    private readonly onClose: (conn: SaslConnection) => void,
  ) {
    this.log = ctx.log.child({ cid, proto: 'sasl' });
  }

  /** Sends the handshake (the server does not wait for the client's) and starts reading. */
  start(): void {
    const { socket } = this;
    socket.setNoDelay?.(true);
    socket.setTimeout(this.ctx.limits.handshakeTimeoutMs);
    socket.on('timeout', () => {
      this.log.info({ state: this.state }, this.state === 'ready' ? 'sasl client idle too long; closing' : 'sasl client did not finish the handshake in time; closing');
      socket.destroy();
    });
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'sasl socket error'));
    socket.on('close', () => this.cleanup());
    socket.on('drain', () => socket.resume());
    socket.on('data', (chunk: Buffer) => this.input(chunk));
    this.write(serverHandshake({ mechanisms: MECHANISMS, spid: this.ctx.spid, cuid: this.cuid, cookie: this.ctx.cookie }));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Requests in progress (waiting for a CONT or being checked). */
  get pending(): number {
    return this.requests.size;
  }

  close(): void {
    this.socket.destroy();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.requests.values()) if (r.timer) clearTimeout(r.timer);
    this.requests.clear();
    this.onClose(this);
  }

  private write(text: string): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(text);
    if (this.socket.writableLength > MAX_OUTPUT_BYTES) this.socket.pause();
  }

  private input(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let start = 0;
    for (;;) {
      if (this.closed) return;
      const nl = this.buf.indexOf(0x0a, start);
      if (nl < 0) break;
      if (nl - start > this.ctx.limits.maxLineBytes) return this.protocolError(`line longer than ${this.ctx.limits.maxLineBytes} bytes`);
      let end = nl;
      if (end > start && this.buf[end - 1] === 0x0d) end--;
      const line = this.buf.subarray(start, end).toString('utf8');
      start = nl + 1;
      try {
        this.line(line);
      } catch (err) {
        if (err instanceof AuthProtocolError) return this.protocolError(err.message);
        throw err;
      }
    }
    this.buf = start >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(start);
    if (this.buf.length > this.ctx.limits.maxLineBytes) this.protocolError(`line longer than ${this.ctx.limits.maxLineBytes} bytes`);
  }

  /** The client is broken or is not an auth client: say why in the log and hang up (as Dovecot does). */
  private protocolError(why: string): void {
    this.log.warn({ err: why.slice(0, 200) }, 'sasl client protocol error; closing');
    this.socket.destroy();
  }

  private line(line: string): void {
    if (line === '') return;
    const { command, args } = splitLine(line);
    switch (command) {
      case 'VERSION': {
        if (this.state !== 'new') throw new AuthProtocolError('VERSION sent twice');
        const v = parseVersion(args);
        if (v.major !== AUTH_PROTOCOL_MAJOR) throw new AuthProtocolError(`auth protocol version ${v.major}.${v.minor}; this server speaks ${AUTH_PROTOCOL_MAJOR}.x`);
        this.state = 'versioned';
        return;
      }
      case 'CPID': {
        if (this.state !== 'versioned') throw new AuthProtocolError(this.state === 'new' ? 'CPID before VERSION' : 'CPID sent twice');
        if (!/^\d{1,10}$/.test(args[0] ?? '')) throw new AuthProtocolError('CPID needs a process id');
        this.state = 'ready';
        this.socket.setTimeout(this.ctx.limits.idleTimeoutMs);
        this.log.debug({ cpid: Number(args[0]) }, 'sasl client handshake done');
        return;
      }
      case 'AUTH':
        if (this.state !== 'ready') throw new AuthProtocolError('AUTH before the VERSION/CPID handshake');
        return this.auth(parseAuth(args));
      case 'CONT':
        if (this.state !== 'ready') throw new AuthProtocolError('CONT before the VERSION/CPID handshake');
        return this.cont(parseCont(args));
      default:
        throw new AuthProtocolError(`unknown command ${JSON.stringify(command.slice(0, 20))}`);
    }
  }

  private auth(req: AuthRequest): void {
    if (this.requests.has(req.id)) throw new AuthProtocolError(`request id ${req.id} is already in progress`);
    if (this.requests.size >= this.ctx.limits.maxRequests && !this.evictOldestWaiting()) {
      this.log.warn({ id: req.id, max: this.ctx.limits.maxRequests }, 'sasl request refused: too many in progress on this connection');
      this.write(failLine(req.id, { reason: 'Too many authentication requests in progress', temp: true }));
      return;
    }
    const ip = remoteIp(req.params.get('rip'), this.socket.remoteAddress);
    const service = req.params.get('service') ?? '';
    const fail = (reason: string) => {
      this.log.info({ id: req.id, ip, mechanism: req.mechanism.slice(0, 20), reason }, 'sasl request refused');
      this.write(failLine(req.id, { reason }));
    };
    const mech = createMechanism(req.mechanism);
    if (!mech) return fail('Unsupported authentication mechanism');
    if (!service) return fail('The request names no service');
    const secured = req.params.has('secured');
    if (!secured && !this.ctx.allowPlaintext && !inNetworks(ip, this.ctx.plaintextNetworks)) {
      return fail('Plaintext authentication disallowed on non-secure (SSL/TLS) connections');
    }
    let first: Buffer | null = null;
    if (req.initialResponse !== null) {
      first = decodeBase64(req.initialResponse);
      if (!first) return fail('Invalid base64 data in initial response');
    }
    const r: Request = { id: req.id, mechanism: req.mechanism, mech, ip, service, state: 'waiting', timer: null };
    this.requests.set(r.id, r);
    this.advance(r, mech.step(first));
  }

  private cont(c: { id: string; data: string }): void {
    const r = this.requests.get(c.id);
    if (!r) {
      // Finished, timed out or never begun: Postfix ignores a reply to an id it is not waiting for.
      this.write(failLine(c.id, { reason: 'No such authentication request (finished or timed out)' }));
      return;
    }
    if (r.state === 'checking') throw new AuthProtocolError(`CONT for request ${c.id} while its credentials are being checked`);
    if (r.timer) clearTimeout(r.timer);
    r.timer = null;
    const data = decodeBase64(c.data);
    if (!data) return this.finish(r, { reason: 'Invalid base64 data in continued response' });
    this.advance(r, r.mech.step(data));
  }

  private advance(r: Request, step: MechStep): void {
    switch (step.kind) {
      case 'challenge':
        r.state = 'waiting';
        r.timer = setTimeout(() => {
          if (this.requests.get(r.id) !== r) return;
          this.requests.delete(r.id);
          this.log.debug({ id: r.id }, 'sasl request timed out waiting for the client');
          this.write(failLine(r.id, { reason: 'Authentication timed out' }));
        }, this.ctx.limits.contTimeoutMs);
        this.write(contLine(r.id, step.challenge));
        return;
      case 'fail':
        return this.finish(r, step);
      case 'credentials':
        r.state = 'checking';
        r.login = step.login;
        void verifyLogin(this.ctx.verify, this.log, step.login, step.password, r.ip)
          .then((verdict) => {
            if (this.requests.get(r.id) !== r) return;
            this.requests.delete(r.id);
            if (verdict.ok) this.write(okLine(r.id, verdict.user));
            else if (verdict.deferred) this.write(failLine(r.id, { user: step.login, reason: 'Too many failed logins from your address; try again later', temp: true }));
            else this.write(failLine(r.id, { user: step.login }));
          })
          .catch((err: Error) => {
            this.log.error({ err }, 'sasl password check failed');
            if (this.requests.get(r.id) !== r) return;
            this.requests.delete(r.id);
            this.write(failLine(r.id, { reason: 'Internal error', temp: true }));
          });
        return;
    }
  }

  private finish(r: Request, step: { reason: string; login?: string }): void {
    this.requests.delete(r.id);
    if (r.timer) clearTimeout(r.timer);
    this.log.info({ id: r.id, ip: r.ip, reason: step.reason }, 'sasl request refused');
    this.write(failLine(r.id, { user: step.login, reason: step.reason }));
  }

  /** Ends the oldest request still waiting for a CONT to make room; false if every one is being checked. */
  private evictOldestWaiting(): boolean {
    for (const r of this.requests.values()) {
      if (r.state !== 'waiting') continue;
      if (r.timer) clearTimeout(r.timer);
      this.requests.delete(r.id);
      this.write(failLine(r.id, { reason: 'Authentication abandoned' }));
      return true;
    }
    return false;
  }
}

/** The SMTP client's address: Postfix's rip= when it is an address, else the auth client's own. */
function remoteIp(rip: string | undefined, peer: string | undefined): string {
  if (rip && isIP(rip)) return clientIp(rip);
  return clientIp(peer);
}
