// What FETCH, SORT and THREAD need of many messages at once — summaries
// (ENVELOPE, BODYSTRUCTURE, header fields, sort facts), CRLF sizes, dates, and
// whole small messages — from the folder's index, or read and summarised in
// the loader's worker threads (a few, or after a rename, read here), and
// recorded in the index for next time. The protocol renders the responses
// (imap/fetch/fast.ts); this is the store's half of the fast path.
import { summarize, StoredSummary } from '../wire/summary.js';
import { readWithDate } from './content.js';
import { loaderPool, bigLoader, type LoadJob } from './loader.js';
import type { Mailbox, MessageMeta } from './mailbox.js';
import type { RecordLease } from './message-index.js';
import type { MessageNeeds, Outcome, Prepared, PreparedBatch } from './handles.js';
import { MailError, mailErrorOf, isMessageGone } from './errors.js';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { promises as fs } from 'node:fs';

/** Messages bigger than this are streamed by the general path, never held whole. */
export const WHOLE_LIMIT = 1024 * 1024;
/** Messages per batch for SORT and THREAD summaries. */
const BATCH = 512;
const READS_IN_FLIGHT = 16;
/** Fewer file reads than this in a batch are done here; more go to the loader's worker threads. */
const POOL_MIN = 8;
/**
 * A message to read here that is bigger than this is summarised in a loader
 * thread all the same: a summary costs ~0.1 ms per KiB at worst (50,000 MIME
 * parts, 100,000 header lines), and on the event loop every other session
 * waits for it (issue 13 F).
 */
const SUMMARIZE_HERE_MAX = 256 * 1024;

/** The summary of a message from the index (or a batch's `lease` of it), if it has one (with the MIME structure, if `structure`). */
export function cachedSummary(mailbox: Mailbox, meta: MessageMeta, structure = false, withEnvelope = false, lease?: RecordLease): StoredSummary | null {
  const rec = lease?.records.get(meta.basename) ?? mailbox.index.get(meta.basename);
  if (!rec) return null;
  learnSizeAndDate(meta, rec.vsize, rec.mtimeMs);
  let s = rec.decoded as StoredSummary | null | undefined;
  if (s === undefined) s = rec.decoded = StoredSummary.from(rec.summary); // null for an unreadable record: summarised again
  return s && (s.hasStructure || !structure) && (s.hasEnvelope || !withEnvelope) ? s : null;
}

/** A message's CRLF size and INTERNALDATE from its index record, unless it knows them already. */
function learnSizeAndDate(meta: MessageMeta, vsize: number, mtimeMs: number): void {
  meta.vsize ??= vsize;
  meta.mtimeMs ??= mtimeMs;
}

/** Reads a message, summarises it, and records the summary in the index. */
export async function readAndSummarize(mailbox: Mailbox, meta: MessageMeta, keepData: boolean, summaryWanted: boolean, structure: boolean, withEnvelope: boolean): Promise<Prepared> {
  const { crlf, mtimeMs } = await readWithDate(mailbox, meta);
  let summary = cachedSummary(mailbox, meta, structure, withEnvelope);
  if (!summary && summaryWanted) {
    const stored = summarize(crlf, structure, withEnvelope);
    if (mailbox.settled(meta)) mailbox.index.put(meta.basename, { mtimeMs, vsize: crlf.length, summary: stored });
    summary = StoredSummary.from(stored);
  }
  return { summary, vsize: crlf.length, mtimeMs, data: keepData ? crlf : null };
}

/**
 * A message too big to summarise on the event loop, summarised in the
 * one-thread loader (its file read there too); null when it is small, or the
 * thread could not do it (renamed meanwhile, a worker that died): then it is
 * read and summarised here.
 */
async function summarizeBig(mailbox: Mailbox, meta: MessageMeta, needs: MessageNeeds): Promise<Prepared | null> {
  if (!needs.summary || needs.whole || cachedSummary(mailbox, meta, needs.structure, needs.envelope)) return null;
  const size = (await mailbox.withFile(meta, (f) => fs.stat(f))).size;
  if (size <= SUMMARIZE_HERE_MAX) return null;
  let r;
  try {
    r = await bigLoader.load({ file: mailbox.pathOf(meta), summary: needs.structure ? 'full' : needs.envelope ? 'envelope' : 'header', data: false, maxData: 0 });
  } catch {
    return null;
  }
  if (!r.ok || !r.summary) return null;
  const stored = Buffer.from(r.summary.buffer, r.summary.byteOffset, r.summary.byteLength);
  // A file that may still be being written is answered as read, never kept (see Mailbox.settled).
  if (mailbox.settled(meta)) {
    meta.vsize ??= r.vsize;
    meta.mtimeMs ??= r.mtimeMs;
    mailbox.index.put(meta.basename, { mtimeMs: r.mtimeMs, vsize: r.vsize, summary: stored });
  }
  return { summary: StoredSummary.from(stored), vsize: r.vsize, mtimeMs: r.mtimeMs, data: null };
}

