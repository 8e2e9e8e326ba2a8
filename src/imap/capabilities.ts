// What CAPABILITY says, by connection state. Only what really works is listed:
// each extension adds its name here in the same change that makes it work.
import type { Connection } from './connection.js';

/** Listed before and after login. */
const ALWAYS = ['IMAP4rev1', 'SASL-IR', 'LITERAL+', 'IDLE'];

/** Listed once authenticated (RFC 3501 §6.1.1: capabilities may change after login). */
export const SESSION_EXTENSIONS: string[] = [];

/** SASL mechanisms offered before login. */
export const AUTH_MECHANISMS = ['PLAIN'];

export function capabilities(conn: Connection): string[] {
  if (conn.state === 'notauth') return [...ALWAYS, ...AUTH_MECHANISMS.map((m) => `AUTH=${m}`)];
  return [...ALWAYS, ...SESSION_EXTENSIONS];
}
