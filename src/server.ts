// Listeners, accepting connections, and graceful shutdown.
import net from 'node:net';
import { promises as fs } from 'node:fs';
import tls from 'node:tls';
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import chokidar, { type FSWatcher } from 'chokidar';
import { Connection } from './imap/connection.js';
import { threadFactUse } from './imap/search/thread-facts.js';
import type { ImapConfig, ServerContext } from './imap/server-context.js';
import { UserDb, expandMaildir, sharedMaildirs } from './auth/users.js';
import { LoginLimits } from './auth/limits.js';
import type { UserEntry } from './auth/passwd-file.js';
import { MailService, DEFAULT_SPECIAL_USE, type MailProvider, type MailUser, type QuotaLimits, type SpecialUseMap } from './mail/api.js';
import { DEFAULT_LIMITS, PREAUTH_LIMITS } from './wire/parser.js';
import { DEFAULT_PREAUTH_LIMITS, PreauthGuard } from './imap/preauth-guard.js';
import { capabilities, inNetworks, networkList } from './imap/capabilities.js';
import { Certificates } from './tls.js';
import { ConfigError, parseHostPort, type Config } from './config.js';
import { closeWorkerPools } from './runtime/worker-pool.js';
import { LmtpService } from './lmtp/server.js';
import { ListenSpecError } from './lmtp/listen-spec.js';
import { ManageSieveService } from './managesieve/server.js';
import { ScriptStore, sieveLocation } from './managesieve/scripts.js';
import { SUPPORTED_EXTENSIONS, DEFAULT_LIMITS as SIEVE_LIMITS } from './sieve/index.js';
import { UserIpLimit } from './auth/limits.js';
import { plaintextAuthAllowed } from './imap/capabilities.js';
import { VERSION } from './version.js';
import { SieveFilter, envelopeFromHeader, type FilterOutcome } from './sieve/filter.js';
import { userSievePaths } from './sieve/user-scripts.js';
import type { ArrivalFilter, FilterDecision } from './mail/api.js';
import { QuotaStatusService } from './lmtp/quota-status.js';
import { SaslServer } from './sasl/server.js';
import { Autoexpunger, autoexpungeRules } from './housekeeping/autoexpunge.js';
import { AdminService } from './admin/server.js';
import { runAdmin, type AdminDeps } from './admin/actions.js';
import { AdminError } from './admin/protocol.js';
import { DEFAULT_ADMIN_SOCKET } from './config.js';
import path from 'node:path';
import { lookupUser } from './privileges.js';


export const DEFAULT_IMAP_CONFIG: ImapConfig = {
  limits: { ...DEFAULT_LIMITS, maxDepth: 16 },
  preauthLimits: PREAUTH_LIMITS,
  loginTimeoutMs: 60_000,
  idleTimeoutMs: 30 * 60_000, // RFC 3501 §5.4: at least 30 minutes
  idleKeepaliveMs: 2 * 60_000,
  authFailDelayMs: 2_000,
  // Internal knob for tests that must see the timeout quickly.
  tlsHandshakeTimeoutMs: Number(process.env.MAILDIR_IMAPD_TLS_HANDSHAKE_MS) || 10_000,
};


