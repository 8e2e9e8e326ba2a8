// LIST and LSUB (RFC 3501 §6.3.8, §6.3.9) over the Maildir++ folders on disk,
// with LIST-EXTENDED (RFC 5258), CHILDREN (RFC 3348), SPECIAL-USE (RFC 6154)
// and LIST-STATUS (RFC 5819). Attributes come in Dovecot's order:
// \Subscribed, \Noselect or \NonExistent, \HasChildren or \HasNoChildren, special use.
import { ArgReader } from '../../wire/args.js';
import { quote } from '../../wire/encoder.js';
import { BadError } from '../../wire/errors.js';
import type { Token } from '../../wire/parser.js';
import { HIERARCHY_SEPARATOR, normalizeName, type FolderInfo } from '../../mail/api.js';
import { mailboxName, toClient } from './mailbox-name.js';
import { ListPattern, MAX_PATTERN_LENGTH } from '../../wire/list-pattern.js';
import { statusItems, statusLine } from './status.js';
import { AUTHED, type Command, type CommandContext } from './types.js';

/** A matcher for one pattern; INBOX is case-insensitive (§5.1), also as the first level of a name. */
function matcher(pattern: string): (name: string) => boolean {
  if ([...pattern].length > MAX_PATTERN_LENGTH) throw new BadError(`LIST: pattern longer than ${MAX_PATTERN_LENGTH} characters`);
  const exact = new ListPattern(pattern, HIERARCHY_SEPARATOR);
  const norm = new ListPattern(normalizeName(pattern), HIERARCHY_SEPARATOR);
  const upper = new ListPattern(pattern.toUpperCase(), HIERARCHY_SEPARATOR);
  return (name) =>
    exact.matches(name) || ((name === 'INBOX' || name.startsWith('INBOX' + HIERARCHY_SEPARATOR)) && (norm.matches(name) || (name === 'INBOX' && upper.matches(name))));
}

/** Patterns in one LIST-EXTENDED list: each name is matched against every one. */
const MAX_PATTERNS = 64;

interface ListOptions {
  extended: boolean;
  selSubscribed: boolean;
  selSpecialUse: boolean;
  recursive: boolean;
  retSubscribed: boolean;
  retChildren: boolean;
  retStatus: string[] | null;
}

/** A UTF-8 pattern in NFC, as fromClient() spells names, checked the same way (RFC 6855 §3). */
function clientPattern(pattern: string, utf8: boolean): string {
  if (!utf8) return pattern;
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(pattern)) throw new BadError('LIST: control character in pattern');
  return pattern.normalize('NFC');
}

function atomsOf(list: Token[], what: string): string[] {
  return list.map((t) => {
    if (t.type !== 'atom') throw new BadError(`LIST: invalid ${what}`);
    return t.value.toUpperCase();
  });
}

function parseOptions(r: ArgReader): { opts: ListOptions; reference: string; patterns: string[] } {
  const opts: ListOptions = { extended: false, selSubscribed: false, selSpecialUse: false, recursive: false, retSubscribed: false, retChildren: false, retStatus: null };
  if (r.peek()?.type === 'list') {
    opts.extended = true;
    let other = false;
    for (const o of atomsOf(r.list('selection options'), 'selection option')) {
      if (o === 'SUBSCRIBED') (opts.selSubscribed = true), (other = true);
      else if (o === 'SPECIAL-USE') (opts.selSpecialUse = true), (other = true);
      else if (o === 'RECURSIVEMATCH') opts.recursive = true;
      else if (o !== 'REMOTE') throw new BadError(`LIST: unknown selection option ${o.slice(0, 32)}`);
    }
    if (opts.recursive && !other) throw new BadError('LIST: RECURSIVEMATCH needs another selection option');
  }
  const reference = r.astring('reference');
  const p = r.any('mailbox pattern');
  let patterns: string[];
  if (p.type === 'list') {
    opts.extended = true;
    patterns = p.items.map((t) => {
      if (t.type === 'list') throw new BadError('LIST: invalid pattern');
      return t.type === 'atom' ? t.value : t.value.toString('utf8');
    });
    if (!patterns.length) throw new BadError('LIST: empty pattern list');
    if (patterns.length > MAX_PATTERNS) throw new BadError(`LIST: more than ${MAX_PATTERNS} patterns`);
  } else patterns = [p.type === 'atom' ? p.value : p.value.toString('utf8')];
  if (!r.done) {
    if (r.atom('RETURN').toUpperCase() !== 'RETURN') throw new BadError('LIST: expected RETURN');
    opts.extended = true;
    const list = r.list('return options');
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      const o = t.type === 'atom' ? t.value.toUpperCase() : '';
      if (o === 'SUBSCRIBED') opts.retSubscribed = true;
      else if (o === 'CHILDREN') opts.retChildren = true;
      else if (o === 'SPECIAL-USE') continue; // always returned
      else if (o === 'STATUS') {
        const items = list[++i];
        if (!items || items.type !== 'list') throw new BadError('LIST: STATUS needs a list of items');
        opts.retStatus = statusItems(items.items);
      } else throw new BadError('LIST: unknown return option');
    }
  }
  r.end();
  return { opts, reference, patterns };
}

