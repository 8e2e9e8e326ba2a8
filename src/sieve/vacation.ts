// The vacation action (RFC 5230) at delivery: whether to answer at all
// (§4.5, and the checks Pigeonhole adds), the reply itself (§5), and the
// :days memory, persisted per user so a restart does not answer a sender
// twice within the period.
import { promises as fs } from 'node:fs';
import crypto from 'node:crypto';
import os from 'node:os';
import type { SieveAction } from './actions.js';
import { SieveMessage } from './message.js';

export type VacationAction = Extract<SieveAction, { type: 'vacation' }>;

/** The user's own addresses: the envelope recipient(s), the login when it is an address, and :addresses. */
export function ownAddresses(action: VacationAction, recipients: Array<string | null | undefined>, separator: string): string[] {
  const out = new Set<string>();
  const add = (a: string | null | undefined) => {
    if (!a) return;
    const addr = bareAddress(a).toLowerCase();
    if (!addr) return;
    out.add(addr);
    // bob+lists@example.org is also bob@example.org (RFC 5233 subaddress)
    const at = addr.lastIndexOf('@');
    if (separator && at > 0) {
      const local = addr.slice(0, at);
      const cut = [...separator].map((d) => local.indexOf(d)).filter((i) => i > 0);
      if (cut.length) out.add(local.slice(0, Math.min(...cut)) + addr.slice(at));
    }
  };
  for (const r of recipients) add(r);
  for (const a of action.addresses) add(a);
  return [...out];
}

/** "Name <a@b>" → "a@b"; a bare address as is. */
function bareAddress(s: string): string {
  const m = /<([^<>]*)>\s*$/.exec(s);
  return (m ? m[1] : s).trim();
}

const LIST_HEADERS = ['list-id', 'list-help', 'list-subscribe', 'list-unsubscribe', 'list-post', 'list-owner', 'list-archive'];

/**
 * Why no reply may be sent (RFC 5230 §4.5 and Pigeonhole's own checks), or
 * null when one may: no reply to the null sender, to our own addresses, to
 * mail that is automatic (Auto-Submitted), bulk (Precedence) or from a list,
 * to system senders (MAILER-DAEMON, owner-…, …-request), nor to mail whose
 * recipient header fields do not name the user.
 */
