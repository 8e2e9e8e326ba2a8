// LMTP command lines (RFC 2033, which is SMTP's RFC 5321 with LHLO): one
// line in, a typed command or an SmtpReplyError out. Pure: no I/O, no state.
// Addresses are checked enough that they can be written into header fields
// (no control characters, no unquoted space, bounded length).

/** A reply the client gets instead of acting on the command. */
export class SmtpReplyError extends Error {
  constructor(
    readonly code: number,
    readonly enhanced: string,
    text: string,
  ) {
    super(text);
  }
}

export type MailParams = {
  /** Declared size (RFC 1870 SIZE), if any. */
  size: number | null;
  /** RFC 6531 SMTPUTF8 given. */
  smtputf8: boolean;
};

export type LmtpCommand =
  | { verb: 'LHLO'; domain: string }
  | { verb: 'MAIL'; address: string; params: MailParams }
  | { verb: 'RCPT'; address: string; originalTo: string | null }
  | { verb: 'DATA' | 'RSET' | 'NOOP' | 'QUIT' | 'HELP' }
  | { verb: 'VRFY'; arg: string }
  /** SMTP's greetings: not valid in LMTP (RFC 2033 §4.1). */
  | { verb: 'HELO' | 'EHLO' };

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets (with its angle brackets). */
export const MAX_PATH = 256;

const SIMPLE = new Set(['DATA', 'RSET', 'NOOP', 'QUIT', 'HELP']);

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

const syntax = (text: string) => new SmtpReplyError(501, '5.5.4', text);

/** Parses one command line (without its CRLF). */
export function parseCommand(line: string): LmtpCommand {
  if (CONTROL.test(line)) throw new SmtpReplyError(500, '5.5.2', 'Control characters in the command line');
  const sp = line.indexOf(' ');
  const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
  const rest = sp < 0 ? '' : line.slice(sp + 1);
  if (SIMPLE.has(verb)) {
    // NOOP and HELP may carry an argument (RFC 5321 §4.1.1.9, §4.1.1.8); the others take none.
    if (rest.trim() && verb !== 'NOOP' && verb !== 'HELP') throw syntax(`${verb} takes no argument`);
    return { verb: verb as 'DATA' };
  }
  switch (verb) {
    case 'LHLO': {
      const domain = rest.trim();
      if (!domain || /\s/.test(domain)) throw syntax('Usage: LHLO hostname');
      return { verb: 'LHLO', domain };
    }
    case 'HELO':
    case 'EHLO':
      return { verb };
    case 'MAIL': {
      const { address, params } = parsePathArg(rest, 'FROM:', true);
      return { verb: 'MAIL', address, params: mailParams(params) };
    }
    case 'RCPT': {
      const { address, params } = parsePathArg(rest, 'TO:', false);
      return { verb: 'RCPT', address, originalTo: rcptParams(params) };
    }
    case 'VRFY':
      return { verb: 'VRFY', arg: rest.trim() };
    default:
      throw new SmtpReplyError(500, '5.5.2', 'Command not recognized');
  }
}

/**
 * `FROM:<path> params` / `TO:<path> params`. A space after the colon is
 * tolerated (many clients send one). A source route (`<@a,@b:u@d>`) is
 * dropped, as RFC 5321 §4.1.1.3 lets a server do.
 */
function parsePathArg(rest: string, keyword: string, nullOk: boolean): { address: string; params: string[] } {
  if (rest.slice(0, keyword.length).toUpperCase() !== keyword) throw syntax(`Syntax: ${keyword === 'FROM:' ? 'MAIL FROM:<address>' : 'RCPT TO:<address>'}`);
  let s = rest.slice(keyword.length).replace(/^ +/, '');
  if (s[0] !== '<') throw syntax('The address must be in angle brackets');
  // The closing '>': the first one outside a quoted local part.
  let end = -1;
  let quoted = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '>' && !quoted) {
      end = i;
      break;
    }
  }
  if (end < 0) throw syntax('Unterminated address');
  if (end + 1 > MAX_PATH) throw new SmtpReplyError(501, '5.1.3', 'Address too long');
  let address = s.slice(1, end);
  s = s.slice(end + 1);
  if (s && s[0] !== ' ') throw syntax('Expected a space after the address');
  if (address.startsWith('@')) {
    const colon = address.indexOf(':');
    if (colon < 0) throw new SmtpReplyError(501, '5.1.3', 'Bad source route');
    address = address.slice(colon + 1);
  }
  if (address === '') {
    if (!nullOk) throw new SmtpReplyError(501, '5.1.3', 'Empty recipient address');
  } else checkMailbox(address);
  return { address, params: s.split(' ').filter(Boolean) };
}

