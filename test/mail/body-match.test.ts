// The streaming body matcher (src/mail/body-match.ts) against the whole-file
// body text (facts.searchTextsOf, the function bodyText uses): over the MIME
// differential corpus and generated messages (QP, base64, HTML, nested
// message/rfc822, non-UTF-8 charsets, Greek and combining marks), read in
// chunks small enough that needles straddle them, the folded text streamed
// out is the same string and every needle gets the same answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { searchTextsOf } from '../../src/mail/facts.js';
import { BodyTextStream } from '../../src/mail/body-stream.js';
import { StreamFolder, bodyMatchOptions, matchBodyFile } from '../../src/mail/body-match.js';
import { toCrlf } from '../../src/mail/crlf.js';
import { CORPUS } from '../support/mime-corpus.js';

const b64 = (b: Buffer | string, width = 76): string => (Buffer.from(b).toString('base64').match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join('\n');
const qp = (b: Buffer): string => {
  let out = '';
  let col = 0;
  for (const c of b) {
    const s = c === 0x0a ? '\n' : c >= 0x21 && c <= 0x7e && c !== 0x3d ? String.fromCharCode(c) : c === 0x20 ? ' ' : '=' + c.toString(16).toUpperCase().padStart(2, '0');
    if (c === 0x0a) col = 0;
    else if (col + s.length > 72) {
      out += '=\n';
      col = 0;
    }
    out += s;
    col += s.length;
  }
  return out;
};

const GREEK = 'ΟΔΥΣΣΕΥΣ ΚΑΙ ΠΗΝΕΛΟΠΗ. Σίσυφος ΣΣ Σ. ὈΔΥΣΣΕΎΣ';
const COMBINING = 'Cafe\u0301 cre\u0300me, Gru\u0308ße, A\u030a, İstanbul, ǅemal, ﬁnance';
const LONG = Array.from({ length: 400 }, (_, i) => `word${i}${GREEK.slice(i % 20)}${COMBINING.slice(i % 9)}`).join('');

function generated(): Array<[string, Buffer]> {
  const text = Array.from({ length: 300 }, (_, i) => `line ${i}: ${GREEK} — ${COMBINING} needle${i}`).join('\n') + '\n';
  const html = `<html><head><style>p { x: 1 }</style><script>var secret = "scriptneedle";</script></head><body><!-- commentneedle -->` +
    Array.from({ length: 200 }, (_, i) => `<p class="x">Para&nbsp;${i} &amp; caf&eacute; &#233;&#x20AC; <b>bold${i}</b><br>${GREEK}</p><div>block${i}</div>`).join('\n') +
    '<p>unclosed &amp tail <notatag</p></body></html>\n';
  const m = (h: string, body: string | Buffer): Buffer => Buffer.concat([Buffer.from(h + '\n\n'), Buffer.from(body)]);
  const out: Array<[string, Buffer]> = [];
  out.push(['plain', m('Subject: plain\nContent-Type: text/plain; charset=utf-8', text)]);
  out.push(['qp', m('Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable', qp(Buffer.from(text)) + '\n=\ntrailing = sign =4 =ZZ =  \n')]);
  out.push(['base64', m('Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64', b64(text, 60) + '\n')]);
  out.push(['base64-garbage', m('Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64', b64(text, 50).replace(/(.{37})/g, '$1*!\t') + '\n==after padding\n')]);
  out.push(['html-qp', m('Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable', qp(Buffer.from(html)))]);
  for (const cs of ['iso-8859-7', 'windows-1252', 'koi8-r', 'shift_jis', 'gbk', 'utf-16le', 'iso-2022-jp', 'big5']) {
    const sample = cs === 'koi8-r' ? 'Привет мир, поиск иголки ' : cs === 'iso-8859-7' || cs === 'windows-1252' ? GREEK + ' café ' : '日本語のテキスト、中文文本、検索 針 ';
    const lines = Array.from({ length: 200 }, (_, i) => `${sample}${i}`).join('\n') + '\n';
    // iconv-lite cannot write ISO-2022-JP: "日本 nihon" by hand (each line back in ASCII at its end)
    const body = cs === 'iso-2022-jp' ? Buffer.from(lines.replace(/[^\n]+/g, (l) => '\x1b$BF|K\\\x1b(B nihon ' + l.length), 'latin1') : iconv.encode(lines, cs);
    out.push([`charset-${cs}`, m(`Content-Type: text/plain; charset="${cs}"\nContent-Transfer-Encoding: base64`, b64(body) + '\n')]);
    out.push([`charset-${cs}-8bit`, m(`Content-Type: text/plain; charset=${cs}`, body)]);
  }
  const inner = m('From: inner@example.org\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= inner\nContent-Type: multipart/alternative; boundary="in"', `--in\nContent-Type: text/plain\n\n${text}\n--in\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${b64(html)}\n--in--\n`);
  out.push([
    'nested',
    m(
      'Subject: nested\nContent-Type: multipart/mixed; boundary="out"',
      `preamble\n--out\nContent-Type: text/plain\n\nfirst ${LONG}\n--out\nContent-Type: message/rfc822\n\n${inner.toString()}\n--out\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\n${b64(Buffer.alloc(3000, 7))}\n--out\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n${b64(inner)}\n--out--\nepilogue\n`,
    ),
  ]);
  out.push(['prefix-boundaries', m('Content-Type: multipart/mixed; boundary="a"', `--a\nContent-Type: multipart/mixed; boundary="ab"\n\n--ab\nContent-Type: text/plain\n\nin ab\n--a\nContent-Type: text/plain\n\nafter outer\n--abc not a boundary?\n--a--\n`)]);
  out.push(['cut-off-header', m('Content-Type: multipart/mixed; boundary="c"', `--c\nContent-Type: message/rfc822\n--c\nContent-Type: text/plain\nSubject: x\n--c\nContent-Type: text/plain\n\nlast\n`)]);
  out.push(['digest', m('Content-Type: multipart/digest; boundary="d"', `--d\n\nSubject: digest one\n\ndigest body one\n--d\nContent-Type: text/plain\n\nnot a message\n--d--\n`)]);
  out.push(['crlf-mixed', Buffer.from('Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\ncr\rlf\r\nbare\nend\r\n--m--\r\n')]);
  return out;
}

function streamText(file: Buffer, chunk: number): string {
  let folded = '';
  const folder = new StreamFolder((s) => (folded += s));
  const body = new BodyTextStream((s) => folder.write(s));
  let prevCR = false;
  for (let i = 0; i < file.length; i += chunk) {
    const raw = file.subarray(i, i + chunk);
    body.write(toCrlf(raw, prevCR));
    prevCR = raw[raw.length - 1] === 0x0d;
  }
  body.end();
  folder.end();
  return folded;
}

/** Needles cut from the text (so many straddle chunks), some altered so they are absent. */
function needlesOf(text: string, n: number, seed: number): string[] {
  let x = seed;
  const rnd = (k: number): number => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % Math.max(1, k));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + rnd(24);
    const at = rnd(Math.max(1, text.length - len));
    let needle = text.slice(at, at + len);
    if (i % 3 === 0) needle = needle.slice(0, -1) + 'ʬ';
    out.push(needle);
  }
  return out;
}

