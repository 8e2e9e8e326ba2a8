// SORT (RFC 5256 §3): sort criteria, and ordering matched messages by them.
import { BadError } from '../../wire/errors.js';
import type { Token } from '../../wire/parser.js';
import { parseAddressList } from '../../wire/envelope.js';
import type { Candidate } from './evaluate.js';
import type { MessageRef } from '../../mail/api.js';
import type { StoredSummary } from '../../wire/summary.js';
import { isMessageGone } from '../../mail/api.js';
import type { MailboxView } from '../tracker.js';
import { decodeWords } from '../../wire/header-values.js';
import { setImmediate as yieldLoop } from 'node:timers/promises';

export type SortKeyName = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';
export interface SortKey {
  key: SortKeyName;
  reverse: boolean;
}

const NAMES = new Set<string>(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']);

/** sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"; sort-criterion = ["REVERSE" SP] sort-key */
export function parseSortCriteria(t: Token | undefined): SortKey[] {
  if (!t || t.type !== 'list') throw new BadError('SORT: expected a parenthesised list of sort criteria');
  if (!t.items.length) throw new BadError('SORT: empty sort criteria');
  const out: SortKey[] = [];
  let reverse = false;
  for (const item of t.items) {
    if (item.type !== 'atom') throw new BadError('SORT: invalid sort criterion');
    const name = item.value.toUpperCase();
    if (name === 'REVERSE') {
      if (reverse) throw new BadError('SORT: REVERSE REVERSE');
      reverse = true;
      continue;
    }
    if (!NAMES.has(name)) throw new BadError(`SORT: unknown sort key ${name.slice(0, 32)}`);
    out.push({ key: name as SortKeyName, reverse });
    reverse = false;
  }
  if (reverse) throw new BadError('SORT: REVERSE must be followed by a sort key');
  return out;
}

/** The per-message values SORT and THREAD compare. */
export interface SortData {
  seq: number;
  uid: number;
  arrival: number;
  /** Date: header in UTC, or INTERNALDATE when missing or unparsable (RFC 5256 §3 DATE). */
  date: number;
  size: number;
  subject: Buffer;
  from: Buffer;
  to: Buffer;
  cc: Buffer;
  displayFrom: Buffer;
  displayTo: Buffer;
}

/** The header-derived values of one message, taken from its summary while its batch is read (only these are held). */
type HeaderKeys = Pick<SortData, 'subject' | 'from' | 'to' | 'cc' | 'displayFrom' | 'displayTo'> & { sentMs: number | null };

const EMPTY = Buffer.alloc(0);
/**
 * i;unicode-casemap (RFC 5051), as SORT compares (RFC 5256 §2.1): case-mapped,
 * then fully decomposed, so "échec" is "E" + U+0301 + … and sorts among the E's.
 */
const key = (s: string): Buffer => Buffer.from(s.toUpperCase().normalize('NFKD'), 'utf8');

const decoded = (raw: string | null): string | null => (raw === null ? null : decodeWords(raw));

/** The addr-mailbox of the first address (RFC 5256 §3); for a group, its start marker's, which holds the group name. */
function firstMailbox(value: string | null): string {
  return value === null ? '' : (parseAddressList(value)[0]?.mailbox ?? '');
}

/**
 * What SORT=DISPLAY compares (RFC 5957 §3): the first address's display name
 * (decoded) when it has a non-empty one, else its addr-spec; a group's name.
 */
function displayOf(value: string | null): string {
  if (value === null) return '';
  const a = parseAddressList(value)[0];
  if (!a) return '';
  const name = a.name === null ? '' : decodeWords(a.name).trim();
  if (name) return name;
  return a.host === null ? (a.mailbox ?? '') : `${a.mailbox ?? ''}@${a.host}`;
}

/**
 * Collects what `keys` need for every candidate (messages gone meanwhile are
 * left out). Header values come from the folder's index (summaries), so a
 * SORT of a synced folder reads no file.
 */
export async function collectSortData(view: MailboxView, cands: Candidate[], keys: Set<SortKeyName>): Promise<SortData[]> {
  const mailbox = view.mailbox;
  const valueKeys: SortKeyName[] = ['SUBJECT', 'FROM', 'TO', 'CC', 'DISPLAYFROM', 'DISPLAYTO'];
  const sortsByValue = valueKeys.some((k) => keys.has(k));
  const needValues = sortsByValue;
  const needHeader = needValues || keys.has('DATE');
  const pick = (s: StoredSummary): HeaderKeys => {
    const facts = sortsByValue ? s.sortFacts : null;
    return {
      sentMs: s.sentMs,
      subject: keys.has('SUBJECT') && facts ? key(facts.base.base) : EMPTY,
      from: keys.has('FROM') && facts ? key(firstMailbox(decoded(facts.fromRaw))) : EMPTY,
      to: keys.has('TO') && facts ? key(firstMailbox(decoded(facts.toRaw))) : EMPTY,
      cc: keys.has('CC') && facts ? key(firstMailbox(decoded(facts.ccRaw))) : EMPTY,
      displayFrom: keys.has('DISPLAYFROM') && facts ? key(displayOf(facts.fromRaw)) : EMPTY,
      displayTo: keys.has('DISPLAYTO') && facts ? key(displayOf(facts.toRaw)) : EMPTY,
    };
  };
  // SORT (DATE) of messages whose Date: an earlier SORT or THREAD read reads nothing.
  const datesKnown = needHeader && !needValues && cands.every((c) => c.meta.sentMs !== undefined);
  const summaries = needHeader && !datesKnown ? await mailbox.summaries(cands.map((c) => c.meta), pick) : null;
  const out: SortData[] = [];
  // A plain loop: values in memory cost no await (50,000 messages need not be 50,000 promises).
  for (let i = 0; i < cands.length; i++) {
    if ((i & 4095) === 4095) await yieldLoop(); // 50,000 messages: give the event loop back now and then
    const c = cands[i];
    const summary = summaries ? summaries[i] : null;
    if (summaries && !summary) continue; // gone meanwhile
    const sentMs = summary ? summary.sentMs : datesKnown ? (c.meta.sentMs ?? null) : null;
    const needArrival = keys.has('ARRIVAL') || (keys.has('DATE') && sentMs === null);
    let arrival = 0;
    let size = 0;
    try {
      if (needArrival) arrival = await arrivalOf(mailbox, c.meta);
      if (keys.has('SIZE')) size = c.meta.vsize ?? (await mailbox.vsizeOf(c.meta));
    } catch (err) {
      if (isMessageGone(err)) continue;
      throw err;
    }
    out.push({
      seq: c.seq,
      uid: c.uid,
      arrival,
      date: sentMs ?? arrival,
      size,
      subject: summary?.subject ?? EMPTY,
      from: summary?.from ?? EMPTY,
      to: summary?.to ?? EMPTY,
      cc: summary?.cc ?? EMPTY,
      displayFrom: summary?.displayFrom ?? EMPTY,
      displayTo: summary?.displayTo ?? EMPTY,
    });
  }
  return out;
}

/** INTERNALDATE in ms: from the message's metadata when known, else from the store. */
export async function arrivalOf(mailbox: MailboxView['mailbox'], meta: MessageRef): Promise<number> {
  return meta.mtimeMs ?? (await mailbox.internalDate(meta)).getTime();
}

function compareOne(a: SortData, b: SortData, k: SortKeyName): number {
  switch (k) {
    case 'ARRIVAL':
      return a.arrival - b.arrival;
    case 'DATE':
      return a.date - b.date;
    case 'SIZE':
      return a.size - b.size;
    case 'SUBJECT':
      return Buffer.compare(a.subject, b.subject);
    case 'FROM':
      return Buffer.compare(a.from, b.from);
    case 'TO':
      return Buffer.compare(a.to, b.to);
    case 'CC':
      return Buffer.compare(a.cc, b.cc);
    case 'DISPLAYFROM':
      return Buffer.compare(a.displayFrom, b.displayFrom);
    case 'DISPLAYTO':
      return Buffer.compare(a.displayTo, b.displayTo);
  }
}

/** Sorts by the criteria; exact ties keep mailbox order (RFC 5256 §3). */
export function sortBy(items: SortData[], keys: SortKey[]): SortData[] {
  return [...items].sort((a, b) => {
    for (const k of keys) {
      const d = compareOne(a, b, k.key);
      if (d !== 0) return k.reverse ? -d : d;
    }
    return a.seq - b.seq;
  });
}

const NUMERIC = new Set<SortKeyName>(['DATE', 'ARRIVAL', 'SIZE']);

/** A numeric key's value when the message's metadata holds it already (as collectSortData computes it), else undefined. */
function knownValue(meta: MessageRef, key: SortKeyName): number | undefined {
  if (key === 'ARRIVAL') return meta.mtimeMs ?? undefined;
  if (key === 'SIZE') return meta.vsize ?? undefined;
  // DATE: the Date: header, else INTERNALDATE (RFC 5256 §3); sentMs undefined means not read yet.
  if (meta.sentMs === undefined) return undefined;
  return meta.sentMs ?? meta.mtimeMs ?? undefined;
}

/**
 * The candidates' sort order (their places, sorted) for criteria of dates
 * and sizes only, when every value is in memory already (a folder sorted or
 * synced before): typed arrays, no object per message. At 50,000 messages
 * the general path's objects cost most of a warm SORT (DATE) in garbage
 * collection. Null when a key is not numeric or a value is not known: then
 * collectSortData reads them. Same order as sortBy: ties keep mailbox order.
 */
export function numericOrder(cands: readonly Candidate[], keys: readonly SortKey[]): Int32Array | null {
  if (!keys.every((k) => NUMERIC.has(k.key))) return null;
  const n = cands.length;
  const columns = keys.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const meta = cands[i].meta;
    for (let k = 0; k < keys.length; k++) {
      const v = knownValue(meta, keys[k].key);
      if (v === undefined) return null;
      columns[k][i] = v;
    }
  }
  const signs = keys.map((k) => (k.reverse ? -1 : 1));
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Candidates come in sequence order, so comparing places breaks ties by sequence number.
  return order.sort((a, b) => {
    for (let k = 0; k < columns.length; k++) {
      // A sign, not the difference: dates are past V8's small integers (a heap number per comparison).
      const x = columns[k][a];
      const y = columns[k][b];
      if (x !== y) return x < y ? -signs[k] : signs[k];
    }
    return a - b;
  });
}
