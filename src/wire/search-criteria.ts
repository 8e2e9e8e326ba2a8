// SEARCH criteria (RFC 3501 §6.4.4, search-key in §9) parsed from tokens into
// a tree the evaluator walks. Anything malformed is a BadError.
import { BadError, NoError } from './errors.js';
import { parseSequenceSet, type Range } from './sequence-set.js';
import { isAtom, type Token } from './parser.js';

export type DateOp = 'before' | 'on' | 'since';

export type SearchKey =
  | { k: 'all' }
  | { k: 'flag'; flag: string; set: boolean } // \Answered … and KEYWORD / UNKEYWORD
  | { k: 'recent'; set: boolean }
  | { k: 'header'; field: string; value: string } // value folded; '' = "has the field"
  | { k: 'body'; value: string }
  | { k: 'text'; value: string }
  | { k: 'date'; sent: boolean; op: DateOp; day: number }
  | { k: 'savedate'; op: DateOp; day: number } // RFC 8514 §4: SAVEDBEFORE, SAVEDON, SAVEDSINCE
  | { k: 'emailid'; id: string } // RFC 8474 §6
  | { k: 'size'; larger: boolean; n: number }
  | { k: 'age'; older: boolean; seconds: number } // RFC 5032 WITHIN: OLDER / YOUNGER, by INTERNALDATE
  | { k: 'seq'; set: Range[] }
  | { k: 'uid'; set: Range[] }
  | { k: 'modseq'; n: number } // RFC 7162 §3.1.5: mod-sequence at least n
  | { k: 'saved' } // RFC 5182 "$": the messages of the last RETURN (SAVE), as a sequence or UID set
  | { k: 'not'; key: SearchKey }
  | { k: 'or'; a: SearchKey; b: SearchKey }
  | { k: 'and'; keys: SearchKey[] };

/** Charsets whose strings we can read (RFC 3501 §6.4.4: US-ASCII MUST, UTF-8 in practice). */
export const CHARSETS = ['UTF-8', 'US-ASCII'];

/** Throws NO [BADCHARSET (…)] for a charset we cannot search in. */
export function checkCharset(name: string): void {
  if (!CHARSETS.includes(name.toUpperCase())) throw new NoError(`Unsupported charset ${name.slice(0, 40)}`, `BADCHARSET (${CHARSETS.join(' ')})`);
}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};

