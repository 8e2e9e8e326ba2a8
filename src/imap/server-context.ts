// What a connection needs from the server around it.
import type { Logger } from 'pino';
import type { UserDb } from '../auth/users.js';
import type { UserEntry } from '../auth/passwd-file.js';
import type { MailStore } from '../mail/store.js';
import type { ParserLimits } from './parser.js';
import type { Connection } from './connection.js';

export interface ImapConfig {
  limits: ParserLimits & { maxDepth: number };
  loginTimeoutMs: number;
  idleTimeoutMs: number;
  idleKeepaliveMs: number;
  authFailDelayMs: number;
}

export interface ServerContext {
  config: ImapConfig;
  log: Logger;
  users: UserDb;
  storeFor(user: UserEntry): MailStore;
  capabilities(conn: Connection): string[];
  onClose(conn: Connection): void;
}
