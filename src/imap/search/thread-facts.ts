// THREAD's input: each candidate's thread facts and sent date, as numbers.
// The facts of a message never change under its UID, so a folder keeps them
// (a ThreadFactTable) while sessions have it open: the next THREAD, from this session or another (a webmail opens a connection
// per page and threads every time), reads from the index only the messages
// that arrived since. Reading and interning the facts of 50,000 messages was
// two thirds of a THREAD (issue 14: 318 ms against Dovecot's 140, which
// keeps a thread index on disk for the same reason).
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { isMessageGone, type MailboxHandle } from '../../mail/api.js';
import { arrivalOf } from './sort.js';
import type { MailboxView } from '../tracker.js';
import type { Candidate } from './evaluate.js';
import { ThreadFactTable, ThreadInput } from './thread-input.js';
import { cacheShare } from '../../runtime/memory-budget.js';

/** A folder's table, and which entry holds each UID's facts. */
interface FolderFacts {
  uidValidity: number;
  table: ThreadFactTable;
  entryOf: Map<number, number>;
  /** What it counts in `keptBytes`. */
  counted: number;
  lastUsed: number;
}

export const threadFactOptions = {
  /**
   * A table leaves memory at the first sweep once no session has its folder
   * open, or once no THREAD used it for idleMs: it serves THREADs that
   * follow each other (a webmail's pages), not a folder nobody threads.
   */
  idleMs: 60_000,
  sweepMs: 10_000,
};

/**
 * All folders' tables together are kept within their share of the cache
 * budget (32 MiB with 8 GB or more, 4 MiB with 1 GB): past it, the least
 * recently used go, and a folder whose table alone is over it keeps none
 * (its THREADs still answer, reading the facts each time).
 */
const BUDGET = cacheShare('threads');
let keptBytes = 0;
/** Least recently used first. */
const folders = new Map<MailboxHandle, FolderFacts>();
let sweep: NodeJS.Timeout | null = null;

/**
 * Entries of expunged messages stay until the table holds this many times
 * the folder's messages (plus a margin): then it is started afresh.
 */
const GARBAGE_FACTOR = 2;
const GARBAGE_MARGIN = 1000;

function factsOf(mailbox: MailboxHandle): FolderFacts {
  let f = folders.get(mailbox);
  if (f) folders.delete(mailbox);
  if (!f || f.uidValidity !== mailbox.uidValidity || f.table.count > GARBAGE_FACTOR * mailbox.all.length + GARBAGE_MARGIN) {
    if (f) keptBytes -= f.counted;
    f = newFolderFacts(mailbox);
  }
  f.lastUsed = Date.now();
  folders.set(mailbox, f);
  sweep ??= setInterval(() => dropIdle(), threadFactOptions.sweepMs).unref();
  return f;
}

function newFolderFacts(mailbox: MailboxHandle): FolderFacts {
  return { uidValidity: mailbox.uidValidity, table: new ThreadFactTable(), entryOf: new Map(), counted: 0, lastUsed: 0 };
}

function drop(mailbox: MailboxHandle, f: FolderFacts): void {
  folders.delete(mailbox);
  keptBytes -= f.counted;
  f.counted = 0;
}

/** Counts what `f`'s table holds now; over the budget, the least recently used tables go, `f`'s last. */
function account(mailbox: MailboxHandle, f: FolderFacts): void {
  if (folders.get(mailbox) !== f) return; // dropped meanwhile
  const bytes = f.table.bytes;
  keptBytes += bytes - f.counted;
  f.counted = bytes;
  for (const [mb, other] of folders) {
    if (keptBytes <= BUDGET) return;
    if (other !== f) drop(mb, other);
  }
  if (keptBytes > BUDGET) drop(mailbox, f);
}

/** The sweep (exported for tests). */
export function dropIdle(now = Date.now()): void {
  for (const [mb, f] of folders) if (mb.viewCount === 0 || now - f.lastUsed >= threadFactOptions.idleMs) drop(mb, f);
  if (!folders.size && sweep) {
    clearInterval(sweep);
    sweep = null;
  }
}

/** Bytes held by the folders' tables (the SIGUSR2 report), and their budget. */
export function threadFactUse(): { bytes: number; budget: number; folders: number } {
  return { bytes: keptBytes, budget: BUDGET, folders: folders.size };
}

/**
 * THREAD's input for the candidates (messages gone meanwhile are left out):
 * each one's thread facts, from the folder's table or else its index, and
 * its sent date (the Date: header, else INTERNALDATE, as SORT's DATE).
 * `byUid`: the answer names messages by UID.
 */
export async function threadInputOf(view: MailboxView, cands: Candidate[], byUid: boolean): Promise<ThreadInput> {
  const mailbox = view.mailbox;
  // A view whose folder was renumbered meanwhile names UIDs of the old UIDVALIDITY (its session is
  // closed at its next response): it must not read or fill the folder's table, which is the new one's.
  const shared = () => !view.renumbered && folders.get(mailbox) === folder && folder.uidValidity === mailbox.uidValidity;
  const folder = view.renumbered ? newFolderFacts(mailbox) : factsOf(mailbox);
  const { table, entryOf } = folder;
  const entries = new Int32Array(cands.length).fill(-1);
  const missing: number[] = [];
  for (let i = 0; i < cands.length; i++) {
    const e = entryOf.get(cands[i].uid);
    if (e === undefined) missing.push(i);
    else entries[i] = e;
  }
  if (missing.length) {
    const { ids, subjects, scratch } = table;
    const read = await mailbox.summaries(
      missing.map((i) => cands[i].meta),
      (s) => {
        s.threadFactsInto(ids, subjects, scratch);
        return table.add(scratch, s.sentMs ?? NaN);
      },
    );
    for (let k = 0; k < missing.length; k++) {
      const e = read[k];
      if (e === null) continue; // gone meanwhile
      entries[missing[k]] = e;
      // Another THREAD may have read it meanwhile: either entry is right.
      if (shared()) entryOf.set(cands[missing[k]].uid, e);
    }
  }
  account(mailbox, folder);
  const input = new ThreadInput(table);
  for (let i = 0; i < cands.length; i++) {
    if ((i & 4095) === 4095) await yieldLoop();
    const e = entries[i];
    if (e < 0) continue;
    const c = cands[i];
    let date = table.sent.a[e];
    if (Number.isNaN(date)) {
      try {
        date = await arrivalOf(mailbox, c.meta);
      } catch (err) {
        if (isMessageGone(err)) continue;
        throw err;
      }
    }
    input.message(e, byUid ? c.uid : c.seq, c.seq, date);
  }
  return input;
}
