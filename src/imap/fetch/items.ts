// FETCH attribute parsing (RFC 3501 §6.4.5): macros, simple items, and
// BODY[section]<partial> with its section-spec grammar.
import { BadError } from '../../wire/errors.js';
import type { Token } from '../../wire/parser.js';

export type SectionText = '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

export interface SectionItem {
  kind: 'section';
  /** BODY[...] / BODY.PEEK[...] / RFC822 / RFC822.HEADER / RFC822.TEXT */
  peek: boolean;
  part: number[];
  text: SectionText;
  fields: string[];
  partial: { origin: number; count: number } | null;
  /** The name the response carries, e.g. BODY[HEADER.FIELDS (FROM TO)]<0> or RFC822.TEXT. */
  label: string;
}

export type SimpleName = 'FLAGS' | 'UID' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY' | 'MODSEQ' | 'SAVEDATE' | 'PREVIEW' | 'EMAILID' | 'THREADID';
/** RFC 3516 §4.2: BINARY[part]<partial>, BINARY.PEEK[…], BINARY.SIZE[part]: a part's content, transfer encoding undone. */
export interface BinaryItem {
  kind: 'binary';
  peek: boolean;
  /** BINARY.SIZE: the decoded size only. */
  size: boolean;
  part: number[];
  partial: { origin: number; count: number } | null;
  label: string;
}

/** `lazy`: PREVIEW (LAZY), RFC 8970 §3.2. */
export type FetchItem = { kind: 'simple'; name: SimpleName; lazy?: boolean } | SectionItem | BinaryItem;

const SIMPLE = new Set<string>(['FLAGS', 'UID', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'MODSEQ', 'SAVEDATE', 'PREVIEW', 'EMAILID', 'THREADID']); // SAVEDATE: RFC 8514 §3; PREVIEW: RFC 8970 §3; RFC 8474 §5
const MACROS: Record<string, SimpleName[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const MAX_ITEMS = 64;

export function parseFetchItems(t: Token): FetchItem[] {
  if (t.type === 'atom' && MACROS[t.value.toUpperCase()]) {
    return MACROS[t.value.toUpperCase()].map((name) => ({ kind: 'simple', name }));
  }
  const tokens = t.type === 'list' ? t.items : [t];
  if (tokens.length === 0) throw new BadError('FETCH: empty attribute list');
  if (tokens.length > MAX_ITEMS) throw new BadError('FETCH: too many attributes');
  const items: FetchItem[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    if (tok.type !== 'atom') throw new BadError('FETCH: invalid attribute');
    const item = parseItem(tok.value);
    const next = tokens[i + 1];
    // RFC 8970 §3: PREVIEW [SP "(" preview-mod *(SP preview-mod) ")"], the only modifier LAZY.
    if (item.kind === 'simple' && item.name === 'PREVIEW' && next?.type === 'list') {
      i++;
      for (const mod of next.items) {
        if (mod.type !== 'atom' || mod.value.toUpperCase() !== 'LAZY') throw new BadError('FETCH: PREVIEW modifiers: only LAZY');
        item.lazy = true;
      }
    }
    items.push(item);
  }
  return items;
}

function parseItem(raw: string): FetchItem {
  const up = raw.toUpperCase();
  if (SIMPLE.has(up)) return { kind: 'simple', name: up as SimpleName };
  if (up === 'RFC822') return section(false, [], '', [], null, 'RFC822');
  if (up === 'RFC822.HEADER') return section(true, [], 'HEADER', [], null, 'RFC822.HEADER');
  if (up === 'RFC822.TEXT') return section(false, [], 'TEXT', [], null, 'RFC822.TEXT');
  const b = /^(BINARY|BINARY\.PEEK|BINARY\.SIZE)\[([^\]]*)\](?:<(\d+)\.(\d+)>)?$/i.exec(raw);
  if (b) return binaryItem(b[1]!.toUpperCase(), b[2]!, b[3], b[4]);
  const m = /^(BODY|BODY\.PEEK)\[([^\]]*)\](?:<(\d+)\.(\d+)>)?$/i.exec(raw);
  if (!m) throw new BadError(`FETCH: unknown attribute ${raw.slice(0, 40)}`);
  const peek = m[1].toUpperCase() === 'BODY.PEEK';
  const spec = parseSectionSpec(m[2]);
  let partial: SectionItem['partial'] = null;
  if (m[3] !== undefined) {
    const origin = Number(m[3]);
    const count = Number(m[4]);
    if (!Number.isSafeInteger(origin) || !Number.isSafeInteger(count) || count === 0 || origin > 0xffffffff || count > 0xffffffff)
      throw new BadError('FETCH: invalid partial range');
    partial = { origin, count };
  }
  const fieldsText = spec.fields.length ? ` (${spec.fields.map((f) => f.toUpperCase()).join(' ')})` : '';
  const specText = [spec.part.join('.'), spec.text].filter((s) => s !== '').join('.');
  const label = `BODY[${specText}${fieldsText}]${partial ? `<${partial.origin}>` : ''}`;
  return section(peek, spec.part, spec.text, spec.fields, partial, label);
}