export const list: Command = {
  names: ['LIST', 'LSUB'],
  states: AUTHED,
  async run(ctx) {
    if (ctx.name === 'LSUB') return lsub(ctx);
    const { conn } = ctx;
    const { opts, reference, patterns } = parseOptions(new ArgReader(ctx.args, 'LIST'));
    const sep = quote(HIERARCHY_SEPARATOR);
    if (patterns.length === 1 && patterns[0] === '') {
      // The hierarchy delimiter and root name (§6.3.8).
      conn.write(`* LIST (\\Noselect) ${sep} ""\r\n`);
      return;
    }
    const store = conn.store!;
    // With UTF8=ACCEPT the patterns are UTF-8 and match the names as the client reads them (RFC 6855 §3).
    const utf8 = conn.extensions.utf8;
    const matchers = patterns.map((p) => matcher(clientPattern(reference + p, utf8)));
    const matches = (n: string) => matchers.some((m) => m(toClient(n, utf8)));
    const folders = await store.folders();
    const byName = new Map<string, FolderInfo>(folders.map((f) => [f.name, f]));
    const subscribed = opts.selSubscribed || opts.retSubscribed ? await store.subscriptions() : new Set<string>();
    const candidates = [...folders.map((f) => f.name)];
    if (opts.selSubscribed) for (const s of [...subscribed].sort()) if (!byName.has(s)) candidates.push(s);
    const hasChildren = (n: string) => folders.some((c) => c.name.startsWith(n + HIERARCHY_SEPARATOR));

    let out = '';
    for (const name of candidates) {
      const f = byName.get(name);
      const isMatch = matches(name);
      let childInfo = false;
      let selected: boolean;
      if (opts.selSubscribed || opts.selSpecialUse) {
        const meets = (n: string) =>
          (!opts.selSubscribed || subscribed.has(n)) && (!opts.selSpecialUse || (byName.get(n)?.specialUse.length ?? 0) > 0);
        selected = isMatch && meets(name);
        if (isMatch && opts.recursive) {
          childInfo = candidates.some((c) => c.startsWith(name + HIERARCHY_SEPARATOR) && meets(c) && !matches(c));
          if (childInfo) selected = true;
        }
        // Plain SUBSCRIBED without RECURSIVEMATCH: a match that is not subscribed is left out.
      } else selected = isMatch;
      if (!selected) continue;

      const attrs: string[] = [];
      if ((opts.selSubscribed || opts.retSubscribed) && subscribed.has(name)) attrs.push('\\Subscribed');
      const exists = !!f && !f.noselect;
      if (!exists) attrs.push(opts.extended ? '\\NonExistent' : '\\Noselect');
      if (!opts.extended || opts.retChildren) {
        const children = f ? f.hasChildren : hasChildren(name);
        attrs.push(children ? '\\HasChildren' : '\\HasNoChildren');
      }
      if (f) attrs.push(...f.specialUse);
      out += `* LIST (${attrs.join(' ')}) ${sep} ${mailboxName(name, utf8)}${childInfo ? ' (CHILDINFO ("SUBSCRIBED"))' : ''}\r\n`;
      if (opts.retStatus && exists) {
        const mb = await store.mailbox(name).catch(() => null);
        if (mb) out += await statusLine(name, mb, opts.retStatus, conn.ctx.config.limits.maxAppendBytes, utf8, conn.extensions.rev2);
      }
    }
    conn.write(out);
  },
};

/** LSUB (RFC 3501 §6.3.9): subscribed names; a parent matched only through `%` is listed \Noselect. */
async function lsub(ctx: CommandContext): Promise<void> {
  const { conn } = ctx;
  const r = new ArgReader(ctx.args, 'LSUB');
  const reference = r.astring('reference');
  const pattern = r.astring('mailbox pattern');
  r.end();
  const sep = quote(HIERARCHY_SEPARATOR);
  if (pattern === '') {
    conn.write(`* LSUB (\\Noselect) ${sep} ""\r\n`);
    return;
  }
  const utf8 = conn.extensions.utf8;
  const matchPattern = matcher(clientPattern(reference + pattern, utf8));
  const matches = (n: string) => matchPattern(toClient(n, utf8));
  const subscribed = await conn.store!.subscriptions();
  subscribed.add('INBOX'); // listed whether or not the file names it: clients that only show LSUB must see it
  const names = ['INBOX', ...[...subscribed].filter((n) => n !== 'INBOX').sort()];
  const lines = new Map<string, string>();
  for (const n of names) {
    if (matches(n)) {
      lines.set(n, '');
      continue;
    }
    const parts = n.split(HIERARCHY_SEPARATOR);
    for (let i = parts.length - 1; i > 0; i--) {
      const parent = parts.slice(0, i).join(HIERARCHY_SEPARATOR);
      if (matches(parent) && !subscribed.has(parent) && !lines.has(parent)) lines.set(parent, '\\Noselect');
    }
  }
  let out = '';
  for (const [n, attrs] of lines) out += `* LSUB (${attrs}) ${sep} ${mailboxName(n, utf8)}\r\n`;
  conn.write(out);
}
