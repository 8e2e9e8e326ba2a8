// The FETCH fast path: what clients ask of whole folders (flags, sizes, dates,
// ENVELOPE, BODYSTRUCTURE, the header fields of a sync, whole small messages)
// answered from the folder's index and written in large chunks, with no file
// read for a message already summarised. Messages are handled in batches: the
// file reads a batch needs run concurrently (a bounded number at a time), then
// its responses are built in order. Between batches the socket's backpressure
// is honoured and the event loop is given back, so a 50,000-message sync never
// holds up a push to an idling client.
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { FetchItem, SectionItem } from './items.js';
import { applyPartial } from './section.js';
import { imapDateTime } from './date.js';
import { summarize, StoredSummary, FieldSelector } from './summary.js';
import { OutBuffer } from '../out-buffer.js';
import { readWithDate } from '../../mail/content.js';
import { loaderPool, type LoadJob } from './loader.js';
import { isMessageGone, type Mailbox, type MessageMeta } from '../../mail/mailbox.js';

type Step =
  | { k: 'UID' | 'FLAGS' | 'RFC822.SIZE' | 'INTERNALDATE' | 'MODSEQ' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE' }
  | { k: 'fields'; item: SectionItem; selector: FieldSelector }
  | { k: 'whole'; item: SectionItem };

export interface FastPlan {
  steps: Step[];
  summary: boolean;
  /** BODY or BODYSTRUCTURE: the summary must include the MIME structure. */
  structure: boolean;
  envelope: boolean;
  size: boolean;
  date: boolean;
  whole: boolean;
}

/** Messages bigger than this are streamed by the general path, never held whole. */
const WHOLE_LIMIT = 1024 * 1024;
const BATCH = 512;
/** Batches of whole messages are smaller: each holds up to BATCH_WHOLE × WHOLE_LIMIT bytes. */
const BATCH_WHOLE = 64;
const READS_IN_FLIGHT = 16;
/** Fewer file reads than this in a batch are done here; more go to the loader's worker threads. */
const POOL_MIN = 8;
/** Give the event loop back after this much work. */
const SLICE_MS = 8;

/** A plan when every item can be served by the fast path, else null. */
export function fastPlan(items: FetchItem[]): FastPlan | null {
  const steps: Step[] = [];
  for (const it of items) {
    if (it.kind === 'simple') {
      steps.push({ k: it.name });
      continue;
    }
    if (it.part.length || it.text === 'MIME') return null;
    if (it.text === 'HEADER.FIELDS' || it.text === 'HEADER.FIELDS.NOT') {
      steps.push({ k: 'fields', item: it, selector: new FieldSelector(new Set(it.fields.map((f) => f.toLowerCase())), it.text === 'HEADER.FIELDS.NOT') });
    } else steps.push({ k: 'whole', item: it });
  }
  const has = (...k: string[]) => steps.some((s) => k.includes(s.k));
  const whole = has('whole');
  return {
    steps,
    whole,
    summary: has('ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'fields') || steps.some((s) => s.k === 'whole' && s.item.text !== ''),
    structure: has('BODY', 'BODYSTRUCTURE'),
    envelope: has('ENVELOPE'),
    size: has('RFC822.SIZE') || whole,
    date: has('INTERNALDATE'),
  };
}

/** What one message's response needs, gathered before it is written. */
interface Prepared {
  summary: StoredSummary | null;
  vsize: number;
  mtimeMs: number;
  data: Buffer | null;
}

export type Outcome = Prepared | 'gone' | 'slow';

/** The summary of a message from the index, if it has one (with the MIME structure, if `structure`). */
export function cachedSummary(mailbox: Mailbox, meta: MessageMeta, structure = false, withEnvelope = false): StoredSummary | null {
  const rec = mailbox.index.get(meta.basename);
  if (!rec) return null;
  meta.vsize ??= rec.vsize;
  meta.mtimeMs ??= rec.mtimeMs;
  let s = readSummaries.get(rec);
  if (s === undefined) {
    s = StoredSummary.from(rec.summary); // null for an unreadable record: summarised again
    readSummaries.set(rec, s);
  }
  return s && (s.hasStructure || !structure) && (s.hasEnvelope || !withEnvelope) ? s : null;
}

/** Summaries already looked at, per index record (which lives as long as its message's record). */
const readSummaries = new WeakMap<object, StoredSummary | null>();

/** Reads a message, summarises it, and records the summary in the index. */
export async function readAndSummarize(mailbox: Mailbox, meta: MessageMeta, keepData: boolean, summaryWanted: boolean, structure: boolean, withEnvelope: boolean): Promise<Prepared> {
  const { crlf, mtimeMs } = await readWithDate(mailbox, meta);
  let summary = cachedSummary(mailbox, meta, structure, withEnvelope);
  if (!summary && summaryWanted) {
    const stored = summarize(crlf, structure, withEnvelope);
    mailbox.index.put(meta.basename, { mtimeMs, vsize: crlf.length, summary: stored });
    summary = StoredSummary.from(stored);
  }
  return { summary, vsize: crlf.length, mtimeMs, data: keepData ? crlf : null };
}

function prepareNow(mailbox: Mailbox, meta: MessageMeta, plan: FastPlan): Prepared | null {
  if (plan.whole) return null;
  const summary = plan.summary ? cachedSummary(mailbox, meta, plan.structure, plan.envelope) : null;
  if (plan.summary && !summary) return null;
  if ((plan.size && meta.vsize === null) || (plan.date && meta.mtimeMs === null)) {
    // Without a summary wanted, the index may still know the size and date (cachedSummary copies them).
    const rec = mailbox.index.get(meta.basename);
    meta.vsize ??= rec?.vsize ?? null;
    meta.mtimeMs ??= rec?.mtimeMs ?? null;
    if ((plan.size && meta.vsize === null) || (plan.date && meta.mtimeMs === null)) return null;
  }
  return { summary, vsize: meta.vsize ?? 0, mtimeMs: meta.mtimeMs ?? 0, data: null };
}

async function prepareLater(mailbox: Mailbox, meta: MessageMeta, plan: FastPlan): Promise<Outcome> {
  if (plan.whole && (meta.vsize ?? 0) > WHOLE_LIMIT) return 'slow';
  if (!plan.summary && !plan.whole) {
    // Only a size or a date is missing: no need to parse anything.
    const vsize = plan.size ? await mailbox.vsizeOf(meta) : 0;
    const mtimeMs = plan.date ? (await mailbox.internalDate(meta)).getTime() : 0;
    return { summary: null, vsize, mtimeMs, data: null };
  }
  const p = await readAndSummarize(mailbox, meta, plan.whole, plan.summary, plan.structure, plan.envelope);
  if (p.data && p.data.length > WHOLE_LIMIT) return 'slow';
  return p;
}

export interface FastFetchHooks {
  write(chunk: Buffer): void;
  drained(): Promise<void>;
  /** Whether the message is still there in this session (not expunged meanwhile). */
  present(uid: number): MessageMeta | null;
  seqOf(uid: number): number;
  /** Flags without \\Recent (that is per session: isRecent). */
  baseFlags(meta: MessageMeta): string[];
  isRecent(uid: number): boolean;
  /** Extra items for a message (FLAGS/MODSEQ after an implicit \Seen), pre-rendered. */
  extra(meta: MessageMeta): string;
  /** Answers one message the general way (big messages, uncached header fields). */
  slow(meta: MessageMeta): Promise<boolean>;
}

/** Runs the fast path over `uids`; returns how many messages were gone. */
export async function fastFetch(mailbox: Mailbox, uids: number[], plan: FastPlan, hooks: FastFetchHooks): Promise<number> {
  const out = new OutBuffer((b) => hooks.write(b));
  const memo = new RenderMemo();
  let gone = 0;
  let sliceStart = performance.now();
  const step = plan.whole ? BATCH_WHOLE : BATCH;
  // The next batch is read while this one is written: the disk and the workers never wait for the socket.
  const batchAt = (i: number) => prepareBatch(mailbox, uids.slice(i, i + step).map((u) => hooks.present(u)), plan);
  let next: Promise<PreparedBatch> | null = uids.length ? batchAt(0) : null;
  for (let i = 0; next; i += step) {
    const { metas, outcomes } = await next;
    next = i + step < uids.length ? batchAt(i + step) : null;
    // A failed read-ahead is seen when its turn comes; until then it must not count as unhandled.
    next?.catch(() => undefined);
    for (let j = 0; j < metas.length; j++) {
      const o = outcomes[j]!;
      const meta = metas[j];
      if (o === 'gone' || !meta) {
        gone++;
        continue;
      }
      let p: Prepared | null = o === 'slow' ? null : o;
      if (p && !render(out, hooks, meta, p, plan, memo)) p = null;
      if (!p) {
        out.flush();
        await hooks.drained();
        if (!(await hooks.slow(meta))) gone++;
      }
    }
    if (out.length > 64 * 1024) out.flush();
    await hooks.drained();
    if (performance.now() - sliceStart > SLICE_MS) {
      out.flush();
      await yieldLoop();
      sliceStart = performance.now();
    }
  }
  out.flush();
  return gone;
}

interface PreparedBatch {
  metas: Array<MessageMeta | null>;
  outcomes: Array<Outcome | null>;
}

/** Everything one batch's responses need: from memory, the worker pool, or (a few, or after a rename) read here. */
async function prepareBatch(mailbox: Mailbox, metas: Array<MessageMeta | null>, plan: FastPlan): Promise<PreparedBatch> {
  const outcomes: Array<Outcome | null> = metas.map((m) => (m ? prepareNow(mailbox, m, plan) : 'gone'));
  const later = outcomes.flatMap((o, j) => (o === null ? [j] : []));
  if (later.length >= POOL_MIN) await loadInPool(mailbox, metas as MessageMeta[], later, outcomes, plan);
  const rest = later.filter((j) => outcomes[j] === null);
  let n = 0;
  const reader = async () => {
    while (n < rest.length) {
      const j = rest[n++];
      try {
        outcomes[j] = await prepareLater(mailbox, metas[j]!, plan);
      } catch (err) {
        if (!isMessageGone(err)) throw err;
        outcomes[j] = 'gone';
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, rest.length) }, reader));
  return { metas, outcomes };
}

/**
 * Loads the messages at `later` in the worker pool. Outcomes it cannot settle
 * (a file renamed or gone meanwhile, a worker that died) stay null, for the
 * in-process path, which resyncs the folder and knows a vanished message.
 */
async function loadInPool(mailbox: Mailbox, metas: MessageMeta[], later: number[], outcomes: Array<Outcome | null>, plan: FastPlan): Promise<void> {
  const jobs: LoadJob[] = later.map((j) => ({
    file: mailbox.pathOf(metas[j]),
    summary: !plan.summary || cachedSummary(mailbox, metas[j], plan.structure, plan.envelope) ? 'none' : plan.structure ? 'full' : plan.envelope ? 'envelope' : 'header',
    data: plan.whole,
    maxData: WHOLE_LIMIT,
  }));
  let results;
  try {
    results = await loaderPool.load(jobs);
  } catch {
    return;
  }
  results.forEach((r, k) => {
    if (!r.ok) return;
    const j = later[k];
    const meta = metas[j];
    meta.vsize ??= r.vsize;
    meta.mtimeMs ??= r.mtimeMs;
    let summary: StoredSummary | null = null;
    if (r.summary) {
      const stored = Buffer.from(r.summary.buffer, r.summary.byteOffset, r.summary.byteLength);
      mailbox.index.put(meta.basename, { mtimeMs: r.mtimeMs, vsize: r.vsize, summary: stored });
      summary = StoredSummary.from(stored);
    } else if (plan.summary) summary = cachedSummary(mailbox, meta, plan.structure, plan.envelope);
    if (plan.summary && !summary) return;
    if (plan.whole && !r.data) {
      outcomes[j] = 'slow';
      return;
    }
    const data = r.data ? Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength) : null;
    outcomes[j] = { summary, vsize: r.vsize, mtimeMs: r.mtimeMs, data };
  });
}

