// Worker thread of the message loader (loader.ts): reads message files, turns
// them into their CRLF form and summarises them, off the event loop. Reads are
// synchronous here on purpose: in a worker they block nobody, and they cost a
// third of the four round trips an async open/fstat/read/close makes.
import { READ_MESSAGE } from './message-file.js';
import fs from 'node:fs';
import { serveJobs } from '../runtime/serve-jobs.js';
import { toCrlf, bareLfCount } from './crlf.js';

/**
 * The summariser (MIME, envelope, charset tables: 40 ms to load) is loaded at
 * the first job that asks for a summary: a thread started for whole messages
 * (BODY[] of many) answers without it, and four threads start on two cores
 * in about 90 ms instead of 190.
 */
let summaries: typeof import('../wire/summary.js') | null = null;

export interface LoadJob {
  file: string;
  /** Return the summary's stored form: none, from the header only, or with the MIME structure. */
  summary: SummaryLevel;
  /** Return the whole CRLF form (of a file no bigger than `maxData`; else only its size). */
  data: boolean;
  maxData: number;
}

/** none; header fields and sort facts; those and ENVELOPE; everything (with the MIME structure). */
export type SummaryLevel = 'none' | 'header' | 'envelope' | 'full';

export type LoadResult =
  | { ok: true; mtimeMs: number; vsize: number; summary: Uint8Array | null; data: Uint8Array | null; slabAt?: number }
  | { ok: false; code: string; message: string };

/**
 * One request to a loader thread. `slab`: shared memory the whole messages
 * are copied into, back to back, while they fit (a result then has `slabAt`
 * instead of `data`). Moving a buffer per message to the event loop's
 * thread counted as new memory there, and at 50 MB per 2,000 bodies made
 * V8 collect every few MB (issue 14).
 */
export interface LoadRequest {
  jobs: LoadJob[];
  slab: SharedArrayBuffer | null;
}

function load(job: LoadJob): LoadResult {
  let fd = -1;
  try {
    fd = fs.openSync(job.file, READ_MESSAGE);
    const st = fs.fstatSync(fd);
    const raw = Buffer.allocUnsafeSlow(st.size);
    let got = 0;
    while (got < st.size) {
      const n = fs.readSync(fd, raw, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    const file = raw.subarray(0, got);
    if (job.data && got > job.maxData) return { ok: true, mtimeMs: st.mtimeMs, vsize: got + bareLfCount(file, false), summary: null, data: null };
    if (!job.data && job.summary !== 'full') {
      // No copy of the body: count its bare LFs, convert only the header.
      const vsize = got + bareLfCount(file, false);
      const summary = job.summary === 'none' ? null : summaries!.summarize(toCrlf(file.subarray(0, summaries!.headerBlockEnd(file))), false, job.summary === 'envelope');
      return { ok: true, mtimeMs: st.mtimeMs, vsize, summary, data: null };
    }
    const crlf = toCrlf(file);
    const summary = job.summary === 'none' ? null : summaries!.summarize(crlf, job.summary === 'full', job.summary !== 'header');
    return { ok: true, mtimeMs: st.mtimeMs, vsize: crlf.length, summary, data: job.data ? crlf : null };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, code: e.code ?? 'ERROR', message: e.message };
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** Buffers of their own (not slices of Node's shared pool) can move instead of being copied. */
function transferOf(results: LoadResult[]): ArrayBuffer[] {
  const transfer: ArrayBuffer[] = [];
  for (const r of results) {
    if (!r.ok) continue;
    for (const b of [r.data, r.summary]) {
      if (b && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !transfer.includes(b.buffer as ArrayBuffer)) transfer.push(b.buffer as ArrayBuffer);
    }
  }
  return transfer;
}

async function loadAll(req: LoadRequest): Promise<LoadResult[]> {
  if (!summaries && req.jobs.some((j) => j.summary !== 'none')) summaries = await import('../wire/summary.js');
  const slab = req.slab ? Buffer.from(req.slab) : null;
  let at = 0;
  return req.jobs.map((job) => {
    const r = load(job);
    if (slab && r.ok && r.data && at + r.data.length <= slab.length) {
      slab.set(r.data, at);
      r.slabAt = at;
      at += r.data.length;
      r.data = null;
    }
    return r;
  });
}

serveJobs<LoadRequest, LoadResult[]>(loadAll, transferOf);
