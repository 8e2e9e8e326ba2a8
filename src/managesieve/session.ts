// One ManageSieve connection (RFC 5804): the greeting with capabilities,
// STARTTLS, AUTHENTICATE (PLAIN, LOGIN) with the IMAP side's users,
// plaintext policy and failure penalty, then the script commands against
// the user's ScriptStore. Commands run one at a time, in order; while one
// runs, reading pauses (AUTHENTICATE's continuation excepted), so what a
// client can make us hold is one command's worth of input.
import { TLSSocket, type SecureContext } from 'node:tls';
import type net from 'node:net';
import type { Logger } from 'pino';
import { addressGroup, clientIp, type FailurePenalty } from '../auth/penalty.js';
import type { UserIpLimit } from '../auth/limits.js';
import type { AuthResult } from '../auth/users.js';
import type { UserEntry } from '../auth/passwd-file.js';
import { compileSieve, type CompiledScript } from '../sieve/index.js';
import { resolveIncludes } from '../sieve/include.js';
import { CommandReader, encodeString, reply, type ReadResult, type Token } from './wire.js';
import { ScriptError, scriptNameProblem, type ScriptStore } from './scripts.js';

export interface ManageSieveLimits {
  /** One command line, not counting literals. */
  maxLineBytes: number;
  /** Literal bytes in one command before login (SASL responses). */
  preauthLiteralBytes: number;
  /** Literal bytes in one command after login: a script and its name. */
  maxCommandBytes: number;
  /** From connect to a completed login. */
  loginTimeoutMs: number;
  /** Silence after login. */
  idleTimeoutMs: number;
  /** Invalid or failed commands before the connection is closed. */
  maxBadCommands: number;
  /** Failed logins before the connection is closed. */
  maxFailedLogins: number;
  tlsHandshakeTimeoutMs: number;
}

export const DEFAULT_MANAGESIEVE_LIMITS: ManageSieveLimits = {
  maxLineBytes: 8192,
  preauthLiteralBytes: 8192,
  maxCommandBytes: 1024 * 1024 + 8192,
  loginTimeoutMs: 60_000,
  idleTimeoutMs: 30 * 60_000,
  maxBadCommands: 20,
  maxFailedLogins: 3,
  tlsHandshakeTimeoutMs: 10_000,
};

export interface ManageSieveContext {
  log: Logger;
  limits: ManageSieveLimits;
  /** "IMPLEMENTATION". */
  implementation: string;
  /** "SIEVE": the extensions a script may require. */
  extensions: readonly string[];
  /** "MAXREDIRECTS". */
  maxRedirects: number;
  authenticate(login: string, password: string): Promise<AuthResult>;
  /** The IMAP side's penalty: one budget of guesses per address whichever protocol it uses. */
  penalty: FailurePenalty | null;
  userIp: UserIpLimit | null;
  /** The user's scripts; a throw (a template without the user's home) is a server fault. */
  storeFor(user: UserEntry): ScriptStore;
  /** For STARTTLS; null when no certificate is configured. */
  tls(): SecureContext | null;
  /** Whether a password may be sent here (auth.allow_plaintext, auth.plaintext_networks, or TLS). */
  plaintextAllowed(address: string | undefined, secure: boolean): boolean;
  /** Failed logins wait this long when there is no shared penalty (tests). */
  authFailDelayMs: number;
  /** After SETACTIVE made a script active: delivery applies it from the next message on (the server watches the INBOX). */
  activated?(user: UserEntry): Promise<void> | void;
  /** `include :global` scripts' directory (sieve.global_dir), for SETACTIVE's check of a script's includes. */
  globalDir?: string | null;
}

/** SASL mechanisms, in Dovecot's order. */
export const SASL_MECHANISMS = ['PLAIN', 'LOGIN'];

const OUTPUT_HIGH_WATER = 256 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The reply a command gets instead of OK. */
class No extends Error {
  constructor(
    readonly code: string | null,
    text: string,
    /** Counts toward maxBadCommands (a protocol mistake, not a script with errors or a wrong password). */
    readonly bad = true,
  ) {
    super(text);
  }
}

export class ManageSieveSession {
  readonly log: Logger;
  private socket: net.Socket;
  private secure = false;
  private reader: CommandReader;
  private state: 'notauth' | 'auth' = 'notauth';
  private user: UserEntry | null = null;
  private store: ScriptStore | null = null;
  private busy = false;
  private closed = false;
  private bad = 0;
  private failedLogins = 0;
  /** A command (AUTHENTICATE) waiting for the client's next string. */
  private waiter: ((r: ReadResult | null) => void) | null = null;
  private loginTimer: NodeJS.Timeout | null = null;