export class ImapServer {
  readonly users: UserDb;
  private readonly mail: MailProvider;
  private readonly connections = new Set<Connection>();
  /** Open connections right now (for the SIGUSR2 health line). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** The mail store's memory figures (open folders, caches), and THREAD's tables of folders, for the SIGUSR2 report. */
  mailMemory(): Record<string, number> {
    return { ...this.mail.memoryReport?.(), threadFactBytes: threadFactUse().bytes };
  }
  private readonly servers: net.Server[] = [];
  /** The configured special-use folder names over Dovecot's stock ones. */
  private get specialUse(): SpecialUseMap {
    const c = this.config;
    return {
      '\\Drafts': c.draftsFolder ?? DEFAULT_SPECIAL_USE['\\Drafts'],
      '\\Sent': c.sentFolder ?? DEFAULT_SPECIAL_USE['\\Sent'],
      '\\Trash': c.trashFolder ?? DEFAULT_SPECIAL_USE['\\Trash'],
      '\\Junk': c.junkFolder ?? DEFAULT_SPECIAL_USE['\\Junk'],
      '\\Archive': c.archiveFolder ?? DEFAULT_SPECIAL_USE['\\Archive'],
    };
  }
  private readonly tlsServers: tls.Server[] = [];
  private certs: Certificates | null = null;
  private usersWatcher: FSWatcher | null = null;
  /** LMTP delivery (lmtp.listen), when configured. */
  private lmtp: LmtpService<UserEntry> | null = null;
  /** Where LMTP listens (`unix:/path` or `host:port`), for the ready line. */
  readonly lmtpListeners: string[] = [];
  /** ManageSieve (managesieve.listen), when configured. */
  private managesieve: ManageSieveService | null = null;
  /** Where ManageSieve listens, for the ready line. */
  readonly managesieveListeners: string[] = [];
  /** Failed-login penalty and per-user-IP cap: one penalty for IMAP and ManageSieve, so a guesser gains nothing by switching. */
  private readonly logins: LoginLimits;
  /** Expunges old mail from \Trash, \Junk and named folders for every user (autoexpunge.*). */
  private readonly autoexpunger: Autoexpunger;
  /** The admin command's socket (admin.socket), once listening. */
  private admin: AdminService | null = null;
  adminListener: string | null = null;
  /** The quota policy service for Postfix (quota_status.listen), when configured. */
  private quotaStatus: QuotaStatusService<UserEntry> | null = null;
  readonly quotaStatusListeners: string[] = [];
  private nextId = 1;
  private readonly idPrefix = crypto.randomBytes(3).toString('hex');
  /** Postfix SMTP AUTH (sasl.listen), and where it listens once listen() has run. */
  private sasl: SaslServer | null = null;
  saslListeners: string[] = [];

  constructor(
    readonly config: Config,
    private readonly log: Logger,
    readonly imap: ImapConfig = DEFAULT_IMAP_CONFIG,
    /** The mail store; the Maildir one unless a test brings its own (mail/api.ts MailProvider). */
    mail?: (opts: { specialUse: SpecialUseMap; createSpecialFolders: boolean }) => MailProvider,
  ) {
    this.users = new UserDb(config.users);
    const opts = { specialUse: this.specialUse, createSpecialFolders: config.createSpecialFolders };
    this.sieve = config.sieveEnabled
      ? new SieveFilter({
          log: log.child({ component: 'sieve' }),
          locations: { dir: config.sieveDir, active: config.sieveActive },
          before: config.sieveBefore,
          after: config.sieveAfter,
          globalDir: config.sieveGlobalDir || null,
          sendmail: config.sieveSendmail,
          separator: config.lmtpRecipientDelimiter,
        })
      : null;
    const arrivalFilter: ArrivalFilter | undefined = this.sieve
      ? Object.assign((root: string, read: () => Promise<Buffer>) => this.filterArrival(root, read), { wanted: (root: string) => this.filterWanted(root) })
      : undefined;
    this.mail = mail ? mail(opts) : new MailService({ log, rescanMs: config.rescanSeconds * 1000, ...opts, arrivalFilter });
    this.autoexpunger = new Autoexpunger({
      rules: autoexpungeRules(config),
      intervalMs: config.autoexpungeInterval,
      batch: config.autoexpungeBatch,
      log: log.child({ component: 'autoexpunge' }),
      users: () => this.housekeepingUsers(),
    });
    this.logins = new LoginLimits({ maxConnectionsPerUserIp: config.maxConnectionsPerUserIp, penalty: LoginLimits.penaltyFrom(imap.authFailDelayMs) });
  }

  /** Sieve at delivery (sieve.enabled), for LMTP and for mail Postfix writes into INBOX. */
  private readonly sieve: SieveFilter | null;
  private maildirUsers: { at: number; map: Map<string, UserEntry> } | null = null;

