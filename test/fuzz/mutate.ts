// Mutations of a seed command: structural ones that keep it close to valid
// (a token replaced by a hostile one, repeated, nested, a literal lying about
// its size) and byte-level ones on the wire bytes.
import type { Rng } from './prng.js';
import { SEEDS, serialize, manyAddressMessage, deepMimeMessage, manyHeadersMessage, SIMPLE_MESSAGE, MULTIPART_MESSAGE, type Elem, type Lit, type Seed } from './corpus.js';

/** Tokens a parser has to get right: limits, escapes, wildcards, prototype names, odd characters. */
export const DICTIONARY: string[] = [
  'NIL', '""', '"\\\\"', '"a\\"b"', '"\\q"', '"unterminated', '*', '%', '0', '1', '-1', '+1', '4294967295', '4294967296', '18446744073709551616',
  '99999999999999999999999999', '1:*', '*:1', '1:4294967295', '4294967295:*', '1,2,3', '1,,2', ':', '1:', '$', '1:0',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '"__proto__"', '\\__proto__', '$__proto__',
  '\\Seen', '\\Deleted', '\\*', '\\Recent', '\\', '\\\\', 'BODY[]', 'BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33]',
  'BODY[HEADER.FIELDS (__proto__ constructor)]', 'BODY[HEADER.FIELDS ()]', 'BODY.PEEK[TEXT]<0.4294967295>', 'BODY[]<4294967295.1>', 'BODY[]<0.0>',
  'BODY[0]', 'BODY[1.0]', 'BODY[MIME]', 'BODY[1.MIME]<1.2>', 'BODY[', 'BODY]', 'BINARY[1]', '(', ')', '((', '))', '[', ']', '{', '}', '{0}', '{1+}',
  '{4294967295}', '{4294967296+}', '~', '.', '..', '../..', '/etc/passwd', 'INBOX', 'inbox', 'INBOX.', '.INBOX', 'a..b', 'a.', '&', '&-', '&AGE-',
  '&ZZZ', '&Jjo!', '&AOQ', '"a\tb"', 'ä', '😀', '"😀"', 'a'.repeat(300), 'x'.repeat(4000), 'CHARSET', 'UTF-8', 'X-UNKNOWN', 'NOT', 'OR', 'ALL',
  'UID', 'SINCE', '1-Jan-2024', '31-Feb-2024', '0-Jan-0', '"01-Jan-1970 00:00:00 +0000"', '"99-Xyz-99999 99:99:99 +9999"', 'CHANGEDSINCE',
  'UNCHANGEDSINCE', 'VANISHED', 'QRESYNC', 'CONDSTORE', '(1 2)', '(QRESYNC (0 0))', 'RETURN', '(MIN MAX)', 'MODSEQ', '"/vendor/x" all',
  'REFERENCES', 'ORDEREDSUBJECT', 'REVERSE', 'HEADER', 'LARGER', '*%*%*%*%*%*%*%*%*%*%*%*%*%', 'DONE', 'LOGOUT',
];

/** Bytes that change how a line is framed or a string is read. */
const BYTES = [0x00, 0x0d, 0x0a, 0x20, 0x22, 0x5c, 0x28, 0x29, 0x7b, 0x7d, 0x5b, 0x5d, 0x2a, 0x25, 0x2b, 0x7f, 0x80, 0xff, 0xc3, 0x09];
const TOKEN = /"(?:[^"\\\r\n]|\\.)*"|\[[^\]\r\n]*\]|<[^>\r\n]*>|[()]|\r\n|[ \t]+|[^\s()"\[<]+|./gs;

function tokens(s: string): string[] {
  return s.match(TOKEN) ?? [];
}

function cloneElems(elems: Elem[]): Elem[] {
  return elems.map((e) => (typeof e === 'string' ? e : { ...e }));
}

/** Indices of non-space tokens in `toks`. */
function wordIndices(toks: string[]): number[] {
  const out: number[] = [];
  toks.forEach((t, i) => {
    if (!/^\s+$/.test(t)) out.push(i);
  });
  return out;
}

function randomToken(rng: Rng): string {
  if (rng.chance(0.6)) return rng.pick(DICTIONARY);
  const seed = rng.pick(SEEDS);
  const texts = seed.elems.filter((e): e is string => typeof e === 'string');
  const words = texts.flatMap((t) => tokens(t)).filter((t) => !/^\s+$/.test(t));
  return words.length ? rng.pick(words) : 'x';
}

