// The actions a script answers with, and how they combine, as Pigeonhole
// combines them (sieve-result.c):
//  - keep is a store into INBOX; stores into the same folder are one action
//    (INBOX in any case), and the later one's flags replace the earlier's;
//    a keep that meets an earlier fileinto "INBOX" turns it into the keep.
//  - a redirect to an address already redirected to is dropped (local part
//    compared exactly, domain without case).
//  - reject/ereject conflicts with any action that delivers (keep, fileinto,
//    redirect) or that answers the sender (vacation, another reject), in
//    either order; a second vacation is an error. A conflict is a runtime
//    error: the caller keeps the message in INBOX.
//  - keep, fileinto, redirect (without :copy), discard and reject cancel the
//    implicit keep; vacation does not.

export type SieveAction =
  /** Store into the default folder (INBOX). `flags` null: no imap4flags; else the flags to set. */
  | { type: 'keep'; flags: string[] | null }
  | { type: 'fileinto'; mailbox: string; flags: string[] | null; create: boolean; copy: boolean }
  | { type: 'redirect'; address: string; copy: boolean }
  | { type: 'discard' }
  /** RFC 5429: `extended` for ereject. The caller decides between an SMTP/LMTP refusal and a bounce. */
  | { type: 'reject'; reason: string; extended: boolean }
  /**
   * RFC 5230: the caller applies §4.5's rules (no reply to lists, bulk mail
   * or its own address; the recipient must be in To/Cc or :addresses), keeps
   * the :days memory per `handle` and sender, and sends the reply.
   */
  | {
      type: 'vacation';
      reason: string;
      subject: string | null;
      from: string | null;
      addresses: string[];
      mime: boolean;
      handle: string;
      /** The reply period: at most one reply per sender in this many seconds. */
      seconds: number;
    };

export class RuntimeError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const SYSTEM_FLAGS = new Map(['\\seen', '\\answered', '\\flagged', '\\deleted', '\\draft'].map((f) => [f, '\\' + f[1].toUpperCase() + f.slice(2)]));
const BAD_KEYWORD = /[\x00-\x20\x7f(){%*"\\\]]/;

/** A flag as stored: a system flag in its canonical case, a keyword as written; null when not a valid flag. */
export function normalizeFlag(f: string): string | null {
  if (f.startsWith('\\')) return SYSTEM_FLAGS.get(f.toLowerCase()) ?? null;
  if (f === '' || f.length > 255 || BAD_KEYWORD.test(f)) return null;
  return f;
}

/** RFC 5232 §3: each string may hold several space-separated flags; duplicates (without case) once. */
export function flagList(strings: string[], keepInvalid: boolean): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const s of strings) {
    for (const f of s.split(' ')) {
      if (f === '') continue;
      const n = keepInvalid ? f : normalizeFlag(f);
      if (n === null || seen.has(n.toLowerCase())) continue;
      seen.add(n.toLowerCase());
      out.push(n);
    }
  }
  return out;
}

const ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-";
const DOT_ATOM = new RegExp(`^[${ATEXT}]+(\\.[${ATEXT}]+)*$`);
const DOMAIN = /^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Why `address` is not a valid redirect target (RFC 5321 mailbox), or null when it is. */
export function checkRedirectAddress(address: string): string | null {
  if (address.length > 512) return 'longer than 512 characters';
  const at = address.lastIndexOf('@');
  if (at < 0) return "no '@'";
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local === '') return 'empty local part';
  if (!DOT_ATOM.test(local) && !/^"([^"\\\r\n]|\\[\x20-\x7e])*"$/.test(local)) return `invalid local part ${JSON.stringify(local)}`;
  if (domain === '') return 'empty domain';
  if (!DOMAIN.test(domain) && !/^\[[^\[\]\\\r\n]+\]$/.test(domain)) return `invalid domain ${JSON.stringify(domain)}`;
  return null;
}

/** A folder name fileinto accepts: not empty, no control characters, bounded. The store checks the rest. */
export function validMailboxName(name: string): boolean {
  return name.length > 0 && name.length <= 1024 && !/[\x00-\x1f\x7f]/.test(name);
}