  constructor(
    socket: net.Socket,
    private readonly ctx: ManageSieveContext,
    readonly id: string,
    private readonly onClose: (s: ManageSieveSession) => void,
  ) {
    this.socket = socket;
    this.log = ctx.log.child({ cid: id, proto: 'managesieve' });
    this.reader = new CommandReader({ maxLineBytes: ctx.limits.maxLineBytes, maxLiteralBytes: ctx.limits.preauthLiteralBytes, maxTokens: 8 });
    this.attach(socket);
    this.loginTimer = setTimeout(() => this.timeout(), ctx.limits.loginTimeoutMs);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get isAuthenticated(): boolean {
    return this.state === 'auth';
  }

  get isClosed(): boolean {
    return this.closed;
  }

  greet(): void {
    this.write(this.capabilityLines());
    this.write(reply('OK', null, 'maildir-imapd ManageSieve ready.'));
  }

  /** Server shutdown. */
  bye(text: string): void {
    if (this.closed) return;
    this.write(reply('BYE', null, text));
    this.end();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => this.cleanup());
    socket.on('timeout', () => this.timeout());
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closed) return;
    this.reader.push(chunk);
    this.pump();
  };

  /** Runs the commands that are complete, one at a time. */
  private pump(): void {
    while (!this.closed && (!this.busy || this.waiter)) {
      const r = this.reader.next();
      if (!r) break;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(r);
        continue;
      }
      this.busy = true;
      this.run(r)
        .catch((err: unknown) => {
          this.log.error({ err }, 'managesieve command failed');
          this.write(reply('NO', 'TRYLATER', 'Internal error; try again later.'));
        })
        .finally(() => {
          this.busy = false;
          if (this.socket.writableLength > OUTPUT_HIGH_WATER) {
            this.socket.pause();
            this.socket.once('drain', () => this.resume());
          } else this.resume();
        });
    }
    if (this.busy && !this.waiter && !this.closed) this.socket.pause();
  }

  private resume(): void {
    if (this.closed) return;
    this.socket.resume();
    this.pump();
  }

  private write(data: string | Buffer): void {
    if (!this.closed) this.socket.write(data);
  }

  private end(): void {
    if (this.closed) return;
    this.socket.end();
    // A client that never reads what we wrote must not keep the socket.
    setTimeout(() => this.socket.destroy(), 2000).unref();
    this.cleanup();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.waiter?.(null);
    this.waiter = null;
    this.ctx.userIp?.release(this);
    this.onClose(this);
  }

  private timeout(): void {
    if (this.closed) return;
    this.log.info({ ip: this.remoteAddress, user: this.user?.name }, 'managesieve idle timeout');
    this.bye('Disconnected for inactivity.');
  }

  // --- commands ---

  private async run(r: ReadResult): Promise<void> {
    const name = r.tokens[0]?.kind === 'atom' ? r.tokens[0].value.toUpperCase() : '';
    try {
      if (!r.ok) {
        if (r.error.kind === 'too-big') {
          if (name === 'PUTSCRIPT' || name === 'CHECKSCRIPT' || name === 'HAVESPACE')
            throw new No('QUOTA/MAXSIZE', `Script is too large (max ${this.store?.limits.maxScriptBytes ?? r.error.max} bytes).`);
          throw new No(null, `Command too long (max ${r.error.max} bytes of literals${this.state === 'notauth' ? ' before login' : ''}).`);
        }
        throw new No(null, `Error in MANAGESIEVE command${name ? ` ${name.slice(0, 20)}` : ''}: ${r.error.message}.`);
      }
      if (!r.tokens.length) throw new No(null, 'Empty command.');
      if (r.tokens[0].kind !== 'atom') throw new No(null, 'Error in MANAGESIEVE command: expected a command name.');
      await this.command(name, r.tokens.slice(1));
    } catch (err) {
      if (!(err instanceof No) && !(err instanceof ScriptError)) throw err;
      const no = err instanceof ScriptError ? this.scriptNo(err) : err;
      this.write(reply('NO', no.code, no.message));
      if (err instanceof No && err.bad && ++this.bad >= this.ctx.limits.maxBadCommands) {
        this.log.info({ ip: this.remoteAddress, bad: this.bad }, 'managesieve: too many bad commands');
        this.bye('Too many invalid commands.');
      }
    }
  }

  private scriptNo(err: ScriptError): No {
    switch (err.kind) {
      case 'nonexistent':
        return new No('NONEXISTENT', err.message);
      case 'exists':
        return new No('ALREADYEXISTS', err.message);
      case 'active':
        return new No('ACTIVE', err.message);
      case 'maxsize':
        return new No('QUOTA/MAXSIZE', err.message);
      case 'maxscripts':
        return new No('QUOTA/MAXSCRIPTS', err.message);
      case 'name':
        return new No(null, err.message);
      case 'unsafe':
        this.log.warn({ user: this.user?.name, err: err.message }, 'managesieve: refused an unsafe path');
        return new No(null, 'Script storage is not usable; ask the administrator.');
      case 'temporary':
        return new No('TRYLATER', err.message);
    }
  }

  private async command(name: string, args: Token[]): Promise<void> {
    const a = new Args(name, args);
    const authOnly = () => {
      if (this.state !== 'auth') throw new No(null, `${name} needs a login first (AUTHENTICATE).`);
      return this.store!;
    };
    switch (name) {
      case 'CAPABILITY':
        a.end();
        this.write(this.capabilityLines());
        this.write(reply('OK', null, 'Capability completed.'));
        return;
      case 'LOGOUT':
        a.end();
        this.write(reply('OK', null, 'Logout completed.'));
        this.log.debug('logout');
        this.end();
        return;
      case 'NOOP': {
        const tag = a.done ? null : a.string('tag');
        a.end();
        if (tag === null) this.write(reply('OK', null, 'NOOP completed.'));
        else this.write(Buffer.concat([Buffer.from('OK (TAG '), asBuffer(encodeString(tag)), Buffer.from(') "Done"\r\n')]));
        return;
      }
      case 'STARTTLS':
        a.end();
        return this.startTls();
      case 'AUTHENTICATE': {
        const mech = a.string('mechanism').toUpperCase();
        const initial = a.done ? null : a.string('initial response');
        a.end();
        return this.authenticate(mech, initial);
      }
      case 'UNAUTHENTICATE':
        a.end();
        authOnly();
        this.ctx.userIp?.release(this);
        this.log.info({ user: this.user?.name }, 'unauthenticate');
        this.state = 'notauth';
        this.user = null;
        this.store = null;
        this.reader.limits = { ...this.reader.limits, maxLiteralBytes: this.ctx.limits.preauthLiteralBytes };
        this.socket.setTimeout(0);
        this.loginTimer = setTimeout(() => this.timeout(), this.ctx.limits.loginTimeoutMs);
        this.write(reply('OK', null, 'Unauthenticate completed.'));
        return;
      case 'HAVESPACE': {
        const script = a.name();
        const size = a.number('size');
        a.end();
        await authOnly().haveSpace(script, size);
        this.write(reply('OK', null, 'Putscript would succeed.'));
        return;
      }
      case 'PUTSCRIPT': {
        const script = a.name();
        const content = a.bytes('script');
        a.end();
        const store = authOnly();
        await store.haveSpace(script, content.length);
        const warnings = await this.includeWarnings(this.compile(content, script), store, script);
        await store.put(script, content);
        this.log.info({ user: this.user!.name, script, bytes: content.length }, 'putscript');
        this.write(warnings ? reply('OK', 'WARNINGS', warnings) : reply('OK', null, 'PUTSCRIPT completed.'));
        return;
      }
      case 'CHECKSCRIPT': {
        const content = a.bytes('script');
        a.end();
        const store = authOnly();
        if (content.length > store.limits.maxScriptBytes) throw new No('QUOTA/MAXSIZE', `Script is too large (max ${store.limits.maxScriptBytes} bytes).`);
        const warnings = await this.includeWarnings(this.compile(content, null), store, null);
        this.write(warnings ? reply('OK', 'WARNINGS', warnings) : reply('OK', null, 'Script checked successfully.'));
        return;
      }
      case 'LISTSCRIPTS': {
        a.end();
        const list = await authOnly().list();
        const lines = list.map((s) => Buffer.concat([asBuffer(encodeString(s.name)), Buffer.from(s.active ? ' ACTIVE\r\n' : '\r\n')]));
        this.write(Buffer.concat([...lines, reply('OK', null, 'Listscripts completed.')]));
        return;
      }
      case 'SETACTIVE': {
        const script = a.string('script name');
        a.end();
        const store = authOnly();
        if (script === '') {
          await store.setActive(null);
          this.log.info({ user: this.user!.name }, 'setactive none');
          this.write(reply('OK', null, 'Active script is now deactivated.'));
          return;
        }
        // A script put there by other means must compile before deliveries run it.
        const compiled = this.compile(await store.get(script), script);
        // As Pigeonhole: the included scripts must be there now (at upload a missing one was only a warning).
        const included = await resolveIncludes(compiled, store.fileOf(script), { personal: store.loc.dir, global: this.ctx.globalDir ?? null }, { extensions: this.ctx.extensions });
        if (!included.ok) this.compileErrors(included.errors, script);
        await store.setActive(script);
        this.log.info({ user: this.user!.name, script }, 'setactive');
        // before OK: the next delivery after the reply is filtered
        await this.ctx.activated?.(this.user!);
        this.write(reply('OK', null, 'Setactive completed.'));
        return;
      }
      case 'GETSCRIPT': {
        const script = a.name();
        a.end();
        const content = await authOnly().get(script);
        this.write(Buffer.concat([Buffer.from(`{${content.length}}\r\n`), content, Buffer.from('\r\n'), reply('OK', null, 'Getscript completed.')]));
        return;
      }
      case 'DELETESCRIPT': {
        const script = a.name();
        a.end();
        await authOnly().delete(script);
        this.log.info({ user: this.user!.name, script }, 'deletescript');
        this.write(reply('OK', null, 'Deletescript completed.'));
        return;
      }
      case 'RENAMESCRIPT': {
        const from = a.name();
        const to = a.name();
        a.end();
        await authOnly().rename(from, to);
        this.log.info({ user: this.user!.name, from, to }, 'renamescript');
        this.write(reply('OK', null, 'Renamescript completed.'));
        return;
      }
      default:
        throw new No(null, `Unknown command ${JSON.stringify(name.slice(0, 20))}.`);
    }
  }

  /** Compiles a script; its errors, one per line with its line number, are the NO text (as Pigeonhole words them). */
  private compile(content: Buffer, script: string | null): CompiledScript {
    const r = compileSieve(content, { extensions: this.ctx.extensions, limits: { maxScriptSize: this.store?.limits.maxScriptBytes } });
    if (r.ok) return r.script;
    return this.compileErrors(r.errors, script);
  }

  private compileErrors(errors: Array<{ line: number; message: string }>, script: string | null): never {
    const prefix = script === null ? '' : `${script}: `;
    const text = errors.map((e) => `${prefix}line ${e.line}: error: ${e.message}${/[.!?]$/.test(e.message) ? '' : '.'}`).join('\r\n');
    throw new No(null, errors.length > 1 ? text + '\r\n' : text, false);
  }

  /**
   * As Pigeonhole at upload: an included personal script that is not stored
   * (yet) is a warning, not an error — scripts can be uploaded in any order.
   * SETACTIVE then insists. Null when there is nothing to warn about.
   */
  private async includeWarnings(script: CompiledScript, store: ScriptStore, name: string | null): Promise<string | null> {
    const lines: string[] = [];
    for (const ref of script.includes) {
      if (ref.optional || ref.location !== 'personal' || (await store.has(ref.name))) continue;
      lines.push(`${name === null ? '' : `${name}: `}line ${ref.line}: warning: included personal script '${ref.name}' does not exist (ignored during upload).`);
      if (lines.length >= 10) break;
    }
    return lines.length ? lines.join('\r\n') : null;
  }

  private capabilityLines(): Buffer {
    const lines: Array<[string, string | null]> = [['IMPLEMENTATION', this.ctx.implementation]];
    if (this.state === 'notauth') {
      // No mechanism is offered where a password must not be sent (as IMAP's LOGINDISABLED): STARTTLS first.
      lines.push(['SASL', this.ctx.plaintextAllowed(this.remoteAddress, this.secure) ? SASL_MECHANISMS.join(' ') : '']);
      if (this.ctx.tls() && !this.secure) lines.push(['STARTTLS', null]);
    } else lines.push(['OWNER', this.user!.name], ['MAXREDIRECTS', String(this.ctx.maxRedirects)]);
    lines.push(['SIEVE', this.ctx.extensions.join(' ')], ['VERSION', '1.0'], ['UNAUTHENTICATE', null]);
    return Buffer.concat(lines.map(([k, v]) => Buffer.concat([asBuffer(encodeString(k)), v === null ? Buffer.alloc(0) : Buffer.concat([Buffer.from(' '), asBuffer(encodeString(v))]), Buffer.from('\r\n')])));
  }

  /**
   * RFC 5804 §2.2: OK, then the handshake on the same socket; input that
   * came in the clear after STARTTLS is dropped, never run under TLS. Once
   * secure, the capabilities again (now with the SASL mechanisms) and OK.
   */
  private startTls(): void {
    if (this.state !== 'notauth') throw new No(null, 'STARTTLS is only allowed before login.');
    if (this.secure) throw new No(null, 'TLS is already active.');
    const context = this.ctx.tls();
    if (!context) {
      this.log.info({ ip: this.remoteAddress }, 'starttls refused: no certificate configured (tls.cert, tls.key)');
      throw new No(null, 'TLS is not available: this server has no certificate (tls.cert, tls.key).');
    }
    this.write(reply('OK', null, 'Begin TLS negotiation now.'));
    const plain = this.socket;
    plain.off('data', this.onData);
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    plain.removeAllListeners('timeout');
    this.reader.reset();
    const socket = new TLSSocket(plain, { isServer: true, secureContext: context });
    this.socket = socket;
    this.secure = true;
    this.attach(socket);
    const timer = setTimeout(() => {
      this.log.info({ ip: this.remoteAddress }, 'tls handshake timed out');
      socket.destroy();
    }, this.ctx.limits.tlsHandshakeTimeoutMs);
    timer.unref();
    const failed = (err: Error) => this.log.info({ ip: this.remoteAddress, err: err.message }, 'tls handshake failed');
    socket.once('error', failed);
    socket.once('secure', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      this.log.debug({ protocol: socket.getProtocol() }, 'tls started');
      this.write(this.capabilityLines());
      this.write(reply('OK', null, 'TLS negotiation successful.'));
    });
    socket.once('close', () => clearTimeout(timer));
  }

  // --- login ---

  private async authenticate(mech: string, initial: string | null): Promise<void> {
    if (this.state !== 'notauth') throw new No(null, 'Already logged in.');
    if (!this.ctx.plaintextAllowed(this.remoteAddress, this.secure)) {
      this.log.info({ ip: this.remoteAddress }, 'managesieve login refused without TLS');
      throw new No('ENCRYPT-NEEDED', 'Plaintext authentication disallowed on non-secure connections: use STARTTLS.');
    }
    let login: string;
    let password: string;
    switch (mech) {
      case 'PLAIN': {
        const fields = decodeSasl(initial ?? (await this.exchange(''))).split('\0');
        if (fields.length !== 3) throw new No(null, 'Malformed PLAIN response.');
        const [authzid, authcid, pw] = fields;
        if (authzid && authzid !== authcid) throw new No(null, 'Proxy authorization is not supported.');
        login = authcid;
        password = pw;
        break;
      }
      case 'LOGIN': {
        login = initial === null || initial === '' ? '' : decodeSasl(initial);
        if (login === '') login = decodeSasl(await this.exchange('Username:'));
        password = decodeSasl(await this.exchange('Password:'));
        break;
      }
      default:
        throw new No(null, `Unsupported authentication mechanism ${JSON.stringify(mech.slice(0, 20))}.`);
    }
    await this.login(login, password);
  }

  /** A SASL challenge (base64 as a string), then the client's string; "*" aborts (RFC 5804 §2.1). */
  private async exchange(challenge: string): Promise<string> {
    this.write(Buffer.concat([asBuffer(encodeString(Buffer.from(challenge).toString('base64'))), Buffer.from('\r\n')]));
    const r = await new Promise<ReadResult | null>((resolve) => {
      this.waiter = resolve;
      this.socket.resume();
      this.pump();
    });
    if (!r) throw new No(null, 'Connection closed.');
    if (!r.ok || r.tokens.length !== 1 || r.tokens[0].kind !== 'string') throw new No(null, 'Invalid SASL response: expected one string.');
    const s = r.tokens[0].value.toString('latin1');
    if (s === '*') throw new No(null, 'Authentication aborted by client.');
    return s;
  }

  /**
   * The IMAP LOGIN's rules: one password check at a time per address after
   * its penalty, the same fail2ban line on failure, at most
   * maxFailedLogins per connection, the per-user-and-IP connection cap.
   */
  private async login(login: string, password: string): Promise<void> {
    if (login.length > 256 || password.length > 1024) throw new No(null, 'Credentials too long.');
    const ip = clientIp(this.remoteAddress);
    const group = addressGroup(ip);
    const penalty = this.ctx.penalty;
    const check = async () => {
      const result = await this.ctx.authenticate(login, password);
      return { result, delay: result.ok ? 0 : penalty ? penalty.fail(group, login) : this.ctx.authFailDelayMs };
    };
    const { result, delay } = penalty ? await penalty.serialize(group, login, check) : await check();
    if (!result.ok) {
      this.failedLogins++;
      if (result.unsupported) this.log.error({ user: login.slice(0, 64), scheme: result.unsupported }, 'unsupported password scheme; this user cannot log in');
      // The fail2ban line (deploy/fail2ban/filter.d/maildir-imapd.conf), exactly as IMAP writes it.
      this.log.warn({ ip, user: login.slice(0, 64) }, 'login failed');
      await new Promise((r) => setTimeout(r, delay));
      if (this.failedLogins >= this.ctx.limits.maxFailedLogins) {
        this.bye('Too many failed logins.');
        return;
      }
      throw new No(null, 'Authentication failed.', false);
    }
    const entry = result.entry;
    // Forgives only the failures made for this name (its owner's typos), never other names' guesses from this IP.
    penalty?.succeed(group, login);
    const userIp = this.ctx.userIp;
    if (userIp && !userIp.acquire(this, entry.name, ip)) {
      this.log.warn({ ip, user: entry.name, max: userIp.max }, 'login refused: too many connections for this user from this IP');
      throw new No('TRYLATER', `Too many connections for this user from your IP (at most ${userIp.max}).`);
    }
    if (this.closed) {
      userIp?.release(this);
      return;
    }
    let store: ScriptStore;
    try {
      store = this.ctx.storeFor(entry);
      const adopted = await store.adoptPlainActive();
      if (adopted) this.log.info({ user: entry.name, script: adopted }, 'moved the plain active script into the script directory');
    } catch (err) {
      userIp?.release(this);
      this.log.error({ user: entry.name, err: (err as Error).message }, 'managesieve: cannot open the script storage');
      throw new No('TRYLATER', 'Script storage is not available; ask the administrator.');
    }
    this.state = 'auth';
    this.user = entry;
    this.store = store;
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
    this.reader.limits = { ...this.reader.limits, maxLiteralBytes: this.ctx.limits.maxCommandBytes };
    this.socket.setTimeout(this.ctx.limits.idleTimeoutMs);
    this.log.info({ ip, user: entry.name }, 'login');
    this.write(reply('OK', null, 'Logged in.'));
  }
}

