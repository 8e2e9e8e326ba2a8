// The message as Sieve tests see it: header values unfolded with RFC 2047
// encoded words decoded, addresses parsed, and body parts decoded on demand
// (transfer encoding and charset; HTML reduced to text for :text). Built on
// src/wire's header, address and MIME parsers; nothing is parsed until a test
// asks for it.

import { decode as decodeCharset } from 'libmime/lib/charset.js';
import { parseHeader, headerEnd, headerValue, type HeaderField } from '../wire/header.js';
import { decodeWords } from '../wire/header-values.js';
import { parseAddressList } from '../wire/envelope.js';
import { parseMime, param, type MimePart } from '../wire/mime.js';
import { decodeQP } from '../wire/transfer.js';
import { htmlToText } from '../mail/api.js';

export interface SieveAddress {
  localpart: string;
  /** Null when the address has no domain. */
  domain: string | null;
}

export class SieveMessage {
  private fields: HeaderField[] | null = null;
  private mime: MimePart | null = null;
  private bodyStartOffset = -1;

  constructor(readonly bytes: Buffer) {}

  get size(): number {
    return this.bytes.length;
  }

  private header(): HeaderField[] {
    if (this.fields === null) {
      const end = headerEnd(this.bytes);
      this.bodyStartOffset = end < 0 ? this.bytes.length : end;
      this.fields = parseHeader(this.bytes.subarray(0, this.bodyStartOffset));
    }
    return this.fields;
  }

  /** The decoded values of every field called `name`, in order (trailing whitespace trimmed, as Pigeonhole). */
  headerValues(name: string): string[] {
    const lower = name.toLowerCase();
    const out: string[] = [];
    for (const f of this.header()) if (f.lower === lower) out.push(decodeWords(f.value).replace(/[ \t\r\n]+$/, ''));
    return out;
  }

  /** Raw (undecoded) values, for addresses and dates. */
  rawValues(name: string): string[] {
    const lower = name.toLowerCase();
    const out: string[] = [];
    for (const f of this.header()) if (f.lower === lower) out.push(f.value.replace(/[ \t\r\n]+$/, ''));
    return out;
  }

  exists(name: string): boolean {
    const lower = name.toLowerCase();
    return this.header().some((f) => f.lower === lower);
  }

  /**
   * The addresses of one address header value, as Pigeonhole reads them: each
   * valid mailbox (with a domain); an empty value, or invalid entries (group
   * markers, no domain, bad syntax) not followed by a valid one, give the
   * value itself, unparsed, which only :all sees (any part, when empty).
   */
  static addresses(value: string): Array<SieveAddress | { unparsed: string }> {
    if (value === '') return [{ unparsed: '' }];
    const out: Array<SieveAddress | { unparsed: string }> = [];
    let invalid = false;
    for (const a of parseAddressList(value)) {
      const bad = a.host === null || a.mailbox === null || a.mailbox === 'MISSING_MAILBOX' || a.host === 'MISSING_DOMAIN' || a.host === 'SYNTAX_ERROR' || a.host === '';
      if (bad) {
        invalid = true;
        continue;
      }
      invalid = false;
      out.push({ localpart: a.mailbox!, domain: a.host });
    }
    if (invalid || out.length === 0) out.push({ unparsed: value });
    return out;
  }

  /** The body after the header, undecoded (body :raw). */
  rawBody(): Buffer {
    this.header();
    return this.bytes.subarray(this.bodyStartOffset);
  }

  /**
   * The decoded parts whose content type one of `types` names ("" every
   * part, "text" a main type, "text/html" exactly), in message order. A
   * message/rfc822 part's content is its message's header; multiparts have
   * none. With `text`, HTML becomes text. `budget` counts decoded bytes.
   */
  parts(types: string[] | null, text: boolean, budget: { bytes: number }): string[] {
    this.mime ??= parseMime(this.bytes);
    const out: string[] = [];
    const wanted = (ct: string): boolean => {
      if (types === null) return true;
      const main = ct.slice(0, ct.indexOf('/'));
      for (const t of types) {
        if (t === '') return true;
        if (t.includes('/') ? t.toLowerCase() === ct : t.toLowerCase() === main) return true;
      }
      return false;
    };
    const walk = (part: MimePart, depth: number): void => {
      const ct = `${part.contentType.type}/${part.contentType.subtype}`;
      if (part.contentType.type === 'multipart') {
        // its own content is the text around the parts: preamble and epilogue (as Pigeonhole)
        if (types !== null && wanted(ct) && part.children.length > 0) out.push(this.aroundParts(part));
        for (const c of part.children) walk(c, depth + 1);
        return;
      }
      if (part.message) {
        if (wanted(ct)) out.push(this.decodedHeader(part.message));
        walk(part.message, depth + 1);
        return;
      }
      if (!wanted(ct)) return;
      const raw = this.bytes.subarray(part.bodyStart, part.end);
      budget.bytes -= raw.length;
      if (budget.bytes < 0) return;
      out.push(this.decodeBody(part, raw, text));
    };
    walk(this.mime, 0);
    return out;
  }

  private aroundParts(part: MimePart): string {
    const first = part.children[0];
    const last = part.children[part.children.length - 1];
    const boundary = '--' + (param(part.contentType, 'boundary') ?? '');
    const text = this.bytes.toString('utf8', part.bodyStart, first.headerStart) + this.bytes.toString('utf8', Math.min(last.end, part.end), part.end);
    return text
      .split(/\r?\n/)
      .filter((l) => !l.startsWith(boundary))
      .join('\r\n');
  }

  private decodedHeader(part: MimePart): string {
    return part.header.map((f) => `${f.name}: ${decodeWords(f.value)}`).join('\r\n') + '\r\n';
  }

  private decodeBody(part: MimePart, raw: Buffer, text: boolean): string {
    const cte = (headerValue(part.header, 'content-transfer-encoding') ?? '').trim().toLowerCase();
    const bytes = cte === 'base64' ? Buffer.from(raw.toString('latin1'), 'base64') : cte === 'quoted-printable' ? decodeQP(raw) : raw;
    const charset = param(part.contentType, 'charset') ?? 'us-ascii';
    let s: string;
    try {
      s = /^(us-ascii|utf-?8|ascii)$/i.test(charset) ? bytes.toString('utf8') : decodeCharset(bytes, charset);
    } catch {
      s = bytes.toString('utf8');
    }
    const ct = `${part.contentType.type}/${part.contentType.subtype}`;
    if (text && (ct === 'text/html' || ct === 'application/xhtml+xml')) s = htmlToText(s);
    return s;
  }
}