function sameMailbox(a: string, b: string): boolean {
  return a === b || (a.toUpperCase() === 'INBOX' && b.toUpperCase() === 'INBOX');
}

function sameAddress(a: string, b: string): boolean {
  const i = a.lastIndexOf('@');
  const j = b.lastIndexOf('@');
  return a.slice(0, i) === b.slice(0, j) && a.slice(i + 1).toLowerCase() === b.slice(j + 1).toLowerCase();
}

/** The result being built while a script runs. */
export class ResultBuilder {
  readonly actions: SieveAction[] = [];
  implicitKeep = true;

  constructor(
    private readonly maxActions: number,
    private readonly maxRedirects: number,
  ) {}

  private add(a: SieveAction, line: number): void {
    if (this.actions.length >= this.maxActions) throw new RuntimeError(line, `more than ${this.maxActions} actions`);
    this.actions.push(a);
  }

  private conflicts(a: SieveAction, line: number): void {
    const delivers = (x: SieveAction): boolean => x.type === 'keep' || x.type === 'fileinto' || x.type === 'redirect';
    const responds = (x: SieveAction): boolean => x.type === 'reject' || x.type === 'vacation';
    for (const o of this.actions) {
      if (a.type === 'reject' && (delivers(o) || responds(o))) throw new RuntimeError(line, `reject conflicts with the earlier ${o.type} action`);
      if (o.type === 'reject' && (delivers(a) || responds(a))) throw new RuntimeError(line, `${a.type} conflicts with the earlier reject action`);
      if (a.type === 'vacation' && o.type === 'vacation') throw new RuntimeError(line, 'duplicate vacation action');
    }
  }

  store(mailbox: string | null, flags: string[] | null, create: boolean, copy: boolean, line: number): void {
    const target = mailbox ?? 'INBOX';
    const keep = mailbox === null;
    for (let i = 0; i < this.actions.length; i++) {
      const o = this.actions[i];
      const oBox = o.type === 'keep' ? 'INBOX' : o.type === 'fileinto' ? o.mailbox : null;
      if (oBox === null || !sameMailbox(oBox, target)) continue;
      const mergedFlags = flags ?? (o as { flags: string[] | null }).flags;
      if (keep || o.type === 'keep') this.actions[i] = { type: 'keep', flags: mergedFlags };
      else if (o.type === 'fileinto') this.actions[i] = { ...o, flags: mergedFlags, create: create || o.create, copy: copy && o.copy };
      if (!copy) this.implicitKeep = false;
      return;
    }
    const a: SieveAction = keep ? { type: 'keep', flags } : { type: 'fileinto', mailbox: target, flags, create, copy };
    this.conflicts(a, line);
    this.add(a, line);
    if (!copy) this.implicitKeep = false;
  }

  redirect(address: string, copy: boolean, line: number): void {
    const a: SieveAction = { type: 'redirect', address, copy };
    this.conflicts(a, line);
    const existing = this.actions.find((o) => o.type === 'redirect' && sameAddress(o.address, address));
    if (existing) {
      if (!copy) this.implicitKeep = false;
      return;
    }
    if (this.actions.filter((o) => o.type === 'redirect').length >= this.maxRedirects) throw new RuntimeError(line, `more than ${this.maxRedirects} redirects`);
    this.add(a, line);
    if (!copy) this.implicitKeep = false;
  }

  discard(line: number): void {
    if (!this.actions.some((o) => o.type === 'discard')) this.add({ type: 'discard' }, line);
    this.implicitKeep = false;
  }

  reject(reason: string, extended: boolean, line: number): void {
    const a: SieveAction = { type: 'reject', reason, extended };
    this.conflicts(a, line);
    this.add(a, line);
    this.implicitKeep = false;
  }

  vacation(a: Extract<SieveAction, { type: 'vacation' }>, line: number): void {
    this.conflicts(a, line);
    this.add(a, line);
  }
}