  /** The user whose Maildir is `root` (the users file through the template; cached a few seconds). */
  private userByMaildir(root: string): UserEntry | undefined {
    if (!this.maildirUsers || Date.now() - this.maildirUsers.at > 5000) {
      const map = new Map<string, UserEntry>();
      for (const u of this.users.all) {
        try {
          map.set(expandMaildir(this.config.maildir, u), u);
        } catch {
          // no home for a ~ template: that user has no Maildir
        }
      }
      this.maildirUsers = { at: Date.now(), map };
    }
    return this.maildirUsers.map.get(root);
  }

  /** Whether mail into the INBOX of the Maildir at `root` has any script to go through (from the filter's cache). */
  private filterWanted(root: string): boolean | Promise<boolean> {
    const user = this.userByMaildir(root);
    if (!user || !this.sieve) return false;
    return this.sieve.hasScripts({ name: user.name, home: user.home, maildir: root });
  }

  /** The watcher path: mail Postfix's virtual(8) wrote into INBOX's new/, through the user's scripts. */
  private async filterArrival(root: string, read: () => Promise<Buffer>): Promise<FilterDecision | null> {
    const user = this.userByMaildir(root);
    if (!user || !this.sieve) return null;
    if (!(await this.sieve.hasScripts({ name: user.name, home: user.home, maildir: root }))) return null;
    const bytes = await read();
    const env = envelopeFromHeader(bytes, user.name);
    const outcome = await this.sieve.run({ name: user.name, home: user.home, maildir: root, store: this.mail.userStore(root) }, bytes, env, 'watcher');
    if (!outcome.filtered) return null;
    return { targets: outcome.targets, after: () => outcome.sideEffects(), summary: outcome.summary };
  }

  /** The LMTP path: the recipient's scripts on the message before it is written. */
  private lmtpFilter(user: UserEntry, store: MailUser) {
    const sieve = this.sieve;
    if (!sieve) return undefined;
    const maildir = expandMaildir(this.config.maildir, user);
    return (bytes: Buffer, env: { from: string; to: string; originalTo: string | null }): Promise<FilterOutcome> =>
      sieve.run({ name: user.name, home: user.home, maildir, store }, bytes, env, 'lmtp');
  }

  /**
   * Users whose new mail is filtered get their INBOX watched from now on,
   * logged in or not (a vacation reply must not wait for a login): every
   * user when global scripts are set, else those with an active script.
   * ManageSieve calls this after SETACTIVE.
   */
  async watchFilteredInbox(user: UserEntry): Promise<void> {
    if (!this.sieve || !this.mail.watchInbox) return;
    let root: string;
    try {
      root = expandMaildir(this.config.maildir, user);
    } catch {
      return;
    }
    const global = this.config.sieveBefore.length > 0 || this.config.sieveAfter.length > 0;
    if (!global) {
      const active = userSievePaths({ dir: this.config.sieveDir, active: this.config.sieveActive }, { name: user.name, home: user.home, maildir: root }).active;
      if (!(await fs.stat(active).then(() => true, () => false))) return;
    }
    try {
      await this.mail.watchInbox(root);
    } catch (err) {
      this.log.warn({ user: user.name, err: (err as Error).message }, 'cannot watch the INBOX of a user with sieve scripts');
    }
  }

  private async watchFilteredInboxes(): Promise<void> {
    for (const u of [...this.users.all]) await this.watchFilteredInbox(u);
  }

  /** A user's quota limits: the users file's rules, else the configured default, limit by limit. */
  quotaOf(user: UserEntry): QuotaLimits {
    return {
      storage: user.quota.storage !== undefined ? user.quota.storage : this.config.quotaDefaultStorage,
      messages: user.quota.messages !== undefined ? user.quota.messages : this.config.quotaDefaultMessages,
    };
  }

  /** Every user with a Maildir, with a store for the server's own work (it creates no folder). */
  *housekeepingUsers(): Iterable<{ name: string; store: () => MailUser }> {
    for (const u of [...this.users.all]) {
      let root: string;
      try {
        root = expandMaildir(this.config.maildir, u);
      } catch {
        continue; // no home for a ~ template: no Maildir
      }
      yield { name: u.name, store: () => this.mail.userStore(root, this.quotaOf(u), true) };
    }
  }