function prepareNow(mailbox: Mailbox, meta: MessageMeta, needs: MessageNeeds, lease: RecordLease): Prepared | null {
  if (needs.whole) return null;
  const summary = needs.summary ? cachedSummary(mailbox, meta, needs.structure, needs.envelope, lease) : null;
  if (needs.summary && !summary) return null;
  if ((needs.size && meta.vsize === null) || (needs.date && meta.mtimeMs === null)) {
    // Without a summary wanted, the index may still know the size and date (cachedSummary copies them).
    const rec = lease.records.get(meta.basename) ?? mailbox.index.get(meta.basename);
    meta.vsize ??= rec?.vsize ?? null;
    meta.mtimeMs ??= rec?.mtimeMs ?? null;
    if ((needs.size && meta.vsize === null) || (needs.date && meta.mtimeMs === null)) return null;
  }
  return { summary, vsize: meta.vsize ?? 0, mtimeMs: meta.mtimeMs ?? 0, data: null };
}

async function prepareLater(mailbox: Mailbox, meta: MessageMeta, needs: MessageNeeds): Promise<Outcome> {
  if (needs.whole && (meta.vsize ?? 0) > WHOLE_LIMIT) return 'slow';
  if (!needs.summary && !needs.whole) {
    // Only a size or a date is missing: no need to parse anything.
    const vsize = needs.size ? await mailbox.vsizeOf(meta) : 0;
    const mtimeMs = needs.date ? (await mailbox.internalDate(meta)).getTime() : 0;
    return { summary: null, vsize, mtimeMs, data: null };
  }
  const big = await summarizeBig(mailbox, meta, needs);
  if (big) return big;
  const p = await readAndSummarize(mailbox, meta, needs.whole, needs.summary, needs.structure, needs.envelope);
  if (p.data && p.data.length > WHOLE_LIMIT) return 'slow';
  return p;
}

/**
 * Everything one batch's responses need: from memory, the worker pool, or (a
 * few, or after a rename) read here. Summaries from the index are valid until
 * the batch's `release()` (see RecordLease).
 */
export async function prepareBatch(mailbox: Mailbox, metas: Array<MessageMeta | null>, needs: MessageNeeds): Promise<PreparedBatch> {
  // The index's records of this batch in a few reads, so what follows finds them in memory.
  const wanted = (m: MessageMeta | null): m is MessageMeta => !!m && (needs.summary || (needs.size && m.vsize === null) || (needs.date && m.mtimeMs === null));
  const lease = await mailbox.index.lease(metas.filter(wanted).map((m) => m.basename));
  const outcomes: Array<Outcome | null> = metas.map((m) => (m ? prepareNow(mailbox, m, needs, lease) : 'gone'));
  const later = outcomes.flatMap((o, j) => (o === null ? [j] : []));
  if (later.length >= POOL_MIN) await loadInPool(mailbox, metas as MessageMeta[], later, outcomes, needs, lease);
  const rest = later.filter((j) => outcomes[j] === null);
  let n = 0;
  const reader = async () => {
    while (n < rest.length) {
      const j = rest[n++];
      try {
        outcomes[j] = await prepareLater(mailbox, metas[j]!, needs);
      } catch (err) {
        if (isMessageGone(err)) outcomes[j] = 'gone';
        else outcomes[j] = { unreadable: unreadableFault(mailbox, metas[j]!, err) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, rest.length) }, reader));
  return { metas, outcomes, release: () => lease.release() };
}

/**
 * Loads the messages at `later` in the worker pool. Outcomes it cannot settle
 * (a file renamed or gone meanwhile, a worker that died) stay null, for the
 * in-process path, which resyncs the folder and knows a vanished message.
 */