/** Renders text the fast path writes for many messages (FLAGS lists), remembered per call. */
export class RenderMemo {
  readonly flags = new Map<string, string>();
}

/** Writes one message's response; false (nothing written) when it needs the general path. */
function render(out: OutBuffer, hooks: FastFetchHooks, meta: MessageMeta, p: Prepared, plan: FastPlan, memo: RenderMemo): boolean {
  // Header fields the index may not hold are checked first, so nothing is half written.
  let fieldRanges: Array<number[]> | null = null;
  for (const s of plan.steps) {
    if (s.k !== 'fields') continue;
    const r = s.selector.ranges(p.summary!);
    if (!r) return false;
    (fieldRanges ??= []).push(r);
  }
  let f = 0;
  let line = `* ${hooks.seqOf(meta.uid)} FETCH (`;
  for (let i = 0; i < plan.steps.length; i++) {
    const s = plan.steps[i];
    if (i) line += ' ';
    switch (s.k) {
      case 'UID':
        line += `UID ${meta.uid}`;
        break;
      case 'FLAGS': {
        let flags = memo.flags.get(meta.info);
        if (flags === undefined) {
          flags = hooks.baseFlags(meta).join(' ');
          memo.flags.set(meta.info, flags);
        }
        line += hooks.isRecent(meta.uid) ? `FLAGS (${flags ? flags + ' ' : ''}\\Recent)` : `FLAGS (${flags})`;
        break;
      }
      case 'RFC822.SIZE':
        line += `RFC822.SIZE ${p.vsize}`;
        break;
      case 'INTERNALDATE':
        line += `INTERNALDATE "${imapDateTime(new Date(p.mtimeMs))}"`;
        break;
      case 'MODSEQ':
        line += `MODSEQ (${meta.modseq})`;
        break;
      case 'ENVELOPE':
      case 'BODY':
      case 'BODYSTRUCTURE': {
        const sec = s.k === 'ENVELOPE' ? p.summary!.envelope : s.k === 'BODY' ? p.summary!.body : p.summary!.bodystructure;
        out.text(line + s.k + ' ');
        line = '';
        out.bytes(sec);
        break;
      }
      case 'fields': {
        const r = fieldRanges![f++];
        const sum = p.summary!;
        if (s.item.partial) {
          out.text(line);
          line = '';
          const bytes = Buffer.concat([...pairs(r).map(([a, b]) => sum.b.subarray(a, b)), ...(sum.blankLine ? [CRLF] : [])]);
          literal(out, s.item, bytes);
          break;
        }
        let len = sum.blankLine ? 2 : 0;
        for (let k = 0; k < r.length; k += 2) len += r[k + 1] - r[k];
        out.text(`${line}${s.item.label} {${len}}\r\n`);
        line = '';
        for (let k = 0; k < r.length; k += 2) out.range(sum.b, r[k], r[k + 1]);
        if (sum.blankLine) out.bytes(CRLF);
        break;
      }
      case 'whole': {
        out.text(line);
        line = '';
        const data = p.data!;
        const h = s.item.text === '' ? 0 : p.summary!.headerLen;
        const range = s.item.text === 'HEADER' ? data.subarray(0, h) : data.subarray(h);
        literal(out, s.item, range);
        break;
      }
    }
  }
  out.text(line + hooks.extra(meta) + ')\r\n');
  return true;
}

const CRLF = Buffer.from('\r\n');

function pairs(r: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < r.length; i += 2) out.push([r[i], r[i + 1]]);
  return out;
}

function literal(out: OutBuffer, item: SectionItem, bytes: Buffer): void {
  const part = applyPartial({ bytes }, item.partial);
  const b = 'bytes' in part ? part.bytes : bytes;
  out.text(`${item.label} {${b.length}}\r\n`);
  out.bytes(b);
}

/**
 * Header summaries of many messages (for SORT and THREAD), from the index or
 * read in the worker pool; null for a message gone meanwhile.
 */
export async function summariesFor(mailbox: Mailbox, metas: MessageMeta[]): Promise<Array<StoredSummary | null>> {
  const plan: FastPlan = { steps: [], summary: true, structure: false, envelope: false, size: false, date: false, whole: false };
  const out: Array<StoredSummary | null> = [];
  for (let i = 0; i < metas.length; i += BATCH) {
    const { outcomes } = await prepareBatch(mailbox, metas.slice(i, i + BATCH), plan);
    for (const o of outcomes) out.push(o === null || o === 'gone' || o === 'slow' ? null : o.summary);
    await yieldLoop(); // a batch is a few ms at most; between batches, pushes and other clients go first
  }
  return out;
}
