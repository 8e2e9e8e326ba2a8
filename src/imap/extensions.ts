// The extensions a session has turned on (RFC 5161 ENABLE, or implicitly by a
// CONDSTORE-enabling command, RFC 7162 §3.1). Part of the session's state: the
// connection owns one, commands read and change it through conn.extensions.

/** Capability names a client may ENABLE (upper-case). */
export const ENABLABLE = new Set<string>(['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4REV2']);

export class EnabledExtensions {
  /** Made at the first ENABLE: most sessions never send one. */
  private names: Set<string> | null = null;

  has(name: string): boolean {
    return this.names?.has(name) === true;
  }

  /** Turns an extension on; true if it was off. QRESYNC implies CONDSTORE (RFC 7162 §3.2.3). */
  enable(name: string): boolean {
    if (this.has(name)) return false;
    this.names ??= new Set();
    this.names.add(name);
    if (name === 'QRESYNC') this.names.add('CONDSTORE');
    return true;
  }

  get condstore(): boolean {
    return this.has('CONDSTORE');
  }

  /** RFC 6855: mailbox names in UTF-8, UTF-8 in quoted strings. */
  get utf8(): boolean {
    return this.has('UTF8=ACCEPT');
  }

  /** RFC 9051 behaviour (ENABLE IMAP4rev2, Appendix A): no \Recent, ESEARCH for every SEARCH, the SELECT LIST line. */
  get rev2(): boolean {
    return this.has('IMAP4REV2');
  }

  get qresync(): boolean {
    return this.has('QRESYNC');
  }
}
