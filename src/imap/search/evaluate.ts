// Evaluating a parsed search program against the messages of one session's
// view (RFC 3501 §6.4.4). Cheap keys (flags, sequence sets) are checked
// before anything that needs the message file; header facts and body text
// come from the facts cache in src/mail/facts.ts.
import { cost, type SearchKey } from '../../wire/search-criteria.js';
import { mergeRanges, inMergedRanges, type Range } from '../../wire/sequence-set.js';
import { type HeaderFacts, type MessageRef, type TextHint } from '../../mail/api.js';
import type { MailboxView } from '../tracker.js';
import { localDay } from '../../wire/header-values.js';
import { mapPresent } from './pool.js';

export interface Candidate {
  seq: number;
  uid: number;
  meta: MessageRef;
}

class Subject {
  private header: Promise<HeaderFacts> | null = null;
  private body: Promise<Map<string, boolean>> | null = null;
  constructor(
    readonly view: MailboxView,
    readonly c: Candidate,
    readonly hints: Map<SearchKey, TextHint> | null,
    /** Every TEXT/BODY value of the program: the body is looked at once for all of them. */
    private readonly needles: string[],
  ) {}
  facts(): Promise<HeaderFacts> {
    return (this.header ??= this.view.mailbox.headerFacts(this.c.meta));
  }
  async bodyHas(needle: string): Promise<boolean> {
    this.body ??= this.view.mailbox.bodyMatches(this.c.meta, this.needles).then((found) => new Map(this.needles.map((n, i) => [n, found[i]])));
    return (await this.body).get(needle) ?? false;
  }
}

/**
 * The messages of `view` (in sequence order) that match `key`. Messages
 * expunged meanwhile (still numbered in this view) and files that vanished
 * never match.
 */
export async function searchView(view: MailboxView, key: SearchKey): Promise<Candidate[]> {
  const uids = view.uidList;
  const ctx: EvalContext = { exists: uids.length, maxUid: uids.length ? uids[uids.length - 1] : 0, now: Date.now(), merged: new Map(), saved: new Set(view.savedSearch) };
  const program = simplify(key);
  if (program.k === 'all') {
    // SORT/THREAD … ALL, SEARCH ALL: every message still there, with no per-message await.
    const all: Candidate[] = [];
    uids.forEach((uid, i) => {
      const meta = view.meta(uid);
      if (meta && !view.isExpunged(uid)) all.push({ seq: i + 1, uid, meta });
    });
    return all;
  }
  const { hints, only, needles } = await textHints(view, program);
  const todo = only ? [...only].map((u) => view.seqOf(u) - 1).filter((i) => i >= 0).sort((a, b) => a - b) : uids.map((_, i) => i);
  const results = await mapPresent(todo, async (i) => {
    const uid = uids[i];
    const meta = view.meta(uid);
    if (!meta || view.isExpunged(uid)) return null;
    const cand: Candidate = { seq: i + 1, uid, meta };
    return (await evalKey(program, new Subject(view, cand, hints, needles), ctx)) ? cand : null;
  });
  return results.filter((r): r is Candidate => r !== null);
}

/**
 * The text index's answers for the TEXT/BODY keys of `program` (see
 * text-index.ts: a hint says exactly which messages match, which must be
 * evaluated, and that no other one matches, so using it under NOT/OR is
 * exact too), and, when the program is such a key or an AND with some, the
 * only messages that can match at all.
 */
async function textHints(view: MailboxView, program: SearchKey): Promise<{ hints: Map<SearchKey, TextHint> | null; only: Set<number> | null; needles: string[] }> {
  const keys: Array<Extract<SearchKey, { k: 'text' | 'body' }>> = [];
  const walk = (k: SearchKey): void => {
    if (k.k === 'text' || k.k === 'body') keys.push(k);
    else if (k.k === 'not') walk(k.key);
    else if (k.k === 'or') {
      walk(k.a);
      walk(k.b);
    }
    else if (k.k === 'and') k.keys.forEach(walk);
  };
  walk(program);
  const needles = [...new Set(keys.map((k) => k.value))];
  if (!keys.length) return { hints: null, only: null, needles };
  const hints = new Map<SearchKey, TextHint>();
  for (const k of keys) {
    const h = await view.mailbox.textHint(view, k.value, k.k === 'body');
    if (h) hints.set(k, h);
  }
  let only = null as Set<number> | null;
  for (const k of program.k === 'and' ? program.keys : [program]) {
    const h = hints.get(k);
    if (!h) continue;
    const here = new Set([...h.match, ...h.maybe]);
    only = only ? intersect(only, here) : here;
  }
  return { hints: hints.size ? hints : null, only, needles };
}