async function loadInPool(mailbox: Mailbox, metas: MessageMeta[], later: number[], outcomes: Array<Outcome | null>, needs: MessageNeeds, lease: RecordLease): Promise<void> {
  const jobs: LoadJob[] = later.map((j) => ({
    file: mailbox.pathOf(metas[j]),
    summary: !needs.summary || cachedSummary(mailbox, metas[j], needs.structure, needs.envelope, lease) ? 'none' : needs.structure ? 'full' : needs.envelope ? 'envelope' : 'header',
    data: needs.whole,
    maxData: WHOLE_LIMIT,
  }));
  let results;
  try {
    results = await loaderPool.load(jobs, (release) => lease.also(release));
  } catch {
    return;
  }
  results.forEach((r, k) => {
    if (!r.ok) return;
    const j = later[k];
    const meta = metas[j];
    // A file that may still be being written is answered as read, never kept (see Mailbox.settled).
    const keep = mailbox.settled(meta);
    if (keep) {
      meta.vsize ??= r.vsize;
      meta.mtimeMs ??= r.mtimeMs;
    }
    let summary: StoredSummary | null = null;
    if (r.summary) {
      const stored = Buffer.from(r.summary.buffer, r.summary.byteOffset, r.summary.byteLength);
      if (keep) mailbox.index.put(meta.basename, { mtimeMs: r.mtimeMs, vsize: r.vsize, summary: stored });
      summary = StoredSummary.from(stored);
    } else if (needs.summary) summary = cachedSummary(mailbox, meta, needs.structure, needs.envelope, lease);
    if (needs.summary && !summary) return;
    if (needs.whole && !r.data) {
      outcomes[j] = 'slow';
      return;
    }
    const data = r.data ? Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength) : null;
    outcomes[j] = { summary, vsize: r.vsize, mtimeMs: r.mtimeMs, data };
  });
}

/**
 * What `pick` takes from the header summaries of many messages (for SORT and
 * THREAD), from the index or read in the worker pool; null for a message gone
 * meanwhile. Batch by batch: the records read for one batch go before the next.
 * `pick` may not keep the StoredSummary it is given (one reader goes from
 * record to record): it copies what it takes.
 */
export async function summariesFor<T>(mailbox: Mailbox, metas: MessageMeta[], pick: (s: StoredSummary) => T): Promise<Array<T | null>> {
  const needs: MessageNeeds = { summary: true, structure: false, envelope: false, size: false, date: false, whole: false };
  const out: Array<T | null> = [];
  const reader = StoredSummary.reader();
  for (let i = 0; i < metas.length; i += BATCH) {
    const batch = metas.slice(i, i + BATCH);
    // Most come from the index, picked while the record is in the read buffer; the rest are read and summarised.
    const got = new Array<T | null | undefined>(batch.length);
    await mailbox.index.forEachRecord(
      batch.map((m) => m.basename),
      (k, b, start, end, mtimeMs, vsize) => {
        if (!reader.at(b, start, end)) return;
        const meta = batch[k];
        meta.sentMs = reader.sentMs;
        got[k] = pick(reader);
        learnSizeAndDate(meta, vsize, mtimeMs);
      },
    );
    const rest: number[] = [];
    for (let k = 0; k < batch.length; k++) if (got[k] === undefined) rest.push(k);
    if (rest.length) {
      const prepared = await prepareBatch(mailbox, rest.map((k) => batch[k]), needs);
      prepared.outcomes.forEach((o, r) => {
        const summary = o === null || o === 'gone' || o === 'slow' || 'unreadable' in o ? null : o.summary;
        if (summary) batch[rest[r]].sentMs = summary.sentMs;
        got[rest[r]] = summary ? pick(summary) : null;
      });
      prepared.release?.();
    }
    for (const g of got) out.push(g ?? null);
    await yieldLoop(); // a batch is a few ms at most; between batches, pushes and other clients go first
  }
  return out;
}

/**
 * A file that is there but cannot be read is a fault of that message only:
 * logged with its name, and its MailError returned so the caller skips it.
 * Anything else (a bug, a vanished file) is rethrown.
 */
export function unreadableFault(mailbox: Mailbox, meta: MessageMeta, err: unknown): MailError {
  const fault = mailErrorOf(err);
  if (!fault || fault.kind === 'notfound') throw err;
  mailbox.reportUnreadable(meta, err);
  return fault;
}
