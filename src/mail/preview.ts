// PREVIEW (RFC 8970): a short plain-text preview of a message, from the same
// decoding the search text uses (facts.ts textOfPart: transfer encoding,
// charset, HTML to text). Only the start of the file is read.
import { promises as fs } from 'node:fs';
import { READ_MESSAGE } from './message-file.js';
import { toCrlf } from './crlf.js';
import { parseMime, type MimePart } from '../wire/mime.js';
import { headerValue } from '../wire/header.js';
import { textOfPart } from './facts.js';

/** RFC 8970 §2: at most 256 characters; Dovecot gives about 200, and so do we. */
export const PREVIEW_CHARS = 200;
/** Bytes of the file read for it: the first text part almost always starts well within this. */
const READ_BYTES = 64 * 1024;

/** The preview of the message file at `file` ('' when it has no text part). */
export async function previewOfFile(file: string): Promise<string> {
  const fh = await fs.open(file, READ_MESSAGE);
  let head: Buffer;
  try {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    const { bytesRead } = await fh.read(buf, 0, READ_BYTES, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  return previewOf(head);
}

/** The preview of a message (whole, or its first bytes). */
export function previewOf(raw: Buffer): string {
  const data = toCrlf(raw);
  const part = firstText(parseMime(data));
  if (!part) return '';
  return cut(textOfPart(data, part, part.contentType.subtype).replace(/\s+/gu, ' ').trim());
}

/** The first text/plain or text/html part that is not an attachment, depth first (not inside an attached message). */
function firstText(part: MimePart): MimePart | null {
  const ct = part.contentType;
  if (ct.type === 'multipart') {
    for (const c of part.children) {
      const found = firstText(c);
      if (found) return found;
    }
    return null;
  }
  const attached = /^\s*attachment/i.test(headerValue(part.header, 'content-disposition') ?? '');
  return ct.type === 'text' && (ct.subtype === 'plain' || ct.subtype === 'html') && !attached ? part : null;
}

/** At most PREVIEW_CHARS characters (code points: a surrogate pair is never split). */
function cut(text: string): string {
  const chars = Array.from(text);
  return chars.length <= PREVIEW_CHARS ? text : chars.slice(0, PREVIEW_CHARS).join('');
}
