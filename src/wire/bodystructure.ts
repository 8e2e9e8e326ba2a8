// FETCH BODY / BODYSTRUCTURE (RFC 3501 §7.4.2). Matches Dovecot 2.3 output:
//  - type, subtype, parameter names and values, encoding and disposition are
//    sent as written in the message (case kept); only the defaults are
//    lower-case ("text" "plain", "7bit", "charset" "us-ascii").
//  - A text/* part without a charset parameter gets "charset" "us-ascii"
//    appended to its parameters.
//  - An unparseable Content-Type is sent as far as it parsed, with NIL
//    parameters (e.g. `garbage` → "garbage" ""), and is not treated as text.
//  - A multipart with no parts (no boundary, or boundary never seen) gets one
//    empty text/plain part, since the grammar needs at least one.
//  - A multipart or message/rfc822 part left unopened (past the nesting or
//    part limit of parseMime) is sent as "application" "octet-stream" with its
//    parameters as written, as Dovecot does (checked in the MIME differential). message/global is
//    sent as a plain leaf: RFC 3501's body-type-msg only covers message/rfc822.

import { headerValue, type HeaderField } from './header.js';
import { Lexer, type MimePart, parseRawContentType, parseTokenParams } from './mime.js';
import type { ImapValue } from './encoder.js';
import { adjacent, envelope } from './envelope.js';

type Params = Array<[string, string]>;

const flat = (params: Params): string[] => params.flatMap(([k, v]) => [k, v]);

export function bodystructure(part: MimePart, extended: boolean): ImapValue {
  const h = part.header;
  const ctValue = headerValue(h, 'content-type');
  const raw = ctValue === null ? null : parseRawContentType(ctValue);

  if (part.contentType.type === 'multipart' && !part.unopened) {
    const children = part.children.length > 0 ? part.children.map((c) => bodystructure(c, extended)) : [emptyText(extended)];
    const out: ImapValue[] = [adjacent(children), raw?.subtype ?? part.contentType.subtype];
    if (extended) {
      const params = raw?.params ?? [];
      out.push(params.length > 0 ? flat(params) : null, ...partExtensions(h));
    }
    return out;
  }

  let type: string;
  let subtype: string;
  let params: Params | null;
  if (raw === null) {
    // no Content-Type: the default, text/plain us-ascii or message/rfc822 in a digest
    ({ type, subtype } = part.contentType);
    params = part.contentType.params;
  } else {
    ({ type, subtype } = raw);
    params = raw.valid ? raw.params : null;
  }
  if (part.unopened) {
    // parseMime's limits: no parts, envelope or body to describe
    type = 'application';
    subtype = 'octet-stream';
  }
  const text = type.toLowerCase() === 'text';
  if (text && params && !params.some(([k]) => k.toLowerCase() === 'charset')) params = [...params, ['charset', 'us-ascii']];

  const out: ImapValue[] = [
    type,
    subtype,
    params && params.length > 0 ? flat(params) : null,
    headerValue(h, 'content-id'),
    headerValue(h, 'content-description'),
    encoding(h),
    part.end - part.bodyStart,
  ];
  if (text) out.push(part.bodyLines);
  else if (type.toLowerCase() === 'message' && subtype.toLowerCase() === 'rfc822') {
    const inner = part.message;
    out.push(
      inner ? envelope(inner.header) : Array<null>(10).fill(null),
      inner ? bodystructure(inner, extended) : emptyText(extended),
      part.bodyLines,
    );
  }
  if (extended) out.push(headerValue(h, 'content-md5'), ...partExtensions(h));
  return out;
}

/** body-fld-enc: the Content-Transfer-Encoding token as written, default "7bit". */
function encoding(h: HeaderField[]): string {
  const v = headerValue(h, 'content-transfer-encoding');
  if (v === null) return '7bit';
  const lx = new Lexer(v);
  lx.skipCFWS();
  return lx.token() || '7bit';
}

/** Extension data common to both kinds of part: disposition, language, location. */
function partExtensions(h: HeaderField[]): ImapValue[] {
  const dispValue = headerValue(h, 'content-disposition');
  const disp = dispValue === null ? null : parseTokenParams(dispValue);
  return [
    disp ? [disp.token, disp.params.length > 0 ? flat(disp.params) : null] : null,
    language(headerValue(h, 'content-language')),
    headerValue(h, 'content-location'),
  ];
}

/** Content-Language (RFC 3282): comma-separated tags, comments ignored; NIL when none. */
function language(v: string | null): ImapValue {
  if (v === null) return null;
  const lx = new Lexer(v);
  const tags: string[] = [];
  for (;;) {
    lx.skipCFWS();
    const tag = lx.token();
    if (tag !== '') tags.push(tag);
    lx.skipCFWS();
    if (lx.peek() !== ',') break;
    lx.i++;
  }
  return tags.length > 0 ? tags : null;
}

/** The zero-length text/plain part Dovecot writes where a part is required but absent. */
function emptyText(extended: boolean): ImapValue {
  const base: ImapValue[] = ['text', 'plain', ['charset', 'us-ascii'], null, null, '7bit', 0, 0];
  return extended ? [...base, null, null, null, null] : base;
}