  /** A user's mail, with the user's quota. */
  private storeFor(user: UserEntry): MailUser {
    return this.mail.userStore(expandMaildir(this.config.maildir, user), this.quotaOf(user));
  }

  private context(): ServerContext {
    return {
      config: this.imap,
      log: this.log,
      users: this.users,
      storeFor: (user: UserEntry) => this.storeFor(user),
      capabilities,
      tls: this.certs,
      allowPlaintext: this.config.allowPlaintext,
      plaintextNetworks: networkList(this.config.plaintextNetworks),
      preauth: new PreauthGuard({ ...DEFAULT_PREAUTH_LIMITS, maxPerIp: this.config.maxUnauthenticatedPerIp }),
      logins: this.logins,
      onClose: (conn) => {
        conn.ctx.logins?.release(conn);
        conn.ctx.preauth?.release(conn);
        this.connections.delete(conn);
        conn.log.debug('disconnect');
      },
    };
  }

  /**
   * Opens every listener and reads the TLS certificate (as root, these are
   * the steps that need it: ports below 1024, a root-only private key).
   * Connections are accepted only once `open()` has run.
   */
  async listen(): Promise<Array<{ url: string; address: net.AddressInfo }>> {
    const { tlsCert, tlsKey } = this.config;
    if (tlsCert && tlsKey) {
      const certs = (this.certs = await Certificates.load(tlsCert, tlsKey, this.log));
      // Open connections keep their session; only new handshakes see the new certificate.
      certs.onReload(() => this.tlsServers.forEach((srv) => srv.setSecureContext(certs.options)));
    } else if (!this.config.allowPlaintext && this.config.listen.some((spec) => !inNetworks(parseHostPort(spec).host, networkList(this.config.plaintextNetworks)))) {
      this.log.warn('no tls.cert: clients from other hosts cannot log in (LOGINDISABLED) unless auth.allow_plaintext is set');
    }
    const out: Array<{ url: string; address: net.AddressInfo }> = [];
    for (const spec of this.config.listen) {
      const server = net.createServer((socket) => this.accept(socket));
      const address = await this.listenOn(server, spec);
      out.push({ url: `imap://${hostForUrl(address)}:${address.port}`, address });
    }
    for (const spec of this.config.tlsListen) {
      const server = this.tlsServer(this.certs!);
      const address = await this.listenOn(server, spec);
      out.push({ url: `imaps://${hostForUrl(address)}:${address.port}`, address });
    }
    await this.listenLmtp();
    await this.listenAdmin();
    await this.listenManageSieve();
    await this.listenQuotaStatus();
    if (this.config.saslListen.length) {
      const c = this.config;
      const keys = { owner: 'sasl.socket_owner', group: 'sasl.socket_group' };
      this.sasl = new SaslServer({ specs: c.saslListen, log: this.log, socket: { owner: c.saslSocketOwner, group: c.saslSocketGroup, mode: c.saslSocketMode, keys, source: c.source } });
      this.saslListeners = await this.sasl.listen();
    }
    return out;
  }