function messageFor(rng: Rng): string {
  switch (rng.int(6)) {
    case 0:
      return manyAddressMessage(rng.count(5000));
    case 1:
      return deepMimeMessage(rng.count(200));
    case 2:
      return manyHeadersMessage(rng.count(3000));
    case 3:
      return MULTIPART_MESSAGE;
    default:
      return SIMPLE_MESSAGE;
  }
}

type Mutator = (elems: Elem[], rng: Rng) => void;

/** Applies `fn` to the token list of one text element. */
function onTokens(elems: Elem[], rng: Rng, fn: (toks: string[]) => void): void {
  const idx = elems.map((e, i) => (typeof e === 'string' ? i : -1)).filter((i) => i >= 0);
  if (!idx.length) return;
  const i = rng.pick(idx);
  const toks = tokens(elems[i] as string);
  fn(toks);
  elems[i] = toks.join('');
}

function onLiteral(elems: Elem[], rng: Rng, fn: (l: Lit) => void): boolean {
  const idx = elems.map((e, i) => (typeof e === 'string' ? -1 : i)).filter((i) => i >= 0);
  if (!idx.length) return false;
  fn(elems[rng.pick(idx)] as Lit);
  return true;
}

const MUTATORS: Mutator[] = [
  // Replace a token.
  (e, rng) =>
    onTokens(e, rng, (t) => {
      const w = wordIndices(t);
      if (w.length) t[rng.pick(w)] = randomToken(rng);
    }),
  // Insert a token.
  (e, rng) => onTokens(e, rng, (t) => t.splice(rng.int(t.length + 1), 0, rng.chance(0.5) ? ' ' : '', randomToken(rng), rng.chance(0.5) ? ' ' : '')),
  // Delete a token.
  (e, rng) => onTokens(e, rng, (t) => t.length && t.splice(rng.int(t.length), 1)),
  // Repeat a token, many times.
  (e, rng) =>
    onTokens(e, rng, (t) => {
      const w = wordIndices(t);
      if (!w.length) return;
      const i = rng.pick(w);
      const sep = rng.pick([' ', '', ',']);
      t[i] = Array.from({ length: Math.min(rng.count(3000), 1 + Math.floor(MAX_INPUT / (t[i].length + 1))) }, () => t[i]).join(sep);
    }),
  // Nest a token in parentheses, sometimes deeper than the limit, sometimes unbalanced.
  (e, rng) =>
    onTokens(e, rng, (t) => {
      const w = wordIndices(t);
      if (!w.length) return;
      const i = rng.pick(w);
      const n = rng.count(100);
      t[i] = '('.repeat(n) + t[i] + ')'.repeat(rng.chance(0.8) ? n : rng.int(n));
    }),
  // A control character, quote or bracket inside the text.
  (e, rng) =>
    onTokens(e, rng, (t) => {
      const w = wordIndices(t);
      if (!w.length) return;
      const i = rng.pick(w);
      const at = rng.int(t[i].length + 1);
      const c = rng.pick(['\0', '\r', '\n', '\r\n', '"', '\\', '{', '}', '(', ')', '[', ']', '\x7f', '\t', ' ', '\u00e4']);
      t[i] = t[i].slice(0, at) + c + t[i].slice(at);
    }),
  // Swap two tokens.
  (e, rng) =>
    onTokens(e, rng, (t) => {
      const w = wordIndices(t);
      if (w.length < 2) return;
      const a = rng.pick(w);
      const b = rng.pick(w);
      [t[a], t[b]] = [t[b], t[a]];
    }),
  // A quoted string or atom becomes a literal (or the reverse).
  (e, rng) => {
    const idx = e.map((x, i) => (typeof x === 'string' ? i : -1)).filter((i) => i >= 0);
    if (!idx.length) return;
    const i = rng.pick(idx);
    const toks = tokens(e[i] as string);
    const w = wordIndices(toks).filter((j) => j > 1 && toks[j] !== '\r\n' && toks[j] !== '(' && toks[j] !== ')');
    if (!w.length) return;
    const j = rng.pick(w);
    const word = toks[j].startsWith('"') ? toks[j].slice(1, -1) : toks[j];
    const before = toks.slice(0, j).join('');
    const after = toks.slice(j + 1).join('');
    e.splice(i, 1, before, { lit: Buffer.from(word), nonSync: rng.chance(0.5) }, after);
  },
  // A literal lies about its size, or is of the other kind.
  (e, rng) =>
    void onLiteral(e, rng, (l) => {
      const n = l.lit.length;
      const size = rng.pick([0, 1, n - 1, n + 1, n * 2, 8192, 8193, 65536, 1048577, 4294967295, 4294967296, 1e20]);
      l.marker = `{${size}${rng.chance(0.5) ? '+' : ''}}\r\n`;
      if (rng.chance(0.3)) l.marker = rng.pick(['{}\r\n', '{+}\r\n', '{-1}\r\n', '{1 }\r\n', '{ 1}\r\n', '{1}', '{1}\n', `{${n}}\r`, '{0x10}\r\n', '{01}\r\n']);
    }),
  (e, rng) => void onLiteral(e, rng, (l) => (l.nonSync = !l.nonSync)),
  // A literal's bytes: control characters, cut short, or a hostile message.
  (e, rng) =>
    void onLiteral(e, rng, (l) => {
      const r = rng.int(3);
      if (r === 0) l.lit = Buffer.from(messageFor(rng));
      else if (r === 1) l.lit = l.lit.subarray(0, rng.int(l.lit.length + 1));
      else {
        const b = Buffer.from(l.lit);
        if (b.length) b[rng.int(b.length)] = rng.pick(BYTES);
        l.lit = b;
      }
    }),
  // Many literals in one command.
  (e, rng) => {
    const n = rng.count(200);
    const extra: Elem[] = [];
    for (let i = 0; i < n; i++) extra.push(' ', { lit: Buffer.from(rng.chance(0.5) ? 'x' : '\0\r\n'), nonSync: rng.chance(0.7) });
    const at = e.length - 1;
    e.splice(at, 0, ...extra);
  },
  // An overlong line.
  (e, rng) =>
    onTokens(e, rng, (t) => {
      t.splice(rng.int(t.length + 1), 0, 'a'.repeat(rng.pick([8190, 8193, 16385, 65535, 65537, 70000])));
    }),
  // Another command's arguments spliced in.
  (e, rng) => {
    const other = rng.pick(SEEDS);
    e.splice(rng.int(e.length + 1), 0, ...cloneElems(other.elems).slice(rng.int(2)));
  },
];

