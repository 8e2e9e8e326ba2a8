// The Dovecot authentication protocol's line format (Dovecot's "Design/Auth
// Protocol", version 1; what Postfix's xsasl_dovecot_server.c and Exim's
// dovecot authenticator speak): LF-terminated lines, TAB-separated fields,
// optional parameters `name=value` or a bare boolean `name`, and the \001
// escaping of TAB, LF, CR, NUL and \001 inside a field. Pure: no I/O, no state.

export const AUTH_PROTOCOL_MAJOR = 1;
export const AUTH_PROTOCOL_MINOR = 2;

const ESC = '\x01';

/** A field as sent: \001 → \0011, TAB → \001t, CR → \001r, LF → \001n, NUL → \0010. */
export function escapeField(s: string): string {
  return s.replace(/[\x00\x01\t\r\n]/g, (c) => ESC + ({ '\x00': '0', '\x01': '1', '\t': 't', '\r': 'r', '\n': 'n' } as Record<string, string>)[c]);
}

/** The reverse; \001 before any other character stands for that character (and a trailing \001 is dropped). */
export function unescapeField(s: string): string {
  if (!s.includes(ESC)) return s;
  return s.replace(/\x01([\s\S]?)/g, (_m, c: string) => ({ '0': '\x00', '1': '\x01', t: '\t', r: '\r', n: '\n', l: '\n' } as Record<string, string>)[c] ?? c);
}

/** One line (without its LF): the command name and its unescaped fields. */
export function splitLine(line: string): { command: string; args: string[] } {
  const fields = line.split('\t');
  return { command: fields[0], args: fields.slice(1).map(unescapeField) };
}

/** Builds one line with its LF; every field is escaped. */
export function formatLine(command: string, ...fields: string[]): string {
  return [command, ...fields.map(escapeField)].join('\t') + '\n';
}

export class AuthProtocolError extends Error {}

export interface AuthRequest {
  /** The client's request id, echoed in CONT/OK/FAIL. */
  id: string;
  /** Upper-cased (mechanism names are compared case-insensitively). */
  mechanism: string;
  /** Optional parameters before `resp` (name → value; a boolean has the value ''). */
  params: Map<string, string>;
  /** The initial response as sent (base64), '' for `resp=`, null when there is none. */
  initialResponse: string | null;
}

/** A request id: a positive decimal number, as Dovecot requires (Postfix counts from 1). */
export function isRequestId(s: string): boolean {
  return /^[1-9][0-9]{0,9}$/.test(s) && Number(s) <= 0xffffffff;
}

/**
 * Parses the fields of `AUTH id mechanism [params…] [resp=base64]`. `resp` is
 * the last parameter: whatever follows it is ignored, as Dovecot does.
 */
export function parseAuth(args: string[]): AuthRequest {
  const [id, mechanism, ...rest] = args;
  if (id === undefined || !isRequestId(id)) throw new AuthProtocolError(`AUTH needs a numeric request id, got ${JSON.stringify(String(id ?? '').slice(0, 20))}`);
  if (!mechanism) throw new AuthProtocolError('AUTH needs a mechanism');
  const params = new Map<string, string>();
  let initialResponse: string | null = null;
  for (const p of rest) {
    const eq = p.indexOf('=');
    const name = eq < 0 ? p : p.slice(0, eq);
    const value = eq < 0 ? '' : p.slice(eq + 1);
    if (name === 'resp') {
      initialResponse = value;
      break;
    }
    if (name && !params.has(name)) params.set(name, value);
  }
  return { id, mechanism: mechanism.toUpperCase(), params, initialResponse };
}

/** Parses the fields of `CONT id data` (the data field is required, and may be empty). */
export function parseCont(args: string[]): { id: string; data: string } {
  const [id, data] = args;
  if (id === undefined || !isRequestId(id)) throw new AuthProtocolError(`CONT needs a numeric request id, got ${JSON.stringify(String(id ?? '').slice(0, 20))}`);
  if (data === undefined) throw new AuthProtocolError('CONT needs a data field (it may be empty)');
  return { id, data };
}

/** Parses `VERSION major minor`; only the major version must match. */
export function parseVersion(args: string[]): { major: number; minor: number } {
  const [major, minor] = args;
  if (!/^\d{1,5}$/.test(major ?? '') || !/^\d{1,5}$/.test(minor ?? '')) throw new AuthProtocolError('VERSION needs a major and a minor number');
  return { major: Number(major), minor: Number(minor) };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a base64 field strictly (Node's decoder would skip junk silently).
 * `=` alone is an empty response, as in SMTP (RFC 4954 §4). Returns null when
 * the text is not base64.
 */
export function decodeBase64(s: string): Buffer | null {
  if (s === '=') return Buffer.alloc(0);
  if (!BASE64.test(s)) return null;
  return Buffer.from(s, 'base64');
}

/** The handshake the server sends first: version, mechanisms (before SPID, as Dovecot sends them), ids, DONE. */
export function serverHandshake(opts: { mechanisms: Array<{ name: string; flags: string[] }>; spid: number; cuid: number; cookie: string }): string {
  return (
    formatLine('VERSION', String(AUTH_PROTOCOL_MAJOR), String(AUTH_PROTOCOL_MINOR)) +
    opts.mechanisms.map((m) => formatLine('MECH', m.name, ...m.flags)).join('') +
    formatLine('SPID', String(opts.spid)) +
    formatLine('CUID', String(opts.cuid)) +
    formatLine('COOKIE', opts.cookie) +
    formatLine('DONE')
  );
}

/** `CONT id challenge` with the challenge base64-encoded ('' for an empty one). */
export function contLine(id: string, challenge: Buffer | string): string {
  return formatLine('CONT', id, Buffer.from(challenge).toString('base64'));
}

/** `OK id user=<canonical login>`: Postfix takes the name from user= (smtpd_sender_login_maps match it). */
export function okLine(id: string, user: string): string {
  return formatLine('OK', id, `user=${user}`);
}

/** `FAIL id [user=…] [reason=…] [temp]`. */
export function failLine(id: string, opts: { user?: string; reason?: string; temp?: boolean } = {}): string {
  const fields = [id];
  if (opts.user !== undefined) fields.push(`user=${opts.user}`);
  if (opts.reason !== undefined) fields.push(`reason=${opts.reason}`);
  if (opts.temp) fields.push('temp');
  return formatLine('FAIL', ...fields);
}