  /**
   * ManageSieve (managesieve.listen): the IMAP side's users, password
   * schemes, failure penalty, plaintext policy and certificate; scripts where
   * Pigeonhole keeps them (sieve.dir, sieve.active).
   */
  private async listenManageSieve(): Promise<void> {
    const c = this.config;
    if (!c.managesieveListen.length) return;
    const networks = networkList(c.plaintextNetworks);
    const ms = (this.managesieve = new ManageSieveService({
      log: this.log,
      implementation: `maildir-imapd ${VERSION}`,
      // i;octet and i;ascii-casemap are always there (RFC 5228 §2.7.3) and not listed, as Pigeonhole does.
      extensions: SUPPORTED_EXTENSIONS.filter((e) => e !== 'comparator-i;octet' && e !== 'comparator-i;ascii-casemap'),
      maxRedirects: SIEVE_LIMITS.maxRedirects,
      authenticate: (login, password) => this.users.authenticate(login, password),
      penalty: this.logins.penalty,
      userIp: new UserIpLimit(c.maxConnectionsPerUserIp),
      storeFor: (user) =>
        new ScriptStore(sieveLocation(user, expandMaildir(c.maildir, user), { dir: c.sieveDir, active: c.sieveActive }), {
          maxScripts: c.managesieveMaxScripts,
          maxScriptBytes: c.managesieveMaxScriptSize,
        }),
      tls: () => this.certs?.context ?? null,
      plaintextAllowed: (address, secure) => plaintextAuthAllowed({ secure, address, allowPlaintext: c.allowPlaintext, networks }),
      authFailDelayMs: this.imap.authFailDelayMs,
      globalDir: c.sieveGlobalDir || null,
      // Mail virtual(8) writes for a user who had no script is filtered from the next message on, logged in or not.
      activated: (user) => {
        try {
          this.sieve?.forget({ name: user.name, home: user.home, maildir: expandMaildir(c.maildir, user) });
        } catch {
          // no Maildir for this user (a ~ template without a home): nothing is delivered to filter
        }
        return this.watchFilteredInbox(user);
      },
      limits: { maxCommandBytes: c.managesieveMaxScriptSize + 8192, tlsHandshakeTimeoutMs: this.imap.tlsHandshakeTimeoutMs },
      maxConnections: c.maxConnections,
      maxUnauthenticatedPerIp: c.maxUnauthenticatedPerIp,
    }));
    for (const spec of c.managesieveListen) {
      try {
        this.managesieveListeners.push((await ms.listen(spec)).name);
      } catch (err) {
        if (err instanceof ListenSpecError) throw new ConfigError(`${c.source}: managesieve.listen ${JSON.stringify(spec)}: ${err.message}`);
        throw err;
      }
    }
  }

  /**
   * The admin socket (admin.socket). The default one lives in systemd's
   * RuntimeDirectory: without that directory (not under the unit) there is
   * none, said once; a socket the config names must work.
   */
  private async listenAdmin(): Promise<void> {
    const c = this.config;
    if (!c.adminSocket) return;
    const file = c.adminSocket.slice('unix:'.length);
    if (c.adminSocket === DEFAULT_ADMIN_SOCKET && !(await fs.stat(path.dirname(file)).then((st) => st.isDirectory(), () => false))) {
      this.log.info({ socket: c.adminSocket }, `no admin socket: ${path.dirname(file)} does not exist (set admin.socket)`);
      return;
    }
    const admin = new AdminService(this.log.child({ component: 'admin' }));
    try {
      // Owned by the service user when started as root (it drops to that user), so `admin` works as either.
      const group = c.group ?? (c.user ? (lookupUser(c.user)?.gid.toString() ?? null) : null); // 0660: the service user's group
      this.adminListener = await admin.listen(c.adminSocket, { user: c.user, group, mode: c.adminSocketMode });
    } catch (err) {
      throw new ConfigError(`${c.source}: admin.socket ${JSON.stringify(c.adminSocket)}: ${(err as Error).message}`);
    }
    this.admin = admin;
  }

  /** What the admin requests work on: the users file, stores that create nothing, and (running) the sessions. */
  adminDeps(running: boolean): AdminDeps {
    return {
      lookup: (name) => this.users.lookup(name),
      storeOf: (user) => this.mail.userStore(expandMaildir(this.config.maildir, user), this.quotaOf(user), true),
      sessions: running ? () => this.connections : null,
      batch: this.config.autoexpungeBatch,
    };
  }

  /** What the user's scripts would do with `message` (the admin command's `sieve test`): nothing is delivered or sent. */
  async sieveTest(name: string, message: Buffer): Promise<FilterOutcome> {
    const user = this.users.lookup(name);
    if (!user) throw new AdminError(`no user ${name} in the users file`);
    if (!this.sieve) throw new AdminError('sieve.enabled is false: no script runs at delivery');
    const maildir = expandMaildir(this.config.maildir, user);
    const store = this.mail.userStore(maildir, this.quotaOf(user), true);
    // As LMTP would run it: the envelope from the trace fields when there are any, else the user.
    return this.sieve.run({ name: user.name, home: user.home, maildir, store }, message, envelopeFromHeader(message, user.name), 'lmtp');
  }

