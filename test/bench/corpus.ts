// A deterministic, realistic Maildir for the mailbox-sync benchmark
// (test/bench/sync.ts), after the "Method" section of
// ../shared/fixtures/dovecot-sync-bench.md: what Postfix virtual(8) leaves in
// cur/ once a client has seen the mail.
//
// - ~70 % text/plain 1–4 KB, ~20 % multipart/alternative 10–30 KB (QP HTML),
//   ~10 % multipart/mixed with base64 attachments 50–300 KB (RFC 2231 names on some);
// - Postfix-like headers: Return-Path, X-Original-To, Delivered-To, two
//   Received, DKIM-Signature + Authentication-Results on half;
// - RFC 2047 From/To/Cc names; 15 % non-ASCII subjects (UTF-8 B/Q, ISO-8859-1 Q);
//   Dates in 9 time zones, 1 % from a skewed clock;
// - 35 % replies (In-Reply-To, References up to 12 ids), mailing lists
//   (List-Id, Reply-To, subject prefix);
// - LF line endings; names `<secs>.Vfe01I<ino>M<usec>.vm:2,<flags>` (no ,S= / ,W=),
//   mtime = delivery time over 3 years from 2021-01-01;
// - flags ~33 % \Seen, 2 % \Flagged, 4 % \Answered;
// - the marker word "kumquat" in ~1 % of bodies and nowhere else.
//
// Message i depends only on (seed, i, count): workers generate disjoint
// subsets and the same seed gives byte-identical files.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export const MARKER = 'kumquat';
const START_SECS = Date.UTC(2021, 0, 1) / 1000;
const SPAN_SECS = 3 * 365 * 86400;

// --- deterministic randomness ---

function mix32(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** sfc32, seeded from (seed, i, stream). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number, i: number, stream: number) {
    this.a = mix32(seed, 0x1234567 + stream);
    this.b = mix32(i, this.a);
    this.c = mix32(stream * 7919 + 1, this.b);
    this.d = 1;
    for (let k = 0; k < 12; k++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.float() * a.length)];
  }
  /** `n` pseudo-random bytes (xorshift128 from this stream; fast). */
  bytes(n: number): Buffer {
    const words = Math.ceil(n / 4);
    const u = new Uint32Array(words);
    let x = this.u32() | 1, y = this.u32(), z = this.u32(), w = this.u32();
    for (let k = 0; k < words; k++) {
      const t = x ^ (x << 11);
      x = y;
      y = z;
      z = w;
      w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
      u[k] = w;
    }
    return Buffer.from(u.buffer, 0, n);
  }
}

// --- vocabulary (never containing the marker) ---

const WORDS = (
  'the of and to in is that it for on with as was at by be this have from or one had not but what all were when we there can an your which their said if do will ' +
  'each about how up out them then she many some so these would other into has more her two like him see time could no make than first been its who now people my ' +
  'made over did down only way find use may water long little very after words called just where most know get through back much before go good new write our used ' +
  'me man too any day same right look think also around another came come work three word must because does part even place well such here take why things help put ' +
  'years different away again off went old number great tell men say small every found still between name should home big give air line set own under read last never ' +
  'us left end along while might next sound below saw something thought both few those always looked show large often together asked house world going want school ' +
  'important until form food keep children feet land side without boy once animals life enough took sometimes four head above kind began almost live page got earth ' +
  'need far hand high year mother light parts country father let night following picture being study second eyes soon times story boys since white days ever paper ' +
  'hard near sentence better best across during today others however sure means knew its try told young miles sun ways thing whole hear example heard several change ' +
  'answer room sea against top turned learn point city play toward five using himself usually meeting budget invoice release schedule server backup deadline draft ' +
  'review proposal quarter report update patch build deploy ticket migration cluster latency storage network invoice contract agenda minutes summary feedback'
).split(' ');
const WORDS_ACCENTED = 'café naïve résumé Müller Größe Straße déjà façade über Ärger Ölpreis jalapeño señor São Zürich Köln Malmö Århus Kraków œuvre'.split(' ');
const LATIN1_SUBJECT_WORDS = 'Café Größe Übersicht Ärger réunion année déjà vu Straße Bücher prévu Zürich'.split(' ');
const UTF8_SUBJECT_WORDS = 'Привет отчёт 会議 資料 Ελλάδα Łódź Kraków ✓ erledigt €100 “quoted” Ωmega 日本語 Þórr'.split(' ');

