// BODY[section]<partial>: which bytes of the message a section names (RFC 3501 §6.4.5).
import type { MimePart } from '../../wire/mime.js';
import { selectHeaderFields } from '../../wire/header.js';
import type { SectionItem } from './items.js';

/** Either a byte range of the message's CRLF form, or bytes built from it (HEADER.FIELDS). */
export type SectionData = { range: [number, number] } | { bytes: Buffer };

/**
 * Finds the part a section number names. Part 1 of a single-part message is
 * its body; numbers under a message/rfc822 part address the inner message.
 */
export function findPart(root: MimePart, nums: number[]): MimePart | null {
  let cur = root;
  for (let i = 0; i < nums.length; i++) {
    const n = nums[i];
    const container = i > 0 && cur.message ? cur.message : cur;
    // A multipart without parts (no boundary, or it never appears): BODYSTRUCTURE
    // shows one empty text/plain part, so its part 1 is empty, as in Dovecot.
    if (container.contentType.type === 'multipart' && container.children.length === 0) return null;
    if (container.children.length) {
      const next = container.children[n - 1];
      if (!next) return null;
      cur = next;
    } else if (n === 1 && (i === 0 || cur.message)) {
      cur = container;
    } else {
      return null;
    }
  }
  return cur;
}

export function sectionData(item: SectionItem, root: MimePart, vsize: number): SectionData {
  const empty: SectionData = { bytes: Buffer.alloc(0) };
  if (!item.part.length) {
    switch (item.text) {
      case '':
        return { range: [0, vsize] };
      case 'TEXT':
        return { range: [root.bodyStart, vsize] };
      case 'HEADER':
        return { range: [root.headerStart, root.bodyStart] };
      default:
        return { bytes: selectHeaderFields(root.header, item.fields, item.text === 'HEADER.FIELDS.NOT', root.blankLine) };
    }
  }
  const part = findPart(root, item.part);
  if (!part) return empty;
  switch (item.text) {
    case '':
      return { range: [part.bodyStart, part.end] };
    case 'MIME':
      return { range: [part.headerStart, part.bodyStart] };
    default: {
      // HEADER / TEXT of a part address the message it encapsulates.
      const inner = part.message;
      if (!inner) return empty;
      if (item.text === 'TEXT') return { range: [inner.bodyStart, inner.end] };
      if (item.text === 'HEADER') return { range: [inner.headerStart, inner.bodyStart] };
      return { bytes: selectHeaderFields(inner.header, item.fields, item.text === 'HEADER.FIELDS.NOT', inner.blankLine) };
    }
  }
}

/** Applies <origin.count> to a range or buffer. */
export function applyPartial(data: SectionData, partial: SectionItem['partial']): SectionData {
  if (!partial) return data;
  if ('bytes' in data) return { bytes: data.bytes.subarray(Math.min(partial.origin, data.bytes.length), partial.origin + partial.count) };
  const [a, b] = data.range;
  const start = Math.min(a + partial.origin, b);
  return { range: [start, Math.min(start + partial.count, b)] };
}
