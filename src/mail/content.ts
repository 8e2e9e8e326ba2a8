// Message content for FETCH: the CRLF form, its MIME structure, and byte
// ranges of it. Small messages are kept whole in a bounded cache; big ones
// are parsed once for structure and then served as streamed ranges.
import { READ_MESSAGE } from './message-file.js';
import type { Mailbox, MessageMeta } from './mailbox.js';
import fsCb from 'node:fs';
import { crlfRange, readCrlf, toCrlf } from './crlf.js';
import { parseMime, type MimePart } from '../wire/mime.js';
import type { LoadedMessage } from './handles.js';
import { ByteLru } from '../runtime/lru.js';
import { cacheShare } from '../runtime/memory-budget.js';

const KEEP_WHOLE = 256 * 1024;
/** 64 MiB on a machine with 8 GB or more (runtime/memory-budget.ts). */
const CACHE_BYTES = cacheShare('content');

/**
 * A process-wide LRU keyed by mailbox root + basename (a flag change renames
 * the file but keeps the basename, and content is immutable). Concurrent
 * misses on one message each store it: the LRU replaces, never adds up.
 */
const cache = new ByteLru<string, LoadedMessage>(CACHE_BYTES);

/** What the cache holds, by its own estimate (the SIGUSR2 report). */
export const contentCacheBytes = (): number => cache.bytes;
/**
 * What a cached message holds: its bytes if kept whole, and its parsed tree,
 * which for a hostile message (10,000 parts, 100,000 header lines) is tens of
 * MB even when the bytes are not kept; counted roughly per part and field.
 */
const costOf = (msg: LoadedMessage): number => (msg.data?.length ?? 0) + 2048 + treeCost(msg.root);

function treeCost(part: MimePart): number {
  let n = 512 + part.header.length * 64;
  for (const c of part.children) n += treeCost(c);
  if (part.message) n += treeCost(part.message);
  return n;
}

export async function loadMessage(mailbox: Mailbox, meta: MessageMeta): Promise<LoadedMessage> {
  const key = `${mailbox.maildir.root}\0${meta.basename}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const data = await mailbox.withFile(meta, readCrlf);
  const msg: LoadedMessage = { root: parseMime(data), vsize: data.length, data: data.length <= KEEP_WHOLE ? data : null };
  // A file that may still be being written is answered as it is now, and read again next time.
  if (!mailbox.settled(meta)) return msg;
  meta.vsize ??= data.length;
  cache.set(key, msg, costOf(msg));
  return msg;
}

/** Bytes [start, end) of the message's CRLF form, from memory or streamed from the file. */
export function messageRange(mailbox: Mailbox, meta: MessageMeta, msg: LoadedMessage | null, start: number, end: number): AsyncIterable<Buffer> {
  if (msg?.data) {
    const slice = msg.data.subarray(start, end);
    return (async function* () {
      yield slice;
    })();
  }
  return (async function* () {
    // The path is resolved when streaming starts, so a rename in between is followed.
    const file = await mailbox.withFile(meta, async (f) => f);
    yield* crlfRange(file, start, end);
  })();
}

/** The CRLF form of a message and its INTERNALDATE (the file's mtime), from one open. */
export function readWithDate(mailbox: Mailbox, meta: MessageMeta): Promise<{ crlf: Buffer; mtimeMs: number }> {
  return mailbox.withFile(meta, (file) => readFileAndMtime(file)).then(({ data, mtimeMs }) => {
    const crlf = toCrlf(data);
    if (mailbox.settled(meta)) {
      meta.vsize ??= crlf.length;
      meta.mtimeMs ??= mtimeMs;
    }
    return { crlf, mtimeMs };
  });
}

function readFileAndMtime(file: string): Promise<{ data: Buffer; mtimeMs: number }> {
  return new Promise((resolve, reject) => {
    fsCb.open(file, READ_MESSAGE, (err, fd) => {
      if (err) return reject(err);
      const fail = (e: Error) => fsCb.close(fd, () => reject(e));
      fsCb.fstat(fd, (e1, st) => {
        if (e1) return fail(e1);
        const data = Buffer.allocUnsafe(st.size);
        let got = 0;
        const step = (): void =>
          fsCb.read(fd, data, got, st.size - got, got, (e2, n) => {
            if (e2) return fail(e2);
            got += n;
            if (n > 0 && got < st.size) return step();
            fsCb.close(fd, () => resolve({ data: data.subarray(0, got), mtimeMs: st.mtimeMs }));
          });
        if (st.size === 0) return fsCb.close(fd, () => resolve({ data, mtimeMs: st.mtimeMs }));
        step();
      });
    });
  });
}
