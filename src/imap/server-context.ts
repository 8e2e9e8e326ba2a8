// What a connection needs from the server around it.
import type { BlockList } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { UserDb } from '../auth/users.js';
import type { UserEntry } from '../auth/passwd-file.js';
import type { MailUser } from '../mail/api.js';
import type { ParserLimits } from '../wire/parser.js';
import type { Connection } from './connection.js';
import type { PreauthGuard } from './preauth-guard.js';

export interface ImapConfig {
  limits: ParserLimits & { maxDepth: number };
  /** Before login: small lines and literals (a LOGIN, a SASL response), as Dovecot's login processes allow. */
  preauthLimits: ParserLimits;
  loginTimeoutMs: number;
  idleTimeoutMs: number;
  idleKeepaliveMs: number;
  authFailDelayMs: number;
  /** A TLS handshake (implicit or after STARTTLS) that takes longer is dropped. */
  tlsHandshakeTimeoutMs: number;
}

/** The current certificate; it changes on reload, so read it at each handshake. */
export interface TlsSource {
  readonly context: SecureContext;
}

export interface ServerContext {
  config: ImapConfig;
  log: Logger;
  users: UserDb;
  storeFor(user: UserEntry): MailUser;
  capabilities(conn: Connection): string[];
  /** Null when no certificate is configured: no STARTTLS. */
  tls: TlsSource | null;
  /** Passwords without TLS from non-loopback clients (auth.allow_plaintext). */
  allowPlaintext: boolean;
  /** Clients in these networks may send passwords without TLS. */
  plaintextNetworks: BlockList;
  onClose(conn: Connection): void;
  /** Failed-login penalty per IP and connections per user and IP (auth/limits.ts). */
  logins?: import('../auth/limits.js').LoginLimits;
  /** Connections not yet logged in: per IP and their buffered input (preauth-guard.ts). */
  preauth?: PreauthGuard;
}