interface Person {
  name: string;
  addr: string;
}

const PEOPLE: Person[] = [
  ['Alice Johnson', 'alice.johnson@example.org'],
  ['Smith, John', 'jsmith@example.net'],
  ['Carol Danvers', 'carol@mail.example.com'],
  ['Dave O\'Brien', 'dave.obrien@example.org'],
  ['Jörg Müller', 'joerg.mueller@example.de'],
  ['François Lefèvre', 'f.lefevre@example.fr'],
  ['Łukasz Wiśniewski', 'lukasz@example.pl'],
  ['José Álvarez', 'jose.alvarez@example.es'],
  ['Zoë Brontë', 'zoe@example.co.uk'],
  ['Søren Kierkegård', 'soren@example.dk'],
  ['山田 太郎', 'yamada@example.jp'],
  ['Άννα Παπαδοπούλου', 'anna@example.gr'],
  ['Иван Петров', 'ivan.petrov@example.ru'],
  ['Ærling Ødegård', 'aerling@example.no'],
  ['Grace Hopper', 'grace@navy.example.mil'],
  ['Ken Thompson', 'ken@bell.example.com'],
  ['Margaret Hamilton', 'mhamilton@example.edu'],
  ['Linus B.', 'linus@example.fi'],
  ['', 'noreply@notifications.example.com'],
  ['Billing Department', 'billing@shop.example.com'],
  ['Renée Côté', 'renee.cote@example.ca'],
  ['Björn Ångström', 'bjorn@example.se'],
  ['Ming Zhāng', 'ming.zhang@example.cn'],
  ['Priya Raman', 'priya@example.in'],
].map(([name, addr]) => ({ name, addr }));
const BOB: Person = { name: 'Bob Example', addr: 'bob@example.com' };

const LISTS = [
  { id: 'dev.lists.example.org', name: 'dev', title: 'Developers' },
  { id: 'announce.lists.example.org', name: 'announce', title: 'Announcements' },
  { id: 'users.lists.example.net', name: 'users', title: 'User help' },
  { id: 'ops.lists.example.com', name: 'ops', title: 'Operations' },
  { id: 'café.lists.example.fr', name: 'cafe', title: 'Le café' },
];

/** Offsets in minutes: 9 zones. */
const ZONES = [0, 60, 120, -300, -480, 330, 540, -180, 600];

const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s);
const isLatin1 = (s: string) => /^[\x00-\xff]*$/.test(s);

// --- encoders ---

function qEncodeWord(s: string, charset: 'UTF-8' | 'ISO-8859-1'): string {
  const bytes = Buffer.from(s, charset === 'UTF-8' ? 'utf8' : 'latin1');
  let out = '';
  for (const b of bytes) {
    if (b === 0x20) out += '_';
    else if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) out += String.fromCharCode(b);
    else out += '=' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return `=?${charset}?Q?${out}?=`;
}