/** RFC 3516 §9: section-binary = "[" [section-part] "]"; BINARY.SIZE takes no partial. */
function binaryItem(name: string, spec: string, origin: string | undefined, count: string | undefined): BinaryItem {
  if (spec !== '' && !/^[1-9]\d*(\.[1-9]\d*)*$/.test(spec)) throw new BadError('FETCH: invalid BINARY section (part numbers only)');
  const part = spec === '' ? [] : spec.split('.').map(Number);
  if (part.length > 32 || part.some((n) => n > 0xffffffff)) throw new BadError('FETCH: invalid section part');
  const size = name === 'BINARY.SIZE';
  let partial: BinaryItem['partial'] = null;
  if (origin !== undefined) {
    if (size) throw new BadError('FETCH: BINARY.SIZE takes no partial');
    const o = Number(origin);
    const c = Number(count);
    if (!Number.isSafeInteger(o) || !Number.isSafeInteger(c) || c === 0 || o > 0xffffffff || c > 0xffffffff) throw new BadError('FETCH: invalid partial range');
    partial = { origin: o, count: c };
  }
  const label = `${size ? 'BINARY.SIZE' : 'BINARY'}[${spec}]${partial ? `<${partial.origin}>` : ''}`;
  return { kind: 'binary', peek: name !== 'BINARY', size, part, partial, label };
}

function section(peek: boolean, part: number[], text: SectionText, fields: string[], partial: SectionItem['partial'], label: string): SectionItem {
  return { kind: 'section', peek, part, text, fields, partial, label };
}

/** section-spec: [part] [. (HEADER | HEADER.FIELDS[.NOT] (names) | TEXT | MIME)] */
export function parseSectionSpec(spec: string): { part: number[]; text: SectionText; fields: string[] } {
  const m = /^([1-9]\d*(?:\.[1-9]\d*)*)?(.*)$/s.exec(spec)!;
  const part = m[1] ? m[1].split('.').map(Number) : [];
  if (part.length > 32 || part.some((n) => n > 0xffffffff)) throw new BadError('FETCH: invalid section part');
  // After part numbers, a text spec must follow a dot: "1.MIME", never "1MIME" or "1.".
  let rest = m[2];
  if (part.length && rest !== '') {
    if (rest[0] !== '.' || rest.length === 1) throw new BadError('FETCH: invalid section');
    rest = rest.slice(1);
  }
  if (rest === '') return { part, text: '', fields: [] };
  const f = /^(HEADER\.FIELDS(?:\.NOT)?) \((.*)\)$/is.exec(rest);
  if (f) {
    const fields = parseFieldNames(f[2]);
    return { part, text: f[1].toUpperCase() as SectionText, fields };
  }
  const text = rest.toUpperCase();
  if (text === 'HEADER' || text === 'TEXT') return { part, text, fields: [] };
  if (text === 'MIME' && part.length) return { part, text, fields: [] };
  throw new BadError('FETCH: invalid section');
}

function parseFieldNames(list: string): string[] {
  const names: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([^\s"()]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(list))) names.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  if (!names.length) throw new BadError('FETCH: empty header field list');
  if (names.some((n) => !/^[\x21-\x39\x3b-\x7e]+$/.test(n))) throw new BadError('FETCH: invalid header field name');
  return names;
}
