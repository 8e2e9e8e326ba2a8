// FETCH ENVELOPE (RFC 3501 §7.4.2) with an RFC 5322 address-list parser.
// Values are sent raw (encoded words are not decoded). Where the RFC leaves
// room, this follows Dovecot 2.3 (checked against a live instance):
//  - Subject and display names are "for humans": CR/LF/TAB become spaces,
//    runs of spaces collapse, leading/trailing spaces go. Date, Message-ID
//    and In-Reply-To are sent exactly as written (after unfolding).
//  - A field written twice: the last one wins, except address fields, whose
//    lists are joined.
//  - Broken addresses are kept with placeholders: a missing local part is
//    "MISSING_MAILBOX", a missing domain "MISSING_DOMAIN", an unterminated
//    <...> gets the host "SYNTAX_ERROR". Parsing stops at the first garbage
//    between addresses.
//  - Without a display name, the last comment names the address:
//    `joe@x (Joe)` → ("Joe" NIL "joe" "x").
//  - Bounded: each address field lists at most MAX_ENVELOPE_ADDRESSES
//    addresses (all its lines together), the rest is left out and not even
//    parsed (a group cut off still gets its end marker). Anyone who can send
//    mail could otherwise make one ENVELOPE 100,000 addresses and 10 MB long
//    (Dovecot CVE-2024-23184 class). Our choice, not checked against Dovecot;
//    no real list of recipients in one header comes near it.

import type { HeaderField } from './header.js';
import { atom, encodeToString, type ImapValue } from './encoder.js';

/** One ENVELOPE address: (name route mailbox host). Groups use a start and an end marker. */
export interface Address {
  name: string | null;
  route: string | null;
  mailbox: string | null;
  host: string | null;
}

const ADDRESS_FIELDS = ['from', 'sender', 'reply-to', 'to', 'cc', 'bcc'] as const;
type AddressField = (typeof ADDRESS_FIELDS)[number];
/** Addresses (group markers included) kept per ENVELOPE address field. */
export const MAX_ENVELOPE_ADDRESSES = 1000;
const STRING_FIELDS = ['date', 'subject', 'in-reply-to', 'message-id'] as const;
type StringField = (typeof STRING_FIELDS)[number];

export function envelope(header: HeaderField[]): ImapValue {
  const str = new Map<StringField, string>();
  const addr = new Map<AddressField, Address[]>();
  for (const f of header) {
    if ((STRING_FIELDS as readonly string[]).includes(f.lower)) str.set(f.lower as StringField, f.value);
    else if ((ADDRESS_FIELDS as readonly string[]).includes(f.lower)) {
      const key = f.lower as AddressField;
      // Appended in place: copying the list for each field made 100,000 `To:` lines quadratic
      // (20 s for 40,000; Dovecot CVE-2024-23184 was the same walk of the list per line).
      let list = addr.get(key);
      if (!list) addr.set(key, (list = []));
      const room = MAX_ENVELOPE_ADDRESSES - list.length;
      if (room > 0) for (const a of parseAddressList(f.value, room)) list.push(a);
    }
  }
  const list = (k: AddressField): ImapValue => {
    const a = addr.get(k);
    return a && a.length > 0 ? [adjacent(a.map((x) => [x.name, x.route, x.mailbox, x.host]))] : null;
  };
  const from = list('from');
  const subject = str.get('subject');
  return [
    str.get('date') ?? null,
    subject === undefined ? null : forHumans(subject),
    from,
    list('sender') ?? from,
    list('reply-to') ?? from,
    list('to'),
    list('cc'),
    list('bcc'),
    str.get('in-reply-to') ?? null,
    str.get('message-id') ?? null,
  ];
}

/**
 * RFC 3501 writes `1*address` and `1*body` with no SP between the items
 * (`("a" NIL "b" "c")("d" NIL "e" "f")`, as Dovecot does), while an ImapValue
 * array always separates its items: so they are pre-encoded into one token.
 */
export function adjacent(items: ImapValue[]): ImapValue {
  return atom(items.map(encodeToString).join(''));
}

/** Whitespace made readable, as Dovecot sends subjects and display names. */
export function forHumans(s: string): string {
  return s.replace(/[\t\r\n]/g, ' ').replace(/ {2,}/g, ' ').replace(/^ | $/g, '');
}

// ---------------------------------------------------------------------------

/** RFC 5322 atext, plus 8-bit characters (RFC 6532). */
function isAtext(c: string): boolean {
  const x = c.charCodeAt(0);
  return x > 0x7f || (x >= 0x21 && x < 0x7f && ATEXT[x] === 1);
}

/** RFC 5322 atext among printable ASCII: letters, digits and !#$%&'*+-/=?^_`{|}~ (a table, not a regex per character). */
const ATEXT = new Uint8Array(128);
for (const ch of "!#$%&'*+-/=?^_`{|}~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") ATEXT[ch.charCodeAt(0)] = 1;

class AddressParser {
  i = 0;
  out: Address[] = [];
  lastComment: string | null = null;
  constructor(
    readonly s: string,
    /** Addresses wanted at most; a group's end marker may come on top. */
    readonly limit: number,
  ) {}
  get full(): boolean {
    return this.out.length >= this.limit;
  }

