// What CAPABILITY says, by connection state. Only what really works is listed:
// each extension adds its name here in the same change that makes it work.
import { BlockList, isIP } from 'node:net';
import type { Connection } from './connection.js';

/** Listed before and after login. */
// IMAP4rev2 (RFC 9051) beside IMAP4rev1: a rev2 client turns it on with ENABLE IMAP4rev2 (extensions.ts rev2, Appendix A).
const ALWAYS = ['IMAP4rev1', 'IMAP4rev2', 'SASL-IR', 'LITERAL+', 'IDLE'];

/** Listed once authenticated (RFC 3501 §6.1.1: capabilities may change after login). */
export const SESSION_EXTENSIONS: string[] = [];
SESSION_EXTENSIONS.push('ESEARCH', 'SORT', 'THREAD=REFERENCES', 'THREAD=ORDEREDSUBJECT', 'WITHIN', 'ESORT', 'SORT=DISPLAY'); // src/imap/commands/search.ts, sort.ts, thread.ts; WITHIN: search-criteria.ts
SESSION_EXTENSIONS.push('UIDPLUS', 'MOVE', 'UNSELECT', 'NAMESPACE', 'ID', 'ENABLE', 'CHILDREN', 'SPECIAL-USE', 'LIST-EXTENDED', 'LIST-STATUS'); // src/imap/commands/folder-commands.ts

SESSION_EXTENSIONS.push('CONDSTORE', 'QRESYNC'); // src/mail/modseq.ts, commands/select.ts, fetch.ts, store.ts
SESSION_EXTENSIONS.push('UNAUTHENTICATE'); // commands/unauthenticate.ts
SESSION_EXTENSIONS.push('MULTIAPPEND'); // commands/append.ts; MailUser.appendMany
SESSION_EXTENSIONS.push('REPLACE'); // commands/replace.ts (RFC 8508)
SESSION_EXTENSIONS.push('COMPRESS=DEFLATE'); // commands/compress.ts, deflate-stream.ts
SESSION_EXTENSIONS.push('UTF8=ACCEPT'); // commands/mailbox-name.ts, enable.ts, append.ts (UTF8 data item)
SESSION_EXTENSIONS.push('BINARY'); // fetch/binary.ts; literal8 in wire/framer.ts (RFC 3516)
SESSION_EXTENSIONS.push('CATENATE'); // src/imap/catenate.ts (RFC 4469)
SESSION_EXTENSIONS.push('QUOTA', 'QUOTA=RES-STORAGE', 'QUOTA=RES-MESSAGE', 'STATUS=SIZE'); // commands/getquota.ts, getquotaroot.ts, setquota.ts, status.ts; src/mail/quota.ts
SESSION_EXTENSIONS.push('SEARCHRES'); // RFC 5182: search/saved-result.ts, "$" in commands/messages.ts and search-criteria.ts
SESSION_EXTENSIONS.push('CONTEXT=SEARCH', 'CONTEXT=SORT'); // RFC 5267 §4: search/context.ts, commands/cancelupdate.ts; PARTIAL in search/esearch.ts
SESSION_EXTENSIONS.push('NOTIFY'); // RFC 5465: commands/notify.ts, notify/; MailUser.watchFolders
SESSION_EXTENSIONS.push('THREAD=REFS'); // draft-ietf-morg-inthread as Dovecot has it: search/thread.ts refs()
SESSION_EXTENSIONS.push('SAVEDATE'); // RFC 8514: FETCH SAVEDATE (commands/fetch.ts), SAVED* search keys; MailboxHandle.saveDate
SESSION_EXTENSIONS.push('PREVIEW'); // RFC 8970: FETCH PREVIEW [(LAZY)], src/mail/preview.ts, cached in the store
SESSION_EXTENSIONS.push('OBJECTID'); // RFC 8474: MAILBOXID (uidlist GUID), EMAILID, THREADID NIL; commands/create, select, status, fetch

/** SASL mechanisms offered before login, in Dovecot's order (src/imap/commands/authenticate.ts). */
export const AUTH_MECHANISMS = ['PLAIN', 'LOGIN'];

export function capabilities(conn: Connection): string[] {
  // RFC 7889: the APPEND literal limit (streamed to disk up to it).
  // The mechanisms stay listed after login, as the product's capability list has them (AUTHENTICATE itself is then BAD: RFC 3501 §6.2.2).
  if (conn.state !== 'notauth')
    return [...ALWAYS, ...SESSION_EXTENSIONS, `APPENDLIMIT=${conn.ctx.config.limits.maxAppendBytes}`, ...AUTH_MECHANISMS.map((m) => `AUTH=${m}`)];
  const caps = [...ALWAYS];
  if (conn.ctx.tls && !conn.isSecure) caps.push('STARTTLS');
  // RFC 3501 §6.2.3: LOGINDISABLED where a password must not be sent; no mechanism is offered then.
  if (conn.plaintextAllowed) caps.push(...AUTH_MECHANISMS.map((m) => `AUTH=${m}`));
  else caps.push('LOGINDISABLED');
  return caps;
}

/** A BlockList of the given networks ("10.0.0.0/8", "::1/128", or a single address). */
export function networkList(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/');
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

const LOOPBACK = networkList(['127.0.0.0/8', '::1/128']);

/** Whether `address` is in `networks`; IPv4-mapped IPv6 (::ffff:127.0.0.1, as a dual-stack listener reports it) counts as IPv4. */
export function inNetworks(address: string | undefined, networks: BlockList): boolean {
  if (!address) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const a = mapped ? mapped[1] : address;
  const family = isIP(a);
  if (family === 0) {
    // ::ffff:7f00:1 written in hex: BlockList understands the mapping itself.
    return isIP(address) === 6 && networks.check(address, 'ipv6');
  }
  return networks.check(a, family === 6 ? 'ipv6' : 'ipv4');
}

/** 127.0.0.0/8 and ::1, also written as IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  return inNetworks(address, LOOPBACK);
}

/**
 * Whether a password may cross this connection: over TLS; from a network the
 * operator trusts (auth.plaintext_networks, loopback by default: local webmail,
 * nothing on the wire to overhear); or anywhere with auth.allow_plaintext.
 */
export function plaintextAuthAllowed(p: { secure: boolean; address: string | undefined; allowPlaintext: boolean; networks: BlockList }): boolean {
  return p.secure || p.allowPlaintext || inNetworks(p.address, p.networks);
}
