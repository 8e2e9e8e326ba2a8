// One memory budget for the process's caches, sized from the machine: a
// home server with 1 GB gets 32 MiB of caches, one with 8 GB or more 256 MiB
// (issue 14). Each cache takes its share; the folders' own state (UIDs,
// flags, the message index) is outside it, and leaves memory when a folder
// is dropped (mail/store.ts MailboxRegistry.sweep).
import os from 'node:os';

const MIB = 1024 * 1024;

/** Bytes for all caches together: 1/32 of the machine's memory, between 32 and 256 MiB. */
export function cacheBudget(totalmem = os.totalmem()): number {
  return Math.round(Math.min(256 * MIB, Math.max(32 * MIB, totalmem / 32)));
}

/** Each cache's share of the budget: the word index of TEXT searches, parsed message content, header facts (SEARCH, SORT), THREAD's facts of the folders in memory. */
const SHARES = { textIndex: 0.5, content: 0.25, headers: 0.125, threads: 0.125 } as const;

export function cacheShare(cache: keyof typeof SHARES, totalmem?: number): number {
  return Math.round(cacheBudget(totalmem) * SHARES[cache]);
}