function bEncodeWord(s: string): string {
  return `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

/** An RFC 2047 phrase for a display name; `mode` 0/1/2 = UTF-8 B / UTF-8 Q / ISO-8859-1 Q where possible. */
function encodeName(name: string, mode: number): string {
  if (isAscii(name)) return /[,.'()]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;
  if (mode === 2 && isLatin1(name)) return qEncodeWord(name, 'ISO-8859-1');
  return mode === 1 ? qEncodeWord(name, 'UTF-8') : bEncodeWord(name);
}

function addr(p: Person, mode: number): string {
  return p.name ? `${encodeName(p.name, mode)} <${p.addr}>` : p.addr;
}

const HEX = Buffer.from('0123456789ABCDEF', 'latin1');

/** Quoted-printable of UTF-8 text with LF line ends; lines at most 76 chars. */
export function qpEncode(text: string): string {
  const src = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(src.length * 3 + Math.ceil(src.length / 25) * 2 + 16);
  let o = 0;
  let col = 0;
  for (let k = 0; k < src.length; k++) {
    const b = src[k];
    if (b === 10) {
      out[o++] = 10;
      col = 0;
      continue;
    }
    const atEol = k + 1 === src.length || src[k + 1] === 10;
    const plain = b !== 0x3d && b <= 0x7e && (b >= 0x20 || b === 0x09) && !((b === 0x20 || b === 0x09) && atEol);
    const w = plain ? 1 : 3;
    if (col + w > 75) {
      out[o++] = 0x3d;
      out[o++] = 10;
      col = 0;
    }
    if (plain) out[o++] = b;
    else {
      out[o++] = 0x3d;
      out[o++] = HEX[b >> 4];
      out[o++] = HEX[b & 15];
    }
    col += w;
  }
  return out.toString('latin1', 0, o);
}

function base64Lines(data: Buffer): Buffer {
  const b64 = Buffer.from(data.toString('base64'), 'latin1');
  const lines = Math.ceil(b64.length / 76);
  const out = Buffer.allocUnsafe(b64.length + lines);
  let o = 0;
  for (let k = 0; k < b64.length; k += 76) {
    o += b64.copy(out, o, k, Math.min(b64.length, k + 76));
    out[o++] = 10;
  }
  return out.subarray(0, o);
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** RFC 5322 date-time of `secs` in a zone `offMin` minutes east of UTC. */
export function rfc5322Date(secs: number, offMin: number): string {
  const d = new Date((secs + offMin * 60) * 1000);
  const sign = offMin < 0 ? '-' : '+';
  const a = Math.abs(offMin);
  return `${WEEKDAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${sign}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}

// --- per-message facts (cheap; used for threading across messages) ---

export type Kind = 'plain' | 'alternative' | 'mixed';

interface Meta {
  kind: Kind;
  reply: boolean;
  parent: number;
  listRoot: number; // -1: not a list message (roots only)
  sender: number;
  subjWords: string[];
  subjEnc: number; // -1 ascii, 0 UTF-8 B, 1 UTF-8 Q, 2 ISO-8859-1 Q
  zone: number;
  skewSecs: number;
  seen: boolean;
  flagged: boolean;
  answered: boolean;
  marker: boolean;
  dkim: boolean;
  cc: boolean;
  nameMode: number;
  usec: number;
  delivery: number;
}

function metaOf(seed: number, i: number, count: number): Meta {
  const r = new Rng(seed, i, 1);
  const k = r.float();
  const kind: Kind = k < 0.7 ? 'plain' : k < 0.9 ? 'alternative' : 'mixed';
  const reply = i > 0 && r.chance(0.35);
  const parent = reply ? Math.max(0, i - r.int(1, 400)) : -1;
  const list = r.chance(0.25) ? r.int(0, LISTS.length - 1) : -1;
  const sender = r.int(0, PEOPLE.length - 1);
  const nw = r.int(3, 8);
  const subjEnc = r.chance(0.15) ? r.int(0, 2) : -1;
  const subjWords: string[] = [];
  for (let w = 0; w < nw; w++) subjWords.push(r.pick(WORDS));
  if (subjEnc === 2) subjWords.splice(r.int(0, nw), 0, r.pick(LATIN1_SUBJECT_WORDS), r.pick(LATIN1_SUBJECT_WORDS));
  else if (subjEnc >= 0) subjWords.splice(r.int(0, nw), 0, r.pick(UTF8_SUBJECT_WORDS), r.pick(UTF8_SUBJECT_WORDS));
  const zone = r.pick(ZONES);
  const skew = r.chance(0.01);
  const skewSecs = skew ? (r.chance(0.5) ? 1 : -1) * r.int(3600, 400 * 86400) : 0;
  const seen = r.chance(0.33);
  const flagged = r.chance(0.02);
  const answered = r.chance(0.04);
  const marker = r.chance(0.01);
  const dkim = r.chance(0.5);
  const cc = r.chance(0.3);
  const nameMode = r.int(0, 2);
  const usec = r.int(0, 999_999);
  const slot = SPAN_SECS / count;
  const delivery = Math.floor(START_SECS + i * slot + r.float() * slot * 0.9);
  return { kind, reply, parent, listRoot: list, sender, subjWords, subjEnc, zone, skewSecs, seen, flagged, answered, marker, dkim, cc, nameMode, usec, delivery };
}

function msgId(seed: number, i: number, m: Meta): string {
  const dom = PEOPLE[m.sender].addr.split('@')[1];
  return `<${mix32(seed, i).toString(36)}.${i.toString(36)}.${(m.delivery % 100000).toString(36)}@${dom}>`;
}

interface Thread {
  root: number;
  rootMeta: Meta;
  /** Message-IDs of the ancestors, oldest first (at most 12). */
  refs: string[];
}

function threadOf(seed: number, i: number, count: number, m: Meta): Thread {
  const refs: string[] = [];
  let j = i;
  let mj = m;
  while (mj.reply) {
    const p = mj.parent;
    const mp = metaOf(seed, p, count);
    refs.unshift(msgId(seed, p, mp));
    j = p;
    mj = mp;
  }
  return { root: j, rootMeta: mj, refs: refs.slice(-12) };
}

function subjectOf(t: Thread, reply: boolean): string {
  const m = t.rootMeta;
  const list = m.listRoot >= 0 ? `[${LISTS[m.listRoot].name}] ` : '';
  const text = m.subjWords.join(' ');
  const cap = text.charAt(0).toUpperCase() + text.slice(1);
  let enc: string;
  if (m.subjEnc < 0) enc = cap;
  else if (m.subjEnc === 2) enc = qEncodeWord(cap, 'ISO-8859-1');
  else if (m.subjEnc === 1) enc = qEncodeWord(cap, 'UTF-8');
  else enc = bEncodeWord(cap);
  return (reply ? 'Re: ' : '') + list + enc;
}

// --- bodies ---

function sentence(r: Rng, accented: boolean): string {
  const n = r.int(6, 18);
  const w: string[] = [];
  for (let k = 0; k < n; k++) w.push(accented && r.chance(0.08) ? r.pick(WORDS_ACCENTED) : r.pick(WORDS));
  const s = w.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1) + r.pick(['.', '.', '.', '?', '!', ',  right?']);
}

