// Writing a delivered message (LMTP) into a Maildir as Postfix's virtual(8)
// does: the trace header fields `Return-Path:`, `X-Original-To:` (when known)
// and `Delivered-To:`, then the message with LF line endings (the spool holds
// it so already), into tmp/, fsync, then renamed into new/ under a name that
// carries its sizes (`,S=<size>,W=<CRLF size>`, as Dovecot names the files it
// writes) so nobody has to read it to size it. A failure at any step leaves
// nothing in new/ and removes the tmp/ file.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DeliveryEnvelope } from './handles.js';
import { MailError } from './errors.js';
import { newBaseName, sizedBaseName, type MessageSpool } from './spool.js';
import { curName } from './maildir.js';

/**
 * In the base name of a message our LMTP delivered after running the
 * user's Sieve scripts on it (an unknown `,F=` field: Dovecot reads only
 * S and W): the watcher never filters such a file again, even if it finds
 * it in INBOX's new/ without a UID (the server stopped before it was listed).
 */
export const FILTERED_MARK = ',F=1';

/** Spools at most this big are read into memory once and written from there for every recipient. */
const KEEP_WHOLE = 1024 * 1024;
const CHUNK = 256 * 1024;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** The trace header fields virtual(8) writes, in its order, LF-terminated. */
export function traceHeader(env: DeliveryEnvelope): Buffer {
  for (const v of [env.returnPath, env.deliveredTo, env.originalTo ?? '']) {
    // A CR or LF here would let an address write header fields of its own.
    if (CONTROL.test(v)) throw new MailError('invalid', 'An envelope address contains a control character');
  }
  if (!env.deliveredTo) throw new MailError('invalid', 'No recipient');
  let out = `Return-Path: <${env.returnPath}>\n`;
  if (env.originalTo) out += `X-Original-To: ${env.originalTo}\n`;
  out += `Delivered-To: ${env.deliveredTo}\n`;
  return Buffer.from(out, 'utf8');
}

/**
 * Writes one recipient's copy into `dir` (a Maildir folder): `header`, then
 * the spooled message. Returns its file name in new/, once it is there and
 * on disk. Errors of the file system are thrown as they come (the caller
 * classifies them); the tmp/ file is removed first.
 */
export async function writeDelivery(dir: string, spool: MessageSpool, header: Buffer, opts: { info?: string; filtered?: boolean } = {}): Promise<string> {
  if (!spool.complete) throw new Error('writeDelivery: the spool is still being written');
  const base = newBaseName() + (opts.filtered ? FILTERED_MARK : '');
  const tmp = path.join(dir, 'tmp', base);
  const fh = await fs.open(tmp, 'wx', 0o600);
  let closed = false;
  try {
    if (spool.size <= KEEP_WHOLE) {
      const body = await spool.read(); // read once for all of a message's recipients
      if (body.length !== spool.size) throw new Error(`spool ${spool.file} holds ${body.length} bytes, not ${spool.size}`);
      await writeAll(fh, Buffer.concat([header, body]));
    } else {
      await writeAll(fh, header);
      await copyFile(spool, fh);
    }
    await fh.sync();
    await fh.close();
    closed = true;
    const lines = countLf(header);
    let filename = sizedBaseName(base, header.length + spool.size, header.length + lines + spool.vsize);
    // Flags (Sieve's imap4flags) go into the name as in cur/; the file stays in new/, so it is still \Recent.
    if (opts.info) filename = curName(filename, opts.info);
    await fs.rename(tmp, path.join(dir, 'new', filename));
    return filename;
  } catch (err) {
    if (!closed) await fh.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Streams a big spool into `out` a chunk at a time (a 50 MB message never sits in memory). */
async function copyFile(spool: MessageSpool, out: fs.FileHandle): Promise<void> {
  const src = await fs.open(spool.file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let total = 0;
    for (;;) {
      const { bytesRead } = await src.read(buf, 0, CHUNK, total);
      if (bytesRead === 0) break;
      await writeAll(out, buf.subarray(0, bytesRead));
      total += bytesRead;
    }
    if (total !== spool.size) throw new Error(`spool ${spool.file} holds ${total} bytes, not ${spool.size}`);
  } finally {
    await src.close();
  }
}

/**
 * write(2) may write less than asked (a disk filling up writes what fits and
 * says so; only the next call fails with ENOSPC): loop until all is written.
 */
async function writeAll(fh: fs.FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
}

function countLf(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * A file-system failure while delivering, as the LMTP client should hear it:
 * every one is temporary (the sender's MTA keeps the message and retries; a
 * bounce for our full disk would lose it). Quota is the store's own check.
 */
export function deliveryError(err: unknown): unknown {
  if (err instanceof MailError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string') return err;
  switch (code) {
    case 'ENOSPC':
      return new MailError('temporary', 'Mail system full (out of disk space)');
    case 'EDQUOT':
      return new MailError('temporary', 'Disk quota of the mail owner exceeded');
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new MailError('temporary', 'Mailbox not writable');
    default:
      return new MailError('temporary', `Cannot write the message (${code})`);
  }
}