  /** The quota policy service (quota_status.listen) Postfix asks at RCPT time. */
  private async listenQuotaStatus(): Promise<void> {
    const c = this.config;
    if (!c.quotaStatusListen.length) return;
    const svc = (this.quotaStatus = new QuotaStatusService<UserEntry>({
      log: this.log,
      users: this.users,
      storeFor: (user) => this.storeFor(user),
      recipientDelimiter: c.lmtpRecipientDelimiter,
      socket: { user: c.quotaStatusSocketUser, group: c.quotaStatusSocketGroup, mode: c.quotaStatusSocketMode },
      overquota: c.quotaStatusOverquota,
    }));
    for (const spec of c.quotaStatusListen) {
      try {
        this.quotaStatusListeners.push((await svc.listen(spec)).name);
      } catch (err) {
        if (err instanceof ListenSpecError) throw new ConfigError(`${c.source}: quota_status.listen ${JSON.stringify(spec)}: ${err.message}`);
        throw err;
      }
    }
  }

  /** LMTP for Postfix (lmtp.listen): same users file and Maildirs; the message size limit is APPEND's. */
  private async listenLmtp(): Promise<void> {
    const c = this.config;
    if (!c.lmtpListen.length) return;
    const lmtp = (this.lmtp = new LmtpService<UserEntry>({
      log: this.log,
      users: this.users,
      storeFor: (user) => this.storeFor(user),
      recipientDelimiter: c.lmtpRecipientDelimiter,
      socket: { user: c.lmtpSocketUser, group: c.lmtpSocketGroup, mode: c.lmtpSocketMode },
      limits: { maxMessageBytes: this.imap.limits.maxAppendBytes, maxRecipients: c.lmtpMaxRecipients },
      filterFor: (user, store) => this.lmtpFilter(user, store),
    }));
    for (const spec of c.lmtpListen) {
      try {
        this.lmtpListeners.push((await lmtp.listen(spec)).name);
      } catch (err) {
        if (err instanceof ListenSpecError) throw new ConfigError(`${c.source}: lmtp.listen ${JSON.stringify(spec)}: ${err.message}`);
        throw err;
      }
    }
  }

  /** Implicit TLS (RFC 8314): the handshake first, then the same Connection as on a plain socket. */
  private tlsServer(certs: Certificates): tls.Server {
    const server = tls.createServer({ ...certs.options, handshakeTimeout: this.imap.tlsHandshakeTimeoutMs }, (socket) => this.accept(socket, true));
    server.on('tlsClientError', (err, socket) => {
      this.log.info({ ip: socket.remoteAddress, err: err.message }, 'tls handshake failed');
      socket.destroy(); // with a listener here, Node leaves a timed-out socket open
    });
    this.tlsServers.push(server);
    return server;
  }

  /** Re-reads the certificate (SIGHUP); the file watcher does the same on its own. */
  async reload(): Promise<void> {
    await this.certs?.reload('SIGHUP');
  }

  /** Loads the users and starts serving (after any privilege drop: this touches the users file and mail). */
  async open(): Promise<void> {
    await this.users.load();
    this.refuseSharedMaildirs();
    await this.watchUsersFile();
    await this.certs?.watch();
    this.ctx = this.context();
    this.lmtp?.open();
    this.managesieve?.open();
    await this.watchFilteredInboxes();
    this.autoexpunger.start();
    this.admin?.open((req) => runAdmin(req, this.adminDeps(true)));
    this.quotaStatus?.open();
    // SMTP AUTH shares the users and the failure penalty with IMAP: one brute force, one penalty.
    this.sasl?.open({
      verify: { users: this.users, limits: this.ctx.logins ?? null, replyWithinMs: this.sasl.limits.replyWithinMs, failDelayMs: this.imap.authFailDelayMs },
      allowPlaintext: this.config.allowPlaintext,
      plaintextNetworks: this.ctx.plaintextNetworks,
    });
  }

