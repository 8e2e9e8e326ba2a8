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
import { FieldSelector } from '../../wire/summary.js';
import { OutBuffer } from '../out-buffer.js';
import { type MailError, type MailboxHandle, type MessageRef, type MessageNeeds, type Prepared, type PreparedBatch } from '../../mail/api.js';

type Step =
  | { k: 'UID' | 'FLAGS' | 'RFC822.SIZE' | 'INTERNALDATE' | 'MODSEQ' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE' }
  | { k: 'fields'; item: SectionItem; selector: FieldSelector; head: Buffer }
  | { k: 'whole'; item: SectionItem };

/** The items to render, and what the store must gather for them. */
export interface FastPlan extends MessageNeeds {
  steps: Step[];
}

const BATCH = 512;
/** Batches of whole messages are smaller: each holds up to BATCH_WHOLE × WHOLE_LIMIT bytes. */
const BATCH_WHOLE = 64;
/** Give the event loop back after this much work. */
const SLICE_MS = 8;
/**
 * Literals at least this long go to the socket as they are (a view of the
 * loader's shared slab), not copied into the out buffer: copying 50 MB of
 * bodies was a fifth of the event loop's time in a 2,000-body FETCH.
 */
const SHARE_MIN = 4096;
/** Within a batch, wait for the socket once this much is written to it (a batch of whole messages can be 64 MiB). */
const UNSENT_MAX = 4 * 1024 * 1024;

/** A plan when every item can be served by the fast path, else null. */
export function fastPlan(items: FetchItem[]): FastPlan | null {
  const steps: Step[] = [];
  for (const it of items) {
    if (it.kind === 'simple') {
      // Asked rarely: the general path asks the store.
      if (it.name === 'SAVEDATE' || it.name === 'PREVIEW' || it.name === 'EMAILID' || it.name === 'THREADID') return null;
      steps.push({ k: it.name });
      continue;
    }
    if (it.kind === 'binary' || it.part.length || it.text === 'MIME') return null;
    if (it.text === 'HEADER.FIELDS' || it.text === 'HEADER.FIELDS.NOT') {
      const selector = new FieldSelector(new Set(it.fields.map((f) => f.toLowerCase())), it.text === 'HEADER.FIELDS.NOT');
      // The label is as long as the field list (a sync's is 200 bytes): encoded once, not per message.
      steps.push({ k: 'fields', item: it, selector, head: Buffer.from(`${it.label} {`, 'utf8') });
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

export interface FastFetchHooks {
  /** `written`: see ChunkSink. */
  write(chunk: Buffer, written?: () => void): void;
  /** Holds writes back until `uncork`, which sends them in one system call (see Writable#cork). */
  cork?(): void;
  uncork?(): void;
  drained(): Promise<void>;
  /** Whether the message is still there in this session (not expunged meanwhile). */
  present(uid: number): MessageRef | null;
  seqOf(uid: number): number;
  /** Flags without \\Recent (that is per session: isRecent). */
  baseFlags(meta: MessageRef): string[];
  isRecent(uid: number): boolean;
  /** Extra items for a message (FLAGS/MODSEQ after an implicit \Seen), pre-rendered. */
  extra(meta: MessageRef): string;
  /** Answers one message the general way (big messages, uncached header fields). */
  slow(meta: MessageRef): Promise<boolean>;
}

/** Runs the fast path over `uids`; returns how many messages were gone, and the faults of those that could not be read. */
export async function fastFetch(mailbox: MailboxHandle, uids: number[], plan: FastPlan, hooks: FastFetchHooks): Promise<{ gone: number; unreadable: MailError[] }> {
  const unreadable: MailError[] = [];
  /** Bytes handed to the socket since it was last waited for. */
  let unsent = 0;
  const out = new OutBuffer((b, written) => {
    unsent += b.length;
    hooks.write(b, written);
  });
  const memo = new RenderMemo();
  let gone = 0;
  let sliceStart = performance.now();
  /** Between batches: the socket's backpressure is honoured, and the event loop given back after SLICE_MS of work. */
  const pace = async () => {
    if (out.length > 64 * 1024) out.flush();
    await hooks.drained();
    unsent = 0;
    if (performance.now() - sliceStart > SLICE_MS) {
      out.flush();
      await yieldLoop();
      sliceStart = performance.now();
    }
  };
  const step = plan.whole ? BATCH_WHOLE : BATCH;
  // Flags, UIDs, modseqs: what the session's view holds. No store work, no per-message objects.
  if (!plan.summary && !plan.whole && !plan.size && !plan.date) {
    for (let i = 0; i < uids.length; i++) {
      const meta = hooks.present(uids[i]);
      if (!meta) gone++;
      else render(out, hooks, meta, NOTHING_PREPARED, plan, memo);
      if ((i & 1023) === 1023) await pace();
    }
    out.close();
    return { gone, unreadable };
  }
  // The next batch is read while this one is written: the disk and the workers never wait for the socket.
  const batchAt = (i: number) => mailbox.prepareBatch(uids.slice(i, i + step).map((u) => hooks.present(u)), plan);
  let next: Promise<PreparedBatch> | null = uids.length ? batchAt(0) : null;
  for (let i = 0; next; i += step) {
    const batch = await next;
    const { metas, outcomes } = batch;
    // The batch's buffers go back once it is rendered and the socket has written what was shared of it.
    let holds = 1;
    const free = () => {
      if (--holds === 0) batch.release?.();
    };
    memo.hold = () => {
      holds++;
      let done = false;
      return () => {
        if (!done) {
          done = true;
          free();
        }
      };
    };
    next = i + step < uids.length ? batchAt(i + step) : null;
    // A failed read-ahead is seen when its turn comes; until then it must not count as unhandled.
    next?.catch(() => undefined);
    // A batch's responses leave in one system call: corked while rendered (never while waiting).
    let corked = false;
    const uncork = () => {
      if (!corked) return;
      out.flush();
      hooks.uncork?.();
      corked = false;
    };
    try {
      for (let j = 0; j < metas.length; j++) {
        const o = outcomes[j]!;
        const meta = metas[j];
        if (o === 'gone' || !meta) {
          gone++;
          continue;
        }
        if (typeof o === 'object' && 'unreadable' in o) {
          unreadable.push(o.unreadable);
          continue;
        }
        if (!corked && hooks.cork) {
          hooks.cork();
          corked = true;
        }
        let p: Prepared | null = o === 'slow' ? null : o;
        if (p && !render(out, hooks, meta, p, plan, memo)) p = null;
        if (!p) {
          uncork();
          out.flush();
          await hooks.drained();
          if (!(await hooks.slow(meta))) gone++;
        } else if (unsent + out.length > UNSENT_MAX) {
          // A batch of big messages is tens of MB: a slow client must not make the server hold it all.
          uncork();
          out.flush();
          await hooks.drained();
          unsent = 0;
        }
      }
      uncork();
    } catch (err) {
      // A response half rendered stays unsent (the command's NO follows); what was written goes out.
      if (corked) hooks.uncork?.();
      throw err;
    }
    // Rendering copied what it wrote, except the literals it shared: those hold the batch until written.
    memo.hold = null;
    free();
    await pace();
  }
  out.close();
  return { gone, unreadable };
}

const NOTHING_PREPARED: Prepared = { summary: null, vsize: 0, mtimeMs: 0, data: null };

/** Renders text the fast path writes for many messages (FLAGS lists), remembered per call. */
export class RenderMemo {
  readonly flags = new Map<string, string>();
  /** The field ranges of the message being written, one list per HEADER.FIELDS item (reused). */
  readonly fieldRanges: number[][] = [];
  /** While a batch is rendered: keeps it from being released; the function returned lets go. */
  hold: (() => () => void) | null = null;
}

/**
 * Writes one message's response; false (nothing written) when it needs the
 * general path. Written piece by piece into `out` (ascii, num): no line is
 * built as a string.
 */
function render(out: OutBuffer, hooks: FastFetchHooks, meta: MessageRef, p: Prepared, plan: FastPlan, memo: RenderMemo): boolean {
  // Header fields the index may not hold are checked first, so nothing is half written.
  const fieldRanges = memo.fieldRanges;
  let fields = 0;
  for (const s of plan.steps) {
    if (s.k !== 'fields') continue;
    const r = s.selector.ranges(p.summary!);
    if (!r) return false;
    fieldRanges[fields++] = r;
  }
  let f = 0;
  out.ascii('* ');
  out.num(hooks.seqOf(meta.uid));
  out.ascii(' FETCH (');
  for (let i = 0; i < plan.steps.length; i++) {
    const s = plan.steps[i];
    if (i) out.ascii(' ');
    switch (s.k) {
      case 'UID':
        out.ascii('UID ');
        out.num(meta.uid);
        break;
      case 'FLAGS': {
        let flags = memo.flags.get(meta.info);
        if (flags === undefined) {
          flags = hooks.baseFlags(meta).join(' ');
          memo.flags.set(meta.info, flags);
        }
        out.ascii('FLAGS (');
        out.ascii(flags);
        if (hooks.isRecent(meta.uid)) out.ascii(flags ? ' \\Recent)' : '\\Recent)');
        else out.ascii(')');
        break;
      }
      case 'RFC822.SIZE':
        out.ascii('RFC822.SIZE ');
        out.num(p.vsize);
        break;
      case 'INTERNALDATE':
        out.ascii(`INTERNALDATE "${imapDateTime(new Date(p.mtimeMs))}"`);
        break;
      case 'MODSEQ':
        out.ascii(`MODSEQ (${meta.modseq})`);
        break;
      case 'ENVELOPE':
      case 'BODY':
      case 'BODYSTRUCTURE': {
        const sec = s.k === 'ENVELOPE' ? p.summary!.envelope : s.k === 'BODY' ? p.summary!.body : p.summary!.bodystructure;
        out.ascii(s.k);
        out.ascii(' ');
        out.bytes(sec);
        break;
      }
      case 'fields': {
        const r = fieldRanges[f++];
        const sum = p.summary!;
        if (s.item.partial) {
          const bytes = Buffer.concat([...pairs(r).map(([a, b]) => sum.b.subarray(a, b)), ...(sum.blankLine ? [CRLF] : [])]);
          literal(out, s.item, bytes);
          break;
        }
        let len = sum.blankLine ? 2 : 0;
        for (let k = 0; k < r.length; k += 2) len += r[k + 1] - r[k];
        out.whole(s.head);
        out.num(len);
        out.ascii('}\r\n');
        for (let k = 0; k < r.length; k += 2) out.range(sum.b, r[k], r[k + 1]);
        if (sum.blankLine) out.bytes(CRLF);
        break;
      }
      case 'whole': {
        const data = p.data!;
        const h = s.item.text === '' ? 0 : p.summary!.headerLen;
        const range = s.item.text === 'HEADER' ? data.subarray(0, h) : data.subarray(h);
        literal(out, s.item, range, memo.hold);
        break;
      }
    }
  }
  out.ascii(hooks.extra(meta));
  out.ascii(')\r\n');
  return true;
}

const CRLF = Buffer.from('\r\n');

function pairs(r: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < r.length; i += 2) out.push([r[i], r[i + 1]]);
  return out;
}

/** `hold`: a long literal is shared (see SHARE_MIN) and holds its batch until written; without it, copied. */
function literal(out: OutBuffer, item: SectionItem, bytes: Buffer, hold: (() => () => void) | null = null): void {
  const part = applyPartial({ bytes }, item.partial);
  const b = 'bytes' in part ? part.bytes : bytes;
  out.text(`${item.label} {${b.length}}\r\n`);
  if (hold && b.length >= SHARE_MIN) out.share(b, hold());
  else out.bytes(b);
}

