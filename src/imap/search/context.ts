// CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4): searches kept live with
// RETURN (UPDATE). While the folder changes the session hears
// `* ESEARCH (TAG "t") [UID] ADDTO (…)` / `REMOVEFROM (…)`, numbered as the
// search was (sequence numbers or UIDs, as Dovecot answers). A plain search
// has position 0 (§4.3); a sorted one gives each message's place in the order.
import type { SearchKey } from '../../wire/search-criteria.js';
import { searchView } from './evaluate.js';
import { collectSortData, sortBy, type SortKey, type SortKeyName } from './sort.js';
import type { MailboxView } from '../tracker.js';
import { formatSet } from '../../wire/sequence-set.js';

/** Live searches one session may hold (a client-controlled count: RFC 5267 §4.3 lets us refuse with NOUPDATE). */
export const MAX_LIVE_SEARCHES = 16;

export interface LiveSearch {
  tag: string;
  uid: boolean;
  key: SearchKey;
  /** Null for SEARCH; the order for SORT. */
  sort: SortKey[] | null;
  /** The UIDs it holds now: ascending for SEARCH, in sort order for SORT. */
  result: number[];
}

export class SearchContexts {
  // Both made at first use: most sessions never keep a search live.
  private live: Map<string, LiveSearch> | null = null;
  /** UIDs changed since the last refresh (arrivals, flag changes, this session's STOREs). */
  private touched: Set<number> | null = null;

  get size(): number {
    return this.live?.size ?? 0;
  }

  /** Keeps `s` live; false when the session already has MAX_LIVE_SEARCHES. A new search under a tag in use replaces it. */
  add(s: LiveSearch): boolean {
    this.live ??= new Map();
    if (!this.live.has(s.tag) && this.live.size >= MAX_LIVE_SEARCHES) return false;
    this.live.set(s.tag, s);
    return true;
  }

  has(tag: string): boolean {
    return this.live?.has(tag) === true;
  }

  /** CANCELUPDATE: false when no live search has that tag. */
  cancel(tag: string): boolean {
    return this.live?.delete(tag) === true;
  }

  /** Messages whose match may have changed; looked at by the next refresh. */
  touch(uids: Iterable<number>): void {
    if (!this.live?.size) return;
    this.touched ??= new Set();
    for (const u of uids) this.touched.add(u);
  }

  /**
   * REMOVEFROM lines for messages about to be announced expunged, numbered
   * as the client still knows them (so they go out before the EXPUNGEs, as
   * Dovecot sends them). The live results forget them.
   */
  expunging(view: MailboxView, gone: readonly number[]): string {
    if (!this.live?.size || !gone.length) return '';
    const goneSet = new Set(gone);
    let out = '';
    for (const s of this.live.values()) {
      const removed = s.result.filter((u) => goneSet.has(u));
      if (!removed.length) continue;
      out += line(s, 'REMOVEFROM', s.sort ? positioned(s.result, removed, view, s.uid) : flat(removed, view, s.uid));
      s.result = s.result.filter((u) => !goneSet.has(u));
    }
    for (const u of gone) this.touched?.delete(u);
    return out;
  }

  /** Looks again at what was touched; returns the ADDTO/REMOVEFROM lines to send (numbers as of now). */
  async refresh(view: MailboxView): Promise<string> {
    if (!this.live?.size || !this.touched?.size) return '';
    const touched = [...this.touched].filter((u) => view.seqOf(u) > 0 && !view.isExpunged(u)).sort((a, b) => a - b);
    this.touched = null;
    const live = this.live;
    if (!touched.length) return '';
    let out = '';
    for (const s of [...live.values()]) {
      const next = s.sort ? await sortedResult(view, s) : await searchResult(view, s, touched);
      if (live.get(s.tag) !== s) continue; // cancelled or replaced meanwhile
      const was = new Set(s.result);
      const now = new Set(next);
      const removed = s.result.filter((u) => !now.has(u) && view.seqOf(u) > 0);
      const added = next.filter((u) => !was.has(u));
      if (s.sort) {
        // Removals are placed in the old order, one by one; additions at their final places (RFC 5267 §4.4).
        if (removed.length) out += line(s, 'REMOVEFROM', positioned(s.result, removed, view, s.uid));
        if (added.length) out += line(s, 'ADDTO', added.map((u) => `${next.indexOf(u) + 1} ${num(u, view, s.uid)}`).join(' '));
        s.result = next;
      } else {
        if (removed.length) out += line(s, 'REMOVEFROM', flat(removed, view, s.uid));
        if (added.length) out += line(s, 'ADDTO', flat(added, view, s.uid));
        s.result = next;
      }
    }
    return out;
  }
}

function num(uid: number, view: MailboxView, byUid: boolean): number {
  return byUid ? uid : view.seqOf(uid);
}

/** `0 set` for an unsorted search: one position, the numbers as a set. */
function flat(uids: number[], view: MailboxView, byUid: boolean): string {
  const nums = uids.map((u) => num(u, view, byUid)).sort((a, b) => a - b);
  return `0 ${formatSet(nums)}`;
}

/** `pos n pos n …`: each removed message at its place in `order`, as if removed one after another. */
function positioned(order: number[], removed: number[], view: MailboxView, byUid: boolean): string {
  const rest = [...order];
  const out: string[] = [];
  const gone = new Set(removed);
  for (let i = 0; i < rest.length; ) {
    if (gone.has(rest[i])) {
      out.push(`${i + 1} ${num(rest[i], view, byUid)}`);
      rest.splice(i, 1);
    } else i++;
  }
  return out.join(' ');
}

function line(s: LiveSearch, what: 'ADDTO' | 'REMOVEFROM', data: string): string {
  return `* ESEARCH (TAG "${s.tag}")${s.uid ? ' UID' : ''} ${what} (${data})\r\n`;
}

/** The UIDs of `touched` the search matches now, merged into its result. */
async function searchResult(view: MailboxView, s: LiveSearch, touched: number[]): Promise<number[]> {
  const found = await searchView(view, { k: 'and', keys: [{ k: 'uid', set: touched.map((u) => [u, u]) }, s.key] });
  const matching = new Set(found.map((c) => c.uid));
  const touchedSet = new Set(touched);
  return [...s.result.filter((u) => !touchedSet.has(u) && view.seqOf(u) > 0), ...matching].sort((a, b) => a - b);
}

/** A sorted search done again whole: a change anywhere may move a message in the order. */
async function sortedResult(view: MailboxView, s: LiveSearch): Promise<number[]> {
  const found = await searchView(view, s.key);
  const data = await collectSortData(view, found, new Set<SortKeyName>(s.sort!.map((k) => k.key)));
  return sortBy(data, s.sort!).map((d) => d.uid);
}