/** Largest input: past every line limit, well short of the command limit (tested on its own). */
export const MAX_INPUT = 256 * 1024;

/** A mutated command (1 to several mutations, then sometimes byte-level damage), as wire bytes. */
export function mutate(seed: Seed, rng: Rng): Buffer {
  const elems = cloneElems(seed.elems);
  const n = 1 + rng.int(rng.chance(0.2) ? 8 : 3);
  for (let i = 0; i < n; i++) {
    rng.pick(MUTATORS)(elems, rng);
    // Repeats compound; past the largest limits (64 KiB lines, 8 KiB before login) more bytes only cost time.
    if (elems.reduce((sum, e) => sum + (typeof e === 'string' ? e.length : e.lit.length), 0) > MAX_INPUT) break;
  }
  let bytes = serialize(elems);
  if (rng.chance(0.25)) bytes = damage(bytes, rng);
  return bytes.length > MAX_INPUT ? bytes.subarray(0, MAX_INPUT) : bytes;
}

/** Byte-level damage: flips, inserted framing bytes, deleted or repeated ranges, a cut end. */
export function damage(input: Buffer, rng: Rng): Buffer {
  let b = Buffer.from(input);
  const k = 1 + rng.int(4);
  for (let i = 0; i < k && b.length; i++) {
    const at = rng.int(b.length);
    switch (rng.int(6)) {
      case 0:
        b[at] ^= 1 << rng.int(8);
        break;
      case 1:
        b[at] = rng.pick(BYTES);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([rng.pick(BYTES)]), b.subarray(at)]);
        break;
      case 3: {
        const len = rng.int(Math.min(64, b.length - at) + 1);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      case 4: {
        const len = 1 + rng.int(Math.min(32, b.length - at));
        const piece = b.subarray(at, at + len);
        b = Buffer.concat([b.subarray(0, at), ...Array.from({ length: rng.count(500) }, () => piece), b.subarray(at)]);
        break;
      }
      case 5:
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}