  /** Several users in one Maildir read each other's mail: refused unless mail.shared_maildir says it is meant. */
  private refuseSharedMaildirs(): void {
    if (this.config.sharedMaildir) return;
    const shared = sharedMaildirs(this.users.all, this.config.maildir);
    if (!shared.length) return;
    const [first] = shared;
    throw new ConfigError(
      `mail.maildir = "${this.config.maildir}" (${this.config.source}) gives ${first.users.slice(0, 3).join(', ')}${first.users.length > 3 ? ' …' : ''} the same Maildir ${first.maildir}: they would read each other's mail. ` +
        'Put the user in the path (e.g. /var/mail/vhosts/%d/%n/Maildir), or set mail.shared_maildir = true if that is meant.',
    );
  }

  /** listen() then open(), for callers that do not change privileges in between. */
  async start(): Promise<Array<{ url: string; address: net.AddressInfo }>> {
    const listeners = await this.listen();
    await this.open();
    return listeners;
  }

  private ctx: ServerContext | null = null;

  private accept(socket: net.Socket, secure = false): void {
    const ctx = this.ctx;
    if (!ctx) {
      socket.end('* BYE Server starting, try again\r\n');
      return;
    }
    if (this.connections.size >= this.config.maxConnections) {
      socket.end('* BYE Too many connections\r\n');
      return;
    }
    const preauth = ctx.preauth!;
    if (preauth.waiting(socket.remoteAddress) >= preauth.limits.maxPerIp) {
      // Logged-in sessions from the same address are not counted: only those still to log in.
      this.log.warn({ ip: socket.remoteAddress, max: preauth.limits.maxPerIp }, 'connection refused: too many not logged in from this IP');
      socket.end('* BYE Too many connections from your address that have not logged in\r\n');
      return;
    }
    const conn = new Connection(socket, ctx, `${this.idPrefix}-${this.nextId++}`, secure);
    preauth.admit(conn, socket.remoteAddress);
    this.connections.add(conn);
    conn.log.info({ ip: socket.remoteAddress, port: socket.remotePort, tls: secure }, 'connect');
    conn.greet();
  }

  private async listenOn(server: net.Server, spec: string): Promise<net.AddressInfo> {
    const { host, port } = parseHostPort(spec);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'listener error'));
    this.servers.push(server);
    return server.address() as net.AddressInfo;
  }

  /**
   * Reloads the users file when it changes. chokidar suits this slow-moving
   * file (it survives editors that replace it by rename); a broken edit keeps
   * the previous users and is logged.
   */
  private async watchUsersFile(): Promise<void> {
    this.usersWatcher = chokidar.watch(this.config.users, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 200 } });
    // Ready before we say so: an edit right after start must not be missed.
    await new Promise<void>((resolve) => this.usersWatcher!.once('ready', () => resolve()));
    this.usersWatcher.on('all', (event) => {
      if (event !== 'add' && event !== 'change') return;
      this.users
        .load()
        .then(() => {
          this.log.info({ file: this.config.users, users: this.users.size }, 'users file reloaded');
          this.maildirUsers = null;
          return this.watchFilteredInboxes();
        })
        .catch((err: Error) => this.log.error({ file: this.config.users, err: err.message }, 'users file not reloaded; keeping the previous users'));
    });
  }

  /** Says BYE to every client, stops listening and releases the mailboxes. */
  async stop(reason = 'Server shutting down'): Promise<void> {
    const closing = Promise.all(this.servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
    for (const conn of [...this.connections]) conn.bye(reason);
    await this.lmtp?.close(); // deliveries under way finish and are answered first
    await this.autoexpunger.stop();
    await this.admin?.close();
    await this.managesieve?.close();
    await this.quotaStatus?.close();
    await this.sasl?.stop();
    await this.mail.close(); // index appends reach the disk before exit
    await closeWorkerPools();
    await this.usersWatcher?.close();
    await this.certs?.close();
    await Promise.race([closing, new Promise((r) => setTimeout(r, 2000))]);
  }
}

function hostForUrl(a: net.AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]` : a.address;
}