export function whyNoReply(message: SieveMessage, sender: string, own: string[]): string | null {
  if (sender === '') return 'the null sender';
  const s = sender.toLowerCase();
  if (own.includes(s)) return 'the sender is the user';
  const local = s.slice(0, s.lastIndexOf('@') < 0 ? s.length : s.lastIndexOf('@'));
  if (local === 'mailer-daemon' || local === 'listserv' || local === 'majordomo' || local.startsWith('owner-') || local.endsWith('-request'))
    return 'a system address';
  for (const v of message.headerValues('auto-submitted')) if (v.trim().toLowerCase().split(/[\s;(]/)[0] !== 'no') return 'Auto-Submitted';
  for (const v of message.headerValues('precedence')) if (['bulk', 'list', 'junk'].includes(v.trim().toLowerCase())) return `Precedence: ${v.trim()}`;
  for (const h of LIST_HEADERS) if (message.exists(h)) return `a list message (${h})`;
  if (message.exists('x-spam-flag') && message.headerValues('x-spam-flag').some((v) => v.trim().toLowerCase() === 'yes')) return 'spam';
  const named = new Set<string>();
  for (const h of ['to', 'cc', 'bcc', 'resent-to', 'resent-cc', 'resent-bcc']) {
    for (const v of message.rawValues(h)) {
      for (const a of SieveMessage.addresses(v)) if ('localpart' in a && a.domain) named.add(`${a.localpart}@${a.domain}`.toLowerCase());
    }
  }
  if (!own.some((a) => named.has(a))) return 'the user is not among the recipients in the header';
  return null;
}

/** The reply (RFC 5230 §5), LF line endings, for sendmail. */
export function composeReply(action: VacationAction, message: SieveMessage, sender: string, own: string[], now = new Date()): Buffer {
  const oneLine = (s: string) => s.replace(/[\r\n]+[ \t]*/g, ' ').trim();
  const origSubject = message.headerValues('subject')[0] ?? '';
  const subject = oneLine(action.subject ?? `Auto: ${origSubject}`);
  const from = oneLine(action.from ?? own[0] ?? '');
  const msgId = message.rawValues('message-id')[0]?.trim();
  const refs = message.rawValues('references')[0]?.trim();
  const lines = [
    `From: ${encodeIfNeeded(from, true)}`,
    `To: <${sender}>`,
    `Subject: ${encodeIfNeeded(subject, false)}`,
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${crypto.randomBytes(12).toString('hex')}.vacation@${os.hostname()}>`,
  ];
  if (msgId && /^<[^<>\r\n]+>$/.test(msgId)) {
    lines.push(`In-Reply-To: ${msgId}`);
    lines.push(`References: ${refs && !/[\r\n]/.test(refs) ? `${oneLine(refs)} ` : ''}${msgId}`);
  }
  lines.push('Auto-Submitted: auto-replied (vacation)', 'Precedence: bulk', 'MIME-Version: 1.0');
  let body: string;
  if (action.mime) {
    // :mime: the reason is a MIME entity, its own header fields first.
    body = action.reason.replace(/\r\n/g, '\n');
    if (!/\n\n/.test(body) && !/^\n/.test(body)) body = `Content-Type: text/plain; charset=utf-8\n\n${body}`;
  } else {
    lines.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
    body = `\n${action.reason.replace(/\r\n/g, '\n')}`;
  }
  if (!body.endsWith('\n')) body += '\n';
  return Buffer.from(lines.join('\n') + '\n' + body, 'utf8');
}

/** RFC 2047 B-encoding of a header value that is not ASCII (for From, only the display name). */
function encodeIfNeeded(value: string, address: boolean): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(value)) return value;
  if (address) {
    const m = /^(.*?)\s*(<[^<>]*>)$/.exec(value);
    if (m) return `${encodeWords(m[1].replace(/^"|"$/g, ''))} ${m[2]}`;
  }
  return encodeWords(value);
}

function encodeWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\n ');
}

function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/**
 * The :days memory of one user: which (handle, sender) pairs were answered
 * until when. A small text file (`<until-seconds> <sha256 hex>` per line),
 * replaced atomically; expired lines are dropped when it is written. A lost
 * or unreadable file only means one more reply.
 */
export class VacationMemory {
  private static readonly locks = new Map<string, Promise<unknown>>();

  constructor(readonly file: string) {}

  static key(handle: string, sender: string): string {
    return crypto.createHash('sha256').update(`${handle}\0${sender.toLowerCase()}`).digest('hex');
  }

  private async read(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    let text = '';
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      const m = /^(\d+) ([0-9a-f]{64})$/.exec(line);
      if (m) out.set(m[2], Math.max(out.get(m[2]) ?? 0, Number(m[1])));
    }
    return out;
  }

  /** Whether `key` was answered and its period has not ended at `now`. */
  async answered(key: string, now = Date.now()): Promise<boolean> {
    const until = (await this.read()).get(key);
    return until !== undefined && until * 1000 > now;
  }

  /** Records a reply: no other for `key` until `seconds` from `now`. */
  record(key: string, seconds: number, now = Date.now()): Promise<void> {
    return this.locked(async () => {
      const entries = await this.read().catch(() => new Map<string, number>());
      entries.set(key, Math.floor(now / 1000) + seconds);
      const nowS = Math.floor(now / 1000);
      const text = [...entries].filter(([, until]) => until > nowS).map(([k, until]) => `${until} ${k}\n`).join('');
      const tmp = `${this.file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
      try {
        await fs.writeFile(tmp, text, { mode: 0o600 });
        await fs.rename(tmp, this.file);
      } catch (err) {
        await fs.unlink(tmp).catch(() => undefined);
        throw err;
      }
    });
  }

  /** One writer per file in this process (two deliveries to one user at once). */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const prev = VacationMemory.locks.get(this.file) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    VacationMemory.locks.set(this.file, tail);
    void tail.then(() => {
      if (VacationMemory.locks.get(this.file) === tail) VacationMemory.locks.delete(this.file);
    });
    return next;
  }
}
