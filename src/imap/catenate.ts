// CATENATE (RFC 4469): an APPEND message built from TEXT literals and IMAP
// URLs of messages (or their sections) this user can read on this server.
// The pieces are written into one spool in order; a URL that does not name a
// readable message is NO [BADURL url], a result over APPENDLIMIT NO [TOOBIG].
import { BadError, NoError } from '../wire/errors.js';
import type { Token } from '../wire/parser.js';
import type { IncomingMessage, MailboxHandle, MailUser, MessageRef } from '../mail/api.js';
import { parseSectionSpec, type SectionItem } from './fetch/items.js';
import { applyPartial, sectionData } from './fetch/section.js';

export type CatPart = { kind: 'text'; literal: Token & { type: 'string' } } | { kind: 'url'; url: string };

/** RFC 4469 §5: at most this many parts in one CATENATE. */
export const MAX_CATENATE_PARTS = 64;

/** cat-part = text-literal / url: `TEXT literal` or `URL astring`, at least one. */
export function parseCatenate(items: Token[]): CatPart[] {
  if (!items.length || items.length % 2) throw new BadError('CATENATE: parts are TEXT literal or URL url');
  if (items.length / 2 > MAX_CATENATE_PARTS) throw new BadError(`CATENATE: at most ${MAX_CATENATE_PARTS} parts`);
  const parts: CatPart[] = [];
  for (let i = 0; i < items.length; i += 2) {
    const kind = items[i]!;
    const value = items[i + 1]!;
    const name = kind.type === 'atom' ? kind.value.toUpperCase() : '';
    if (name === 'TEXT' && value.type === 'string' && value.literal) parts.push({ kind: 'text', literal: value });
    else if (name === 'URL' && value.type !== 'list') parts.push({ kind: 'url', url: value.type === 'atom' ? value.value : value.value.toString('utf8') });
    else throw new BadError('CATENATE: parts are TEXT literal or URL url');
  }
  return parts;
}

interface ImapUrl {
  /** null: the selected folder (a relative URL). */
  mailbox: string | null;
  uidValidity: number | null;
  uid: number;
  section: string;
  partial: { origin: number; count: number } | null;
}

/**
 * RFC 5092 IMAP URL naming one message: `imap://[user@]host[:port]/box[;UIDVALIDITY=n]/;UID=m[/;SECTION=s][/;PARTIAL=o[.n]]`,
 * the same from `/box…` (absolute path), or `;UID=m…` relative to the selected folder. Null: not one we can resolve.
 */
export function parseImapUrl(url: string, user: string): ImapUrl | null {
  let rest = url;
  const server = /^imap:\/\/(?:([^@/;]*)(?:;[^@/]*)?@)?[^/]+/i.exec(rest);
  if (server) {
    // Only this user's mail: another user's (or an undecodable) name is a URL we may not read.
    if (server[1] !== undefined && safeDecode(server[1]) !== user) return null;
    rest = rest.slice(server[0].length);
  }
  let mailbox: string | null = null;
  let uidValidity: number | null = null;
  if (rest.startsWith('/')) {
    const m = /^\/([^;]+?)(?:;UIDVALIDITY=([1-9]\d{0,9}))?\/(?=;UID=)/i.exec(rest);
    if (!m) return null;
    const name = safeDecode(m[1]!);
    if (name === null) return null;
    mailbox = name;
    uidValidity = m[2] ? Number(m[2]) : null;
    rest = rest.slice(m[0].length);
  } else if (server) return null;
  const m = /^;UID=([1-9]\d{0,9})(?:\/;SECTION=([^/]*))?(?:\/;PARTIAL=(\d{1,10})(?:\.([1-9]\d{0,9}))?)?$/i.exec(rest);
  if (!m) return null;
  const section = m[2] !== undefined ? safeDecode(m[2]) : '';
  if (section === null) return null;
  const partial = m[3] !== undefined ? { origin: Number(m[3]), count: m[4] ? Number(m[4]) : 0xffffffff } : null;
  return { mailbox, uidValidity, uid: Number(m[1]), section, partial };
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** url-resp-text (RFC 4469 §6): what BADURL carries; a URL with spaces or brackets is cut at them. */
function badUrl(url: string): NoError {
  return new NoError(`Bad URL`, `BADURL ${url.replace(/[\s\]\x00-\x1f\x7f]+.*$/s, '').slice(0, 200)}`);
}

export interface CatenateContext {
  store: MailUser;
  user: string;
  /** The selected folder, for relative URLs. */
  selected: MailboxHandle | null;
  maxBytes: number;
}

/** The parts written in order into one new spool (the caller discards it on failure). */
export async function catenate(ctx: CatenateContext, parts: CatPart[], spool: IncomingMessage): Promise<void> {
  let total = 0;
  const add = (chunk: Buffer): void => {
    total += chunk.length;
    if (total > ctx.maxBytes) throw new NoError('CATENATE result is over APPENDLIMIT', 'TOOBIG');
    spool.write(chunk);
  };
  for (const part of parts) {
    if (part.kind === 'text') {
      const lit = part.literal;
      // A streamed TEXT literal sits in a spool of its own (append-literal.ts): read back as stored, a piece at a time.
      if (lit.sink) for await (const chunk of (lit.sink as IncomingMessage).pieces()) add(chunk);
      else add(lit.value);
      continue;
    }
    const url = parseImapUrl(part.url, ctx.user);
    if (!url) throw badUrl(part.url);
    const mailbox = url.mailbox === null ? ctx.selected : await ctx.store.mailbox(url.mailbox).catch(() => null);
    if (!mailbox || (url.uidValidity !== null && url.uidValidity !== mailbox.uidValidity)) throw badUrl(part.url);
    const meta: MessageRef | undefined = mailbox.byUid(url.uid);
    if (!meta) throw badUrl(part.url);
    let spec: ReturnType<typeof parseSectionSpec>;
    try {
      spec = parseSectionSpec(url.section);
    } catch {
      throw badUrl(part.url);
    }
    const item: SectionItem = { kind: 'section', peek: true, part: spec.part, text: spec.text, fields: spec.fields, partial: url.partial, label: '' };
    const msg = await mailbox.loadMessage(meta).catch(() => null);
    if (!msg) throw badUrl(part.url);
    const data = applyPartial(sectionData(item, msg.root, msg.vsize), item.partial);
    if ('bytes' in data) add(data.bytes);
    else {
      if (total + data.range[1] - data.range[0] > ctx.maxBytes) throw new NoError('CATENATE result is over APPENDLIMIT', 'TOOBIG');
      for await (const chunk of mailbox.messageRange(meta, msg, data.range[0], data.range[1])) add(chunk);
    }
  }
}