const ALL: Array<[string, Buffer]> = [...CORPUS.map(([n, t]): [string, Buffer] => [n, Buffer.from(t)]), ...generated()];

test('the streamed folded body text equals the whole-file body text, at any chunk size', () => {
  const saved = bodyMatchOptions.foldBatch;
  bodyMatchOptions.foldBatch = 32; // cut often
  try {
    for (const [name, file] of ALL) {
      const want = searchTextsOf(file).body;
      for (const chunk of [1, 3, 7, 64, 1000, 1 << 20]) assert.equal(streamText(file, chunk), want, `${name}, chunks of ${chunk}`);
    }
  } finally {
    bodyMatchOptions.foldBatch = saved;
  }
});

test('matchBodyFile answers every needle as bodyText().includes does', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'body-match-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const saved = { ...bodyMatchOptions };
  t.after(() => Object.assign(bodyMatchOptions, saved));
  let checked = 0;
  for (const [i, [name, file]] of ALL.entries()) {
    const f = path.join(dir, `m${i}`);
    await fs.writeFile(f, file);
    const want = searchTextsOf(file).body;
    const needles = [...needlesOf(want, 60, i + 1), 'absent-needle', ''];
    for (const chunk of [5, 97, 4096]) {
      bodyMatchOptions.chunk = chunk;
      bodyMatchOptions.foldBatch = 64;
      const found = matchBodyFile(f, needles);
      needles.forEach((nd, k) => assert.equal(found[k], want.includes(nd), `${name}: ${JSON.stringify(nd)}, chunks of ${chunk}`));
      checked += needles.length;
    }
  }
  t.diagnostic(`${ALL.length} messages, ${checked} needle answers`);
});