function intersect(a: Set<number>, b: Set<number>): Set<number> {
  const out = new Set<number>();
  for (const x of a) if (b.has(x)) out.add(x);
  return out;
}

interface EvalContext {
  exists: number;
  maxUid: number;
  /** One clock reading for the whole search (OLDER/YOUNGER). */
  now: number;
  /** Each sequence set of the program merged once per search, not scanned range by range per message. */
  merged: Map<Range[], Range[]>;
  /** The saved result (RFC 5182 "$") as it was when this search began. */
  saved: Set<number>;
}

/** Orders AND lists cheapest first, so a flag test can spare a file read. */
function simplify(key: SearchKey): SearchKey {
  switch (key.k) {
    case 'and':
      return { k: 'and', keys: key.keys.map(simplify).sort((a, b) => cost(a) - cost(b)) };
    case 'or':
      return { k: 'or', a: simplify(key.a), b: simplify(key.b) };
    case 'not':
      return { k: 'not', key: simplify(key.key) };
    default:
      return key;
  }
}

function inRanges(n: number, ranges: Range[], star: number, ctx: EvalContext): boolean {
  let merged = ctx.merged.get(ranges);
  if (!merged) ctx.merged.set(ranges, (merged = mergeRanges(ranges, star)));
  return inMergedRanges(n, merged);
}

function compareDay(day: number, op: 'before' | 'on' | 'since', ref: number): boolean {
  return op === 'before' ? day < ref : op === 'on' ? day === ref : day >= ref;
}

async function evalKey(key: SearchKey, m: Subject, ctx: EvalContext): Promise<boolean> {
  const { view, c } = m;
  switch (key.k) {
    case 'all':
      return true;
    case 'flag': {
      const want = key.flag.toLowerCase();
      const has = view.flagsOf(c.meta).some((f) => f.toLowerCase() === want);
      return has === key.set;
    }
    case 'recent':
      return view.isRecent(c.uid) === key.set; // never true under IMAP4rev2: NEW matches nothing, OLD everything
    case 'seq':
      return inRanges(c.seq, key.set, ctx.exists, ctx);
    case 'uid':
      return inRanges(c.uid, key.set, ctx.maxUid, ctx);
    case 'modseq':
      return c.meta.modseq >= key.n;
    case 'emailid':
      return view.mailbox.emailId(c.meta) === key.id;
    case 'saved':
      return ctx.saved.has(c.uid);
    case 'size': {
      const size = await view.mailbox.vsizeOf(c.meta);
      return key.larger ? size > key.n : size < key.n;
    }
    case 'date': {
      if (key.sent) {
        // No (parsable) Date: counts as 1970-01-01, as in Dovecot; RFC 3501 leaves it open.
        const day = (await m.facts()).sentDay ?? 0;
        return compareDay(day, key.op, key.day);
      }
      return compareDay(localDay(await view.mailbox.internalDate(c.meta)), key.op, key.day);
    }
    case 'savedate': {
      const saved = await view.mailbox.saveDate(c.meta);
      return saved !== null && compareDay(localDay(saved), key.op, key.day);
    }
    case 'age': {
      // RFC 5032: OLDER n is INTERNALDATE at least n seconds ago, YOUNGER n less than that.
      const age = ctx.now - (await view.mailbox.internalDate(c.meta)).getTime();
      return key.older ? age >= key.seconds * 1000 : age < key.seconds * 1000;
    }
    case 'header': {
      const h = await m.facts();
      for (const f of h.fields) if (f.lower === key.field && (f.folded.includes(key.value) || f.addresses?.includes(key.value))) return true;
      return false;
    }
    case 'body':
    case 'text': {
      const hint = m.hints?.get(key);
      if (hint && !hint.maybe.has(c.uid)) return hint.match.has(c.uid);
      if (key.k === 'body') return m.bodyHas(key.value);
      return (await m.facts()).headerFolded.includes(key.value) || (await m.bodyHas(key.value));
    }
    case 'not':
      return !(await evalKey(key.key, m, ctx));
    case 'or':
      return (await evalKey(key.a, m, ctx)) || (await evalKey(key.b, m, ctx));
    case 'and':
      for (const k of key.keys) if (!(await evalKey(k, m, ctx))) return false;
      return true;
  }
}