  get done(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string {
    return this.s[this.i] ?? '';
  }

  /** Skips whitespace and comments, remembering the last comment's text. */
  skip(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.i++;
      else if (c === '(') this.lastComment = this.comment();
      else return;
    }
  }
  private comment(): string {
    const start = ++this.i;
    for (let depth = 1; this.i < this.s.length; ) {
      const c = this.s[this.i++];
      if (c === '\\') this.i++;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return this.s.slice(start, this.i - 1);
    }
    return this.s.slice(start);
  }
  private run(dots: boolean): string {
    const start = this.i;
    while (!this.done && (isAtext(this.peek()) || (dots && this.peek() === '.'))) this.i++;
    return this.s.slice(start, this.i);
  }
  /** Quoted string, unescaped; null when unterminated. Skips CFWS after it. */
  private quoted(): string | null {
    let out = '';
    for (let j = this.i + 1; j < this.s.length; j++) {
      const c = this.s[j];
      if (c === '"') {
        this.i = j + 1;
        this.skip();
        return out;
      }
      if (c === '\\' && j + 1 < this.s.length) out += this.s[++j];
      else out += c;
    }
    return null;
  }
  /** phrase / obs-phrase: words and dots, joined by single spaces; '' when none. */
  phrase(): string | null {
    const words: string[] = [];
    if (this.peek() === '.') return null;
    for (;;) {
      const c = this.peek();
      let w: string | null;
      if (c === '"') w = this.quoted();
      else if (isAtext(c) || c === '.') {
        w = this.run(true);
        this.skip();
      } else break;
      if (w === null) return null;
      words.push(w);
    }
    return words.join(' ');
  }
  /** dot-atom (CFWS allowed around the dots, obs-local-part style); null on failure. */
  private dotAtom(): string | null {
    let out = this.run(false);
    if (out === '') return null;
    for (this.skip(); this.peek() === '.'; this.skip()) {
      this.i++;
      this.skip();
      const a = this.run(false);
      if (a === '') return null;
      out += '.' + a;
    }
    return out;
  }
  private localPart(): string | null {
    return this.peek() === '"' ? this.quoted() : this.dotAtom();
  }
  /** At '@': the domain (dot-atom or [literal]); null on failure. */
  private domain(): string | null {
    this.i++;
    this.skip();
    if (this.peek() !== '[') return this.dotAtom();
    const close = this.s.indexOf(']', this.i);
    if (close < 0) return null;
    const lit = this.s.slice(this.i, close + 1);
    this.i = close + 1;
    this.skip();
    return lit;
  }

  /** address-list; whatever parsed before the first garbage is kept. */
  list(): Address[] {
    this.skip();
    while (!this.done && !this.full) {
      this.address();
      if (this.peek() !== ',') break;
      this.i++;
      this.skip();
    }
    return this.out;
  }

  private address(): void {
    const start = this.i;
    const name = this.phrase();
    if (name && this.peek() === ':') return this.group(name);
    this.i = start;
    this.mailbox();
  }

  private group(name: string): void {
    this.i++;
    this.skip();
    this.out.push({ name: null, route: null, mailbox: name, host: null });
    if (!this.done && this.peek() !== ';') {
      while (!this.full) {
        this.mailbox(); // a broken member does not end the group
        if (this.peek() !== ',') break;
        this.i++;
        this.skip();
      }
    }
    if (this.peek() === ';') {
      this.i++;
      this.skip();
    }
    this.out.push({ name: null, route: null, mailbox: null, host: null });
  }

  private mailbox(): void {
    const start = this.i;
    const a: Address = { name: null, route: null, mailbox: null, host: null };
    // name-addr: [display-name] "<" [route ":"] addr-spec ">"
    const name = this.phrase();
    if (name !== null && this.peek() === '<') {
      a.name = name === '' ? null : forHumans(name);
      if (!this.angle(a)) a.host = 'SYNTAX_ERROR';
      return this.push(a);
    }
    // addr-spec, possibly "user (Comment)" or just "user"
    this.i = start;
    this.lastComment = null;
    const quotedLocal = this.peek() === '"';
    a.mailbox = this.localPart();
    let triedDomain = false;
    if (this.peek() === '@') {
      triedDomain = true;
      a.host = this.domain();
    }
    if (this.lastComment !== null) a.name = forHumans(this.lastComment);
    else if (!triedDomain) {
      // "user" alone is a mailbox without domain; "some words" is a display name
      const more = this.phrase();
      if (more) {
        a.name = forHumans(`${a.mailbox ?? ''} ${more}`);
        a.mailbox = null;
      } else if (!quotedLocal) a.host = '';
    }
    if (a.name === null && a.mailbox !== null && a.host === null) {
      a.name = a.mailbox; // `"quoted"` or `user@` alone: read it as a name
      a.mailbox = null;
    }
    this.push(a);
  }

  /** "<" [@route,@route ":"] [local ["@" domain]] ">" — false when malformed. */
  private angle(a: Address): boolean {
    this.i++;
    this.skip();
    if (this.peek() === '@') {
      const hops: string[] = [];
      while (this.peek() === '@') {
        const d = this.domain();
        if (d === null) break;
        hops.push('@' + d);
        while (this.peek() === ',') {
          this.i++;
          this.skip();
        }
      }
      if (hops.length > 0 && this.peek() === ':') {
        this.i++;
        a.route = hops.join(',');
      } else a.route = 'INVALID_ROUTE';
      this.skip();
    }
    if (this.done) return false;
    if (this.peek() !== '>') {
      a.mailbox = this.localPart();
      if (a.mailbox === null) return false;
      if (this.peek() === '@' && (a.host = this.domain()) === null) return false;
    }
    if (this.peek() !== '>') return false;
    this.i++;
    this.skip();
    return true;
  }

  private push(a: Address): void {
    a.mailbox ??= 'MISSING_MAILBOX';
    if (!a.host) a.host = 'MISSING_DOMAIN';
    this.out.push(a);
  }
}

/** Parses an address-list header value into ENVELOPE addresses (groups as markers), the first `limit` of them. */
export function parseAddressList(value: string, limit = Infinity): Address[] {
  return new AddressParser(value, limit).list();
}
