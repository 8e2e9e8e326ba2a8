// Listeners, accepting connections, and graceful shutdown.
import net from 'node:net';
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import chokidar, { type FSWatcher } from 'chokidar';
import { Connection } from './imap/connection.js';
import type { ImapConfig, ServerContext } from './imap/server-context.js';
import { UserDb, expandMaildir } from './auth/users.js';
import type { UserEntry } from './auth/passwd-file.js';
import { MailStore, MailboxRegistry } from './mail/store.js';
import { DEFAULT_LIMITS } from './imap/parser.js';
import { removeLockTemplates } from './mail/dotlock.js';
import { capabilities } from './imap/capabilities.js';
import { parseHostPort, type Config } from './config.js';


export const DEFAULT_IMAP_CONFIG: ImapConfig = {
  limits: { ...DEFAULT_LIMITS, maxDepth: 16 },
  loginTimeoutMs: 60_000,
  idleTimeoutMs: 30 * 60_000, // RFC 3501 §5.4: at least 30 minutes
  idleKeepaliveMs: 2 * 60_000,
  authFailDelayMs: 2_000,
};


export class ImapServer {
  readonly users: UserDb;
  private readonly registry: MailboxRegistry;
  private readonly connections = new Set<Connection>();
  private readonly servers: net.Server[] = [];
  private usersWatcher: FSWatcher | null = null;
  private nextId = 1;
  private readonly idPrefix = crypto.randomBytes(3).toString('hex');

  constructor(
    readonly config: Config,
    private readonly log: Logger,
    readonly imap: ImapConfig = DEFAULT_IMAP_CONFIG,
  ) {
    this.users = new UserDb(config.users);
    this.registry = new MailboxRegistry(log, config.rescanSeconds * 1000);
  }

  private context(): ServerContext {
    return {
      config: this.imap,
      log: this.log,
      users: this.users,
      storeFor: (user: UserEntry) => new MailStore(expandMaildir(this.config.maildir, user), this.registry),
      capabilities,
      onClose: (conn) => {
        this.connections.delete(conn);
        conn.log.debug('disconnect');
      },
    };
  }

  /**
   * Opens every listener (as root, this is the one step that needs it: ports
   * below 1024). Connections are accepted only once `open()` has run.
   */
  async listen(): Promise<Array<{ url: string; address: net.AddressInfo }>> {
    const out: Array<{ url: string; address: net.AddressInfo }> = [];
    for (const spec of this.config.listen) {
      const server = net.createServer((socket) => this.accept(socket));
      const address = await this.listenOn(server, spec);
      out.push({ url: `imap://${hostForUrl(address)}:${address.port}`, address });
    }
    return out;
  }

  /** Loads the users and starts serving (after any privilege drop: this touches the users file and mail). */
  async open(): Promise<void> {
    await this.users.load();
    this.watchUsersFile();
    this.ctx = this.context();
  }

  /** listen() then open(), for callers that do not change privileges in between. */
  async start(): Promise<Array<{ url: string; address: net.AddressInfo }>> {
    const listeners = await this.listen();
    await this.open();
    return listeners;
  }

  private ctx: ServerContext | null = null;

  private accept(socket: net.Socket): void {
    const ctx = this.ctx;
    if (!ctx) {
      socket.end('* BYE Server starting, try again\r\n');
      return;
    }
    if (this.connections.size >= this.config.maxConnections) {
      socket.end('* BYE Too many connections\r\n');
      return;
    }
    const conn = new Connection(socket, ctx, `${this.idPrefix}-${this.nextId++}`);
    this.connections.add(conn);
    conn.log.info({ ip: socket.remoteAddress, port: socket.remotePort }, 'connect');
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
  private watchUsersFile(): void {
    this.usersWatcher = chokidar.watch(this.config.users, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 200 } });
    this.usersWatcher.on('all', (event) => {
      if (event !== 'add' && event !== 'change') return;
      this.users
        .load()
        .then(() => this.log.info({ file: this.config.users, users: this.users.size }, 'users file reloaded'))
        .catch((err: Error) => this.log.error({ file: this.config.users, err: err.message }, 'users file not reloaded; keeping the previous users'));
    });
  }

  /** Says BYE to every client, stops listening and releases the mailboxes. */
  async stop(reason = 'Server shutting down'): Promise<void> {
    const closing = Promise.all(this.servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
    for (const conn of [...this.connections]) conn.bye(reason);
    this.registry.closeAll();
    await this.usersWatcher?.close();
    await removeLockTemplates();
    await Promise.race([closing, new Promise((r) => setTimeout(r, 2000))]);
  }
}

function hostForUrl(a: net.AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]` : a.address;
}