const HEADER_KEYS: Record<string, string> = { BCC: 'bcc', CC: 'cc', FROM: 'from', SUBJECT: 'subject', TO: 'to' };
const DATE_KEYS: Record<string, [boolean, DateOp]> = {
  BEFORE: [false, 'before'],
  ON: [false, 'on'],
  SINCE: [false, 'since'],
  SENTBEFORE: [true, 'before'],
  SENTON: [true, 'on'],
  SENTSINCE: [true, 'since'],
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** RFC 3501 date: date-day "-" date-month "-" date-year, optionally quoted. Days since the epoch. */
export function parseSearchDate(text: string): number {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  const month = m ? MONTHS.indexOf(m[2].toUpperCase()) : -1;
  if (!m || month < 0) throw new BadError(`Invalid search date ${JSON.stringify(text.slice(0, 40))}`);
  const day = Number(m[1]);
  const year = Number(m[3]);
  const t = Date.UTC(year, month, day);
  if (day < 1 || new Date(t).getUTCDate() !== day) throw new BadError(`Invalid search date ${JSON.stringify(text)}`);
  return Math.floor(t / 86_400_000);
}

export interface ParseOptions {
  /** Decodes search strings; by default UTF-8. */
  charset?: string;
  /** Maximum nesting of parenthesised lists / NOT / OR. */
  maxDepth?: number;
}

/** Parses a whole search program (one or more keys, ANDed). */
export function parseCriteria(tokens: Token[], opts: ParseOptions = {}): SearchKey {
  if (!tokens.length) throw new BadError('SEARCH: missing search criteria');
  const p = new CriteriaParser(tokens, opts.maxDepth ?? 64);
  const keys: SearchKey[] = [];
  while (!p.done) keys.push(p.key(0));
  return keys.length === 1 ? keys[0] : { k: 'and', keys };
}

export class CriteriaParser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly maxDepth: number,
  ) {}

  get done(): boolean {
    return this.i >= this.tokens.length;
  }

  private next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new BadError(`SEARCH: missing ${what}`);
    return t;
  }

  private astring(what: string): string {
    const t = this.next(what);
    if (t.type === 'list') throw new BadError(`SEARCH: expected ${what}, got a list`);
    return t.type === 'atom' ? t.value : t.value.toString('utf8');
  }

  private atom(what: string): string {
    const t = this.next(what);
    if (t.type !== 'atom') throw new BadError(`SEARCH: expected ${what}`);
    return t.value;
  }

  private number(what: string): number {
    const s = this.atom(what);
    if (!/^\d{1,10}$/.test(s) || Number(s) > 0xffffffff) throw new BadError(`SEARCH: invalid ${what}`);
    return Number(s);
  }

  /** MODSEQ [entry-name entry-type] mod-sequence: the metadata entry names one flag's modseq; we keep one per message, which the RFC allows (§3.1.5). */
  private modseq(): SearchKey {
    const first = this.next('mod-sequence');
    if (first.type === 'string') {
      const type = this.atom('entry type').toLowerCase();
      if (!['priv', 'shared', 'all'].includes(type)) throw new BadError('SEARCH: MODSEQ entry type must be priv, shared or all');
      return this.modseq();
    }
    if (first.type !== 'atom' || !/^\d{1,19}$/.test(first.value)) throw new BadError('SEARCH: invalid mod-sequence');
    return { k: 'modseq', n: Number(first.value) };
  }

  /** Whether the parsed criteria use MODSEQ (the result then carries the highest modseq). */
  static usesModseq(key: SearchKey): boolean {
    switch (key.k) {
      case 'modseq':
        return true;
      case 'not':
        return CriteriaParser.usesModseq(key.key);
      case 'or':
        return CriteriaParser.usesModseq(key.a) || CriteriaParser.usesModseq(key.b);
      case 'and':
        return key.keys.some(CriteriaParser.usesModseq);
      default:
        return false;
    }
  }

  key(depth: number): SearchKey {
    if (depth > this.maxDepth) throw new BadError('SEARCH: criteria nested too deeply');
    const t = this.next('search key');
    if (t.type === 'list') {
      if (!t.items.length) throw new BadError('SEARCH: empty parenthesised list');
      const sub = new CriteriaParser(t.items, this.maxDepth);
      const keys: SearchKey[] = [];
      while (!sub.done) keys.push(sub.key(depth + 1));
      return keys.length === 1 ? keys[0] : { k: 'and', keys };
    }
    if (t.type === 'string') throw new BadError('SEARCH: expected a search key, got a string');
    const name = t.value.toUpperCase();
    if (name in FLAG_KEYS) {
      const [flag, set] = FLAG_KEYS[name];
      return { k: 'flag', flag, set };
    }
    if (name in HEADER_KEYS) return { k: 'header', field: HEADER_KEYS[name], value: foldHeaderKey(this.astring('search string')) };
    if (name in DATE_KEYS) {
      const [sent, op] = DATE_KEYS[name];
      return { k: 'date', sent, op, day: parseSearchDate(this.astring('date')) };
    }
    switch (name) {
      case 'ALL':
      case 'SAVEDATESUPPORTED': // RFC 8514 §4: every folder of ours has save dates
        return { k: 'all' };
      case 'EMAILID':
      case 'THREADID': {
        const id = this.astring('objectid');
        if (!/^[A-Za-z0-9_-]{1,255}$/.test(id)) throw new BadError(`SEARCH: invalid ${name} objectid`); // RFC 8474 §7
        // Every THREADID is NIL here (RFC 8474 §5.2), so THREADID matches nothing.
        return name === 'EMAILID' ? { k: 'emailid', id } : { k: 'not', key: { k: 'all' } };
      }
      case 'SAVEDBEFORE':
      case 'SAVEDON':
      case 'SAVEDSINCE':
        return { k: 'savedate', op: name.slice(5).toLowerCase() as DateOp, day: parseSearchDate(this.astring('date')) };
      case 'NEW':
        return { k: 'and', keys: [{ k: 'recent', set: true }, { k: 'flag', flag: '\\Seen', set: false }] };
      case 'OLD':
        return { k: 'recent', set: false };
      case 'RECENT':
        return { k: 'recent', set: true };
      case 'KEYWORD':
      case 'UNKEYWORD': {
        const kw = this.atom('keyword');
        if (!/^[!#$&'+\-.0-9:<=>?@A-Z^_`a-z|~;,]+$/.test(kw)) throw new BadError('SEARCH: invalid keyword');
        return { k: 'flag', flag: kw, set: name === 'KEYWORD' };
      }
      case 'HEADER': {
        const field = this.astring('header field name');
        if (!/^[\x21-\x39\x3b-\x7e]+$/.test(field)) throw new BadError('SEARCH: invalid header field name');
        return { k: 'header', field: field.toLowerCase(), value: foldHeaderKey(this.astring('search string')) };
      }
      case 'BODY':
        return { k: 'body', value: foldKey(this.astring('search string')) };
      case 'TEXT':
        return { k: 'text', value: foldKey(this.astring('search string')) };
      case 'OLDER':
      case 'YOUNGER': {
        const seconds = this.number('interval');
        if (seconds === 0) throw new BadError(`SEARCH: ${name} needs a non-zero interval`); // RFC 5032 nz-number
        return { k: 'age', older: name === 'OLDER', seconds };
      }
      case 'LARGER':
      case 'SMALLER':
        return { k: 'size', larger: name === 'LARGER', n: this.number('size') };
      case 'UID': {
        const set = this.atom('UID set');
        return set === '$' ? { k: 'saved' } : { k: 'uid', set: parseSequenceSet(set) };
      }
      case '$':
        return { k: 'saved' };
      case 'MODSEQ':
        return this.modseq();
      case 'NOT':
        return { k: 'not', key: this.key(depth + 1) };
      case 'OR': {
        const a = this.key(depth + 1);
        const b = this.key(depth + 1);
        return { k: 'or', a, b };
      }
    }
    if (/^[\d*]/.test(name)) return { k: 'seq', set: parseSequenceSet(t.value) };
    throw new BadError(`SEARCH: unknown search key ${name.slice(0, 32)}`);
  }
}

/** Header values are searched with their whitespace collapsed (facts.ts), so the key is too. */
function foldHeaderKey(s: string): string {
  return foldKey(s.replace(/\s+/g, ' '));
}

/** Search strings are matched case-insensitively (see facts.fold). */
function foldKey(s: string): string {
  return s.normalize('NFC').toLowerCase();
}

/** Whether evaluating `key` needs the message header or body (to order cheap checks first). */
export function cost(key: SearchKey): number {
  switch (key.k) {
    case 'header':
    case 'date':
      return key.k === 'date' && !key.sent ? 1 : 2;
    case 'size':
    case 'age':
    case 'savedate':
      return 1;
    case 'body':
    case 'text':
      return 3;
    case 'not':
      return cost(key.key);
    case 'or':
      return Math.max(cost(key.a), cost(key.b));
    case 'and':
      return Math.max(0, ...key.keys.map(cost));
    default:
      return 0;
  }
}

/** `[CHARSET name] criteria…`: checks the charset, parses the rest. */
export function charsetAndCriteria(args: Token[], what: string, charsetRequired: boolean): SearchKey {
  let rest = args;
  if (charsetRequired) {
    const cs = rest[0];
    if (!cs || cs.type === 'list') throw new BadError(`${what}: missing charset`);
    checkCharset(cs.type === 'atom' ? cs.value : cs.value.toString('utf8'));
    rest = rest.slice(1);
  } else if (isAtom(rest[0], 'CHARSET')) {
    const cs = rest[1];
    if (!cs || cs.type === 'list') throw new BadError(`${what}: missing charset`);
    checkCharset(cs.type === 'atom' ? cs.value : cs.value.toString('utf8'));
    rest = rest.slice(2);
  }
  if (!rest.length) throw new BadError(`${what}: missing search criteria`);
  return parseCriteria(rest);
}

