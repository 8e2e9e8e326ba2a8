// The one place a store failure becomes an IMAP reply: each MailError kind
// has its RFC 5530 response code. A missing target of APPEND, COPY or MOVE is
// TRYCREATE (RFC 3501 §6.3.11, §6.4.7): the client may create it and retry.
import { NoError } from '../wire/errors.js';
import type { MailErrorKind } from '../mail/api.js';

const CODES: Record<MailErrorKind, string> = {
  notfound: 'NONEXISTENT',
  exists: 'ALREADYEXISTS',
  expunged: 'EXPUNGEISSUED',
  invalid: 'CANNOT',
  cannot: 'CANNOT',
  permission: 'NOPERM',
  temporary: 'UNAVAILABLE',
  limit: 'LIMIT',
  quota: 'OVERQUOTA',
};

const TARGET_COMMANDS = new Set(['APPEND', 'COPY', 'MOVE']);

export function noFor(kind: MailErrorKind, message: string, command: string): NoError {
  const code = kind === 'notfound' && TARGET_COMMANDS.has(command) ? 'TRYCREATE' : CODES[kind];
  return new NoError(message, code);
}