function wrap(text: string, width = 72): string {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(' ')) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out.join('\n');
}

const MARKER_SENTENCES = [`I brought a ${MARKER} back from the market.`, `The ${MARKER} tree on the balcony finally has fruit.`, `Can we call the project ${MARKER}?`];

/** Paragraphs of plain text, about `target` bytes, with the marker sentence if `marker`. */
function textBody(r: Rng, target: number, accented: boolean, marker: boolean): string {
  const paras: string[] = [];
  let size = 0;
  while (size < target) {
    const ns = r.int(2, 6);
    const ss: string[] = [];
    for (let k = 0; k < ns; k++) ss.push(sentence(r, accented));
    const p = wrap(ss.join(' '));
    paras.push(p);
    size += p.length + 2;
  }
  if (marker) {
    const at = r.int(0, paras.length - 1);
    paras[at] = wrap(`${paras[at].replace(/\n/g, ' ')} ${r.pick(MARKER_SENTENCES)}`);
  }
  return paras.join('\n\n');
}

function htmlBody(r: Rng, text: string, target: number): string {
  const paras = text.split('\n\n').map((p) => `<p style="margin:0 0 12px 0;font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:20px;color:#333333;">${escapeHtml(p.replace(/\n/g, ' '))}</p>`);
  let html =
    `<!DOCTYPE html>\n<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<style type="text/css">\nbody { margin: 0; padding: 0; } table { border-collapse: collapse; } .footer a { color: #888888; }\n</style>\n</head>\n` +
    `<body style="margin:0;padding:0;background-color:#f4f4f4;">\n<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#f4f4f4">\n<tr>\n<td align="center" style="padding:20px 0;">\n` +
    `<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff">\n<tr><td style="padding:24px;">\n${paras.join('\n')}\n</td></tr>\n`;
  while (html.length < target) {
    html +=
      `<tr>\n<td style="padding:12px 24px;border-top:1px solid #eeeeee;">\n<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>\n` +
      `<td width="120" valign="top"><img src="https://cdn.example.com/img/${r.u32().toString(16)}.png" width="100" height="100" alt="" style="display:block;border:0;"></td>\n` +
      `<td valign="top" style="font-family:Arial,Helvetica,sans-serif;font-size:13px;color:#555555;"><a href="https://www.example.com/item/${r.u32().toString(36)}?utm_source=newsletter&amp;utm_medium=email" style="color:#1a73e8;text-decoration:none;">${escapeHtml(sentence(r, true))}</a><br>${escapeHtml(sentence(r, true))}</td>\n` +
      `</tr></table>\n</td>\n</tr>\n`;
  }
  html += `<tr><td class="footer" style="padding:24px;font-size:11px;color:#888888;">You receive this because you subscribed. <a href="https://www.example.com/unsubscribe">Unsubscribe</a> &middot; Example Ltd, 1 Example Street</td></tr>\n</table>\n</td>\n</tr>\n</table>\n</body>\n</html>`;
  return html;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const ATTACH_TYPES = [
  { type: 'application/pdf', ext: 'pdf' },
  { type: 'image/jpeg', ext: 'jpg' },
  { type: 'image/png', ext: 'png' },
  { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ext: 'xlsx' },
  { type: 'application/zip', ext: 'zip' },
];
const ASCII_FILE_STEMS = ['report-2021', 'invoice_0042', 'scan', 'IMG_2043', 'minutes', 'budget Q3', 'slides-final-v2'];
const INTL_FILE_STEMS = ['Résumé', 'Übersicht Größe', 'Präsentation März', 'отчёт', '会議資料', 'Año fiscal 2022 – Informe anual de resultados y previsiones'];

/** RFC 2231 encoding of a parameter, split into continuations when long. */
function rfc2231(param: string, value: string): string {
  const enc = encodeURIComponent(value).replace(/['()*!]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  if (enc.length < 60) return `${param}*=UTF-8''${enc}`;
  const tokens = enc.match(/%[0-9A-F]{2}|[^%]/g) ?? [];
  const parts: string[] = [];
  let cur = '';
  for (const tk of tokens) {
    if (cur.length + tk.length > 50) {
      parts.push(cur);
      cur = '';
    }
    cur += tk;
  }
  if (cur) parts.push(cur);
  return parts.map((p, n) => `${param}*${n}*=${n === 0 ? "UTF-8''" : ''}${p}`).join(';\n\t');
}

function boundary(r: Rng): string {
  return `----=_Part_${r.int(100000, 999999)}_${r.u32().toString(16)}.${r.u32().toString(16)}`;
}

// --- one message ---

export interface GeneratedMessage {
  /** File name in cur/ (with :2,flags). */
  name: string;
  /** Delivery time, seconds since the epoch (the file's mtime). */
  mtime: number;
  content: Buffer;
  kind: Kind;
  marker: boolean;
  flags: string;
}

export function generateMessage(seed: number, i: number, count: number): GeneratedMessage {
  const m = metaOf(seed, i, count);
  const r = new Rng(seed, i, 2);
  const t = threadOf(seed, i, count, m);
  const list = t.rootMeta.listRoot >= 0 ? LISTS[t.rootMeta.listRoot] : null;
  const from = PEOPLE[m.sender];
  const fromDom = from.addr.split('@')[1];
  const id = msgId(seed, i, m);
  const ip = `198.51.100.${(i * 7) % 254 + 1}`;
  const ip2 = `203.0.113.${(i * 13) % 254 + 1}`;
  const qid = (mix32(seed ^ 0x5a5a, i) >>> 0).toString(16).toUpperCase().padStart(8, '0') + (i % 4096).toString(16).toUpperCase();
  const qid2 = (mix32(seed ^ 0xa5a5, i) >>> 0).toString(16).toUpperCase().padStart(8, '0');
  const recvDate = rfc5322Date(m.delivery, 0) + ' (UTC)';
  const sentSecs = m.delivery - r.int(2, 1800) + m.skewSecs;
  const envFrom = list ? `${list.name}-bounces+bob=example.com@${list.id.split('.').slice(1).join('.')}` : from.addr;

  const h: string[] = [];
  h.push(`Return-Path: <${envFrom}>`);
  h.push(`X-Original-To: bob@example.com`);
  h.push(`Delivered-To: bob@example.com`);
  h.push(`Received: from mx.${fromDom} (mx.${fromDom} [${ip}])\n\tby mail.example.com (Postfix) with ESMTPS id ${qid}\n\tfor <bob@example.com>; ${recvDate}`);
  h.push(`Received: from [${ip2}] (unknown [${ip2}])\n\t(Authenticated sender: ${from.addr})\n\tby mx.${fromDom} (Postfix) with ESMTPSA id ${qid2};\n\t${rfc5322Date(m.delivery - 1, m.zone)}`);
  if (m.dkim) {
    const bh = r.bytes(32).toString('base64');
    const b = r.bytes(256).toString('base64');
    h.push(
      `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${fromDom};\n\ts=sel${r.int(1, 3)}; t=${sentSecs}; bh=${bh};\n\th=From:To:Subject:Date:Message-ID:Content-Type;\n\tb=${b.slice(0, 70)}\n\t ${b.slice(70, 140)}\n\t ${b.slice(140, 210)}\n\t ${b.slice(210)}`,
    );
    h.push(`Authentication-Results: mail.example.com;\n\tdkim=pass (2048-bit key; unprotected) header.d=${fromDom} header.i=@${fromDom} header.b="${b.slice(0, 8)}";\n\tdkim-atps=neutral; spf=pass (sender IP is ${ip}) smtp.mailfrom=${fromDom}`);
  }
  h.push(`From: ${addr(from, m.nameMode)}`);
  const to = [addr(BOB, m.nameMode)];
  if (list) to.unshift(`${list.name}@${list.id.split('.').slice(1).join('.')}`);
  else if (r.chance(0.2)) to.push(addr(PEOPLE[(m.sender + 3) % PEOPLE.length], m.nameMode));
  h.push(`To: ${to.join(',\n ')}`);
  if (m.cc) {
    const n = r.int(1, 3);
    const cc: string[] = [];
    for (let k = 0; k < n; k++) cc.push(addr(PEOPLE[(m.sender + 5 + k * 7) % PEOPLE.length], (m.nameMode + k) % 3));
    h.push(`Cc: ${cc.join(',\n ')}`);
  }
  h.push(`Subject: ${subjectOf(t, m.reply)}`);
  h.push(`Date: ${rfc5322Date(sentSecs, m.zone)}`);
  h.push(`Message-ID: ${id}`);
  if (m.reply) {
    h.push(`In-Reply-To: ${t.refs[t.refs.length - 1]}`);
    h.push(`References: ${t.refs.join('\n ')}`);
  }
  if (list) {
    const dom = list.id.split('.').slice(1).join('.');
    h.push(`Reply-To: ${list.name}@${dom}`);
    h.push(`List-Id: ${list.title} <${list.id}>`);
    h.push(`List-Unsubscribe: <mailto:${list.name}-leave@${dom}>,\n <https://${dom}/mailman/options/${list.name}>`);
    h.push(`List-Post: <mailto:${list.name}@${dom}>`);
    h.push(`Precedence: list`);
  }
  if (r.chance(0.05)) h.push('X-Priority: 1 (Highest)');
  h.push(`User-Agent: ${r.pick(['Mozilla Thunderbird', 'Apple Mail (2.3654)', 'K-9 Mail for Android', 'Roundcube Webmail/1.6.1', 'Microsoft Outlook 16.0'])}`);
  h.push('MIME-Version: 1.0');

  // Body text.
  const accented = r.chance(0.4);
  const cte = accented ? r.pick(['8bit', 'quoted-printable']) : r.pick(['7bit', '7bit', 'quoted-printable']);
  const plainTarget = m.kind === 'plain' ? r.int(1000, 4000) : r.int(800, 3000);
  let text = textBody(r, plainTarget * 0.8, accented, m.marker);
  if (m.reply) {
    const quoted = textBody(r, r.int(200, 900), false, false)
      .split('\n')
      .map((l) => (l ? `> ${l}` : '>'))
      .join('\n');
    text += `\n\nOn ${rfc5322Date(sentSecs - r.int(600, 86400), m.zone)}, someone wrote:\n${quoted}`;
  }
  text += `\n\n-- \n${from.name || 'Notifications'}\n`;
  const textPart = (t2: string, enc: string) => ({ headers: `Content-Type: text/plain; charset=utf-8${r.chance(0.3) ? '; format=flowed' : ''}\nContent-Transfer-Encoding: ${enc}`, body: enc === 'quoted-printable' ? qpEncode(t2) : t2 });

  const parts: Buffer[] = [];
  const s = (x: string) => parts.push(Buffer.from(x, 'utf8'));
  if (m.kind === 'plain') {
    const tp = textPart(text, cte);
    s(h.join('\n') + '\n' + tp.headers + '\n\n' + tp.body + (tp.body.endsWith('\n') ? '' : '\n'));
  } else if (m.kind === 'alternative') {
    const bnd = boundary(r);
    const target = r.int(10_000, 30_000);
    const tp = textPart(text, cte);
    const html = qpEncode(htmlBody(r, textBody(r, 400, accented, false) + '\n\n' + text, target - 3000));
    s(
      h.join('\n') +
        `\nContent-Type: multipart/alternative;\n\tboundary="${bnd}"\n\nThis is a multi-part message in MIME format.\n\n` +
        `--${bnd}\n${tp.headers}\n\n${tp.body}\n--${bnd}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${html}\n--${bnd}--\n`,
    );
  } else {
    const bnd = boundary(r);
    const tp = textPart(text, cte);
    s(h.join('\n') + `\nContent-Type: multipart/mixed; boundary="${bnd}"\n\nThis is a multi-part message in MIME format.\n--${bnd}\n${tp.headers}\n\n${tp.body}\n`);
    const n = r.int(1, 3);
    const total = r.int(50_000, 300_000) * 0.74; // encoded size ~ total
    for (let k = 0; k < n; k++) {
      const at = r.pick(ATTACH_TYPES);
      const intl = r.chance(0.4);
      const stem = intl ? r.pick(INTL_FILE_STEMS) : r.pick(ASCII_FILE_STEMS);
      const fname = `${stem}.${at.ext}`;
      const size = Math.max(1000, Math.floor(total / n));
      let data: Buffer;
      let b64: Buffer;
      // The marker must not appear by chance in the encoded text either.
      for (let attempt = 0; ; attempt++) {
        data = r.bytes(size);
        b64 = base64Lines(data);
        if (!/kumquat/i.test(b64.toString('latin1')) && !/kumquat/i.test(data.toString('latin1'))) break;
      }
      const nameParam = intl ? rfc2231('name', fname) : `name="${fname}"`;
      const fileParam = intl ? rfc2231('filename', fname) : `filename="${fname}"`;
      s(`--${bnd}\nContent-Type: ${at.type};\n\t${nameParam}\nContent-Disposition: attachment;\n\t${fileParam}\nContent-Transfer-Encoding: base64\n\n`);
      parts.push(b64);
    }
    s(`--${bnd}--\n`);
  }
  const content = Buffer.concat(parts);
  const flags = `${m.flagged ? 'F' : ''}${m.answered ? 'R' : ''}${m.seen ? 'S' : ''}`;
  const ino = (0x2_0000 + i * 11 + (mix32(seed, i) % 11)).toString(16);
  const name = `${m.delivery}.Vfe01I${ino}M${m.usec}.vm:2,${flags}`;
  return { name, mtime: m.delivery, content, kind: m.kind, marker: m.marker, flags };
}

// --- the whole Maildir ---

export interface CorpusStats {
  count: number;
  seed: number;
  bytes: number;
  /** Messages with the marker word in their body (SEARCH TEXT "kumquat" hits). */
  planted: number;
  kinds: Record<Kind, number>;
  seen: number;
  flagged: number;
  answered: number;
}

export interface Corpus extends CorpusStats {
  /** The Maildir (with cur/ new/ tmp/). */
  maildir: string;
  generateMs: number;
  cached: boolean;
}

export function emptyStats(count: number, seed: number): CorpusStats {
  return { count, seed, bytes: 0, planted: 0, kinds: { plain: 0, alternative: 0, mixed: 0 }, seen: 0, flagged: 0, answered: 0 };
}

export function addStats(s: CorpusStats, g: GeneratedMessage): void {
  s.bytes += g.content.length;
  if (g.marker) s.planted++;
  s.kinds[g.kind]++;
  if (g.flags.includes('S')) s.seen++;
  if (g.flags.includes('F')) s.flagged++;
  if (g.flags.includes('R')) s.answered++;
}

/** Writes messages from, from+step, … < count into `maildir`/cur. Used by the worker threads. */
export function writeSlice(maildir: string, seed: number, count: number, from: number, step: number): CorpusStats {
  const st = emptyStats(count, seed);
  const cur = path.join(maildir, 'cur');
  for (let i = from; i < count; i += step) {
    const g = generateMessage(seed, i, count);
    const file = path.join(cur, g.name);
    fs.writeFileSync(file, g.content);
    fs.utimesSync(file, g.mtime, g.mtime);
    addStats(st, g);
  }
  return st;
}

/**
 * Generates `count` messages with `seed` into the Maildir `dir` (created; its
 * cur/ must be empty). Spread over worker threads: file creation costs ~1 ms
 * of latency here, and the attachments cost CPU.
 */
export async function generateCorpus(opts: { dir: string; count: number; seed: number; workers?: number }): Promise<CorpusStats & { generateMs: number }> {
  const t0 = performance.now();
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(opts.dir, sub), { recursive: true });
  const workers = Math.max(1, Math.min(opts.workers ?? Math.max(8, os.cpus().length * 4), opts.count));
  const workerFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus-worker.js');
  const parts = await Promise.all(
    Array.from(
      { length: workers },
      (_, w) =>
        new Promise<CorpusStats>((resolve, reject) => {
          const wk = new Worker(workerFile, { workerData: { maildir: opts.dir, seed: opts.seed, count: opts.count, from: w, step: workers } });
          let got: CorpusStats | undefined;
          wk.on('message', (m: CorpusStats) => (got = m));
          wk.on('error', reject);
          wk.on('exit', (code) => (code === 0 && got ? resolve(got) : reject(new Error(`corpus worker ${w} exited with ${code}`))));
        }),
    ),
  );
  const st = emptyStats(opts.count, opts.seed);
  for (const p of parts) {
    st.bytes += p.bytes;
    st.planted += p.planted;
    for (const k of Object.keys(st.kinds) as Kind[]) st.kinds[k] += p.kinds[k];
    st.seen += p.seen;
    st.flagged += p.flagged;
    st.answered += p.answered;
  }
  return { ...st, generateMs: performance.now() - t0 };
}

export const CORPUS_CACHE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../.tmp/bench-corpus');
const MARKER_FILE = 'corpus.json';
/** Bump when the generator's output changes, so old caches are not reused. */
export const CORPUS_VERSION = 1;

/**
 * The corpus for (count, seed) from the cache under .tmp/bench-corpus/<count>-seed<seed>/,
 * generated first when it is missing or incomplete (corpus.json is written last).
 */
export async function cachedCorpus(count: number, seed: number, cacheRoot = CORPUS_CACHE): Promise<Corpus> {
  const root = path.join(cacheRoot, `${count}-seed${seed}`);
  const marker = path.join(root, MARKER_FILE);
  const maildir = path.join(root, 'Maildir');
  try {
    const st = JSON.parse(fs.readFileSync(marker, 'utf8')) as CorpusStats & { version: number; generateMs: number };
    if (st.version === CORPUS_VERSION && st.count === count && st.seed === seed && fs.readdirSync(path.join(maildir, 'cur')).length === count) {
      return { ...st, maildir, cached: true };
    }
  } catch {
    // not there or incomplete
  }
  fs.rmSync(root, { recursive: true, force: true });
  const st = await generateCorpus({ dir: maildir, count, seed });
  fs.writeFileSync(marker, JSON.stringify({ version: CORPUS_VERSION, ...st }, null, 2) + '\n');
  return { ...st, maildir, cached: false };
}

// Standalone: node .dist-sync/test/bench/corpus.js --count=10000 --seed=1 [--dir=DIR]
if (!process.env.NODE_TEST_CONTEXT && process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const arg = (n: string, d: string) => process.argv.find((a) => a.startsWith(`--${n}=`))?.split('=')[1] ?? d;
  const count = Number(arg('count', '10000'));
  const seed = Number(arg('seed', '1'));
  const dir = arg('dir', '');
  const res = dir ? await generateCorpus({ dir, count, seed }) : await cachedCorpus(count, seed);
  console.log(JSON.stringify(res, null, 2));
}