/** Arguments of one command, taken in order; each mistake is a NO naming the command. */
class Args {
  private i = 0;
  constructor(
    private readonly cmd: string,
    private readonly tokens: Token[],
  ) {}

  get done(): boolean {
    return this.i >= this.tokens.length;
  }

  private take(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new No(null, `Error in MANAGESIEVE command ${this.cmd}: Missing argument (${what}).`);
    return t;
  }

  bytes(what: string): Buffer {
    const t = this.take(what);
    if (t.kind !== 'string') throw new No(null, `Error in MANAGESIEVE command ${this.cmd}: ${what} must be a string.`);
    return t.value;
  }

  string(what: string): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(what));
    } catch (err) {
      if (err instanceof No) throw err;
      throw new No(null, `Error in MANAGESIEVE command ${this.cmd}: ${what} is not UTF-8.`);
    }
  }

  /** A script name, checked. */
  name(): string {
    const s = this.string('script name');
    const why = scriptNameProblem(s);
    if (why) throw new No(null, `Invalid script name: ${why}.`);
    return s;
  }

  number(what: string): number {
    const t = this.take(what);
    if (t.kind !== 'number') throw new No(null, `Error in MANAGESIEVE command ${this.cmd}: ${what} must be a number.`);
    return t.value;
  }

  end(): void {
    if (!this.done) throw new No(null, `Error in MANAGESIEVE command ${this.cmd}: Too many arguments.`);
  }
}

function decodeSasl(s: string): string {
  if (!BASE64.test(s)) throw new No(null, 'Invalid base64 in the SASL response.');
  const out = Buffer.from(s, 'base64').toString('utf8');
  return out;
}

function asBuffer(x: string | Buffer): Buffer {
  return typeof x === 'string' ? Buffer.from(x) : x;
}