/** Local-part "@" domain, or a bare local part (Postmaster); no unquoted space. */
function checkMailbox(address: string): void {
  let quoted = false;
  let at = -1;
  for (let i = 0; i < address.length; i++) {
    const c = address[i];
    if (quoted && c === '\\') {
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '@') at = i;
    else if (!quoted && (c === ' ' || c === '<' || c === '>' || c === '(' || c === ')' || c === ',' || c === ';' || c === ':' || c === '[' && at < 0))
      throw new SmtpReplyError(501, '5.1.3', 'Bad address syntax');
  }
  if (quoted) throw new SmtpReplyError(501, '5.1.3', 'Bad address syntax');
  if (at === 0 || at === address.length - 1) throw new SmtpReplyError(501, '5.1.3', 'Bad address syntax');
}

function keyValue(param: string): [string, string | null] {
  const eq = param.indexOf('=');
  return eq < 0 ? [param.toUpperCase(), null] : [param.slice(0, eq).toUpperCase(), param.slice(eq + 1)];
}

function mailParams(params: string[]): MailParams {
  const out: MailParams = { size: null, smtputf8: false };
  for (const p of params) {
    const [key, value] = keyValue(p);
    switch (key) {
      case 'SIZE':
        if (value === null || !/^\d{1,20}$/.test(value)) throw syntax('Bad SIZE parameter');
        out.size = Number(value);
        break;
      case 'BODY':
        // BINARYMIME needs BDAT (CHUNKING), which is not offered.
        if (value === null || !/^(7BIT|8BITMIME)$/i.test(value)) throw new SmtpReplyError(555, '5.5.4', 'Unsupported BODY type');
        break;
      case 'SMTPUTF8':
        if (value !== null) throw syntax('SMTPUTF8 takes no value');
        out.smtputf8 = true;
        break;
      default:
        throw new SmtpReplyError(555, '5.5.4', `Unsupported parameter ${key.slice(0, 32)}`);
    }
  }
  return out;
}

/**
 * RCPT's parameters: only ORCPT (RFC 3461), accepted though DSN is not
 * offered (as Dovecot does): it names the original recipient for
 * X-Original-To. DSN itself is not offered on purpose: then Postfix treats
 * an LMTP delivery as final and sends the "delivered" notice itself.
 */
function rcptParams(params: string[]): string | null {
  let original: string | null = null;
  for (const p of params) {
    const [key, value] = keyValue(p);
    if (key !== 'ORCPT') throw new SmtpReplyError(555, '5.5.4', `Unsupported parameter ${key.slice(0, 32)}`);
    if (value === null) throw syntax('Bad ORCPT parameter');
    const semi = value.indexOf(';');
    if (semi < 0) throw syntax('Bad ORCPT parameter');
    const type = value.slice(0, semi).toLowerCase();
    let addr: string;
    try {
      addr = decodeXtext(value.slice(semi + 1));
    } catch {
      throw syntax('Bad ORCPT parameter');
    }
    // Only an RFC 822 address is used; a malformed or odd one is ignored, not refused.
    if (type === 'rfc822' && addr.length <= MAX_PATH && !CONTROL.test(addr) && !/[<>\s]/.test(addr)) original = addr;
  }
  return original;
}

/** RFC 3461 §4 xtext: "+" and two upper-case hex digits stand for that octet; the octets are UTF-8. */
export function decodeXtext(s: string): string {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new Error('bad xtext escape');
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (c === 0x3d || c < 0x21 || c === 0x7f) {
      throw new Error('not xtext');
    } else if (c < 0x80) {
      out.push(c);
    } else {
      // Raw UTF-8 (SMTPUTF8), already decoded with the line.
      const cp = s.codePointAt(i)!;
      out.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      if (cp > 0xffff) i++;
    }
  }
  return Buffer.from(out).toString('utf8');
}

/** One reply line, or several (`250-…` then `250 …`), CRLF-terminated. */
export function formatReply(code: number, lines: string[]): string {
  return lines.map((l, i) => `${code}${i === lines.length - 1 ? ' ' : '-'}${l}\r\n`).join('');
}
