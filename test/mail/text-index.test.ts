// The body-text index (src/mail/text-index*.ts): tokeniser and query plans,
// segments, persistence (reopen, torn tail, garbage), and equivalence: every
// SEARCH gives the same answer with and without the index.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Mailbox, settleOptions, type MessageMeta } from '../../src/mail/mailbox.js';
import { MailboxView } from '../../src/imap/tracker.js';
import { parseCriteria } from '../../src/wire/search-criteria.js';
import { searchView } from '../../src/imap/search/evaluate.js';
import { searchTextsOf } from '../../src/mail/facts.js';
import { TEXT_INDEX_FILE, buildTextIndex, preloadTextIndex, resetTextIndexes, textIndexOptions, textIndexStats } from '../../src/mail/text-index.js';
import { MAGIC, parseIndexFile } from '../../src/mail/text-index-file.js';
import {
  IN_BODY,
  IN_HEADER,
  SegmentBuilder,
  addTokens,
  buildSegment,
  decodeSegment,
  encodeSegment,
  mergeSegments,
  messageTokens,
  planQuery,
  segmentCandidates,
  type Segment,
} from '../../src/mail/text-index-tokens.js';
import type { Token } from '../../src/wire/parser.js';

// The fixtures are written just before they are read: what is read of them may be kept at once.
settleOptions.ms = 0;

// ---------------------------------------------------------------------------
// Pure parts

function tokensOf(text: string): string[] {
  const m = new Map<string, number>();
  addTokens(text, 1, m);
  return [...m.keys()];
}

test('tokens are maximal runs of letters, digits, marks and _ (any script, astral too)', () => {
  assert.deepEqual(tokensOf('héllo wörld—straße, 東京の会議 a_b x.y 𝒜bc foo@bar.example'), [
    'héllo',
    'wörld',
    'straße',
    '東京の会議',
    'a_b',
    'x',
    'y',
    '𝒜bc',
    'foo',
    'bar',
    'example',
  ]);
  assert.deepEqual(tokensOf('\u00a0nbsp\u00a0sep\r\nline'), ['nbsp', 'sep', 'line']);
  assert.deepEqual(tokensOf(' .,;: '), []);
});

test('query plans: one word run is exact; otherwise prefix/suffix/exact terms to verify', () => {
  assert.deepEqual(planQuery('kumquat'), { terms: [{ word: 'kumquat', kind: 'sub' }], exact: true });
  assert.deepEqual(planQuery('straße'), { terms: [{ word: 'straße', kind: 'sub' }], exact: true });
  assert.deepEqual(planQuery('ber 1'), { terms: [{ word: 'ber', kind: 'suffix' }, { word: '1', kind: 'prefix' }], exact: false });
  assert.deepEqual(planQuery('a big deal'), {
    terms: [
      { word: 'a', kind: 'suffix' },
      { word: 'big', kind: 'exact' },
      { word: 'deal', kind: 'prefix' },
    ],
    exact: false,
  });
  assert.deepEqual(planQuery(' word'), { terms: [{ word: 'word', kind: 'prefix' }], exact: false });
  assert.deepEqual(planQuery('@'), null);
  assert.deepEqual(planQuery(''), null);
});

function names(seg: Segment, locals: number[] | null): string[] {
  return (locals ?? []).map((l) => seg.names[l]).sort();
}

test('segment candidates: inside a token, across words, header vs body', () => {
  const seg = buildSegment(
    ['m0', 'm1', 'm2', 'm3'],
    [
      messageTokens('subject: quarterly kumquats', 'nothing here'),
      messageTokens('subject: hello', 'the number 12 and straße'),
      messageTokens('subject: number', 'see 12'),
      messageTokens('from: ann', 'bignumber 123'),
    ],
  );
  const both = IN_HEADER | IN_BODY;
  const c = (q: string, parts = both) => names(seg, segmentCandidates(seg, planQuery(q)!.terms, parts, 1000));
  assert.deepEqual(c('kumquat'), ['m0'], 'inside a token');
  assert.deepEqual(c('kumquat', IN_BODY), [], 'header only: no BODY match');
  assert.deepEqual(c('umbe'), ['m1', 'm2', 'm3']);
  assert.deepEqual(c('umbe', IN_BODY), ['m1', 'm3']);
  assert.deepEqual(c('number 12'), ['m1', 'm3'], 'suffix + prefix in one part; m2 has them in different parts');
  assert.deepEqual(c(' number 12'), ['m1'], 'exact first word now');
  assert.deepEqual(c('raß'), ['m1'], 'non-ASCII');
  assert.deepEqual(c('zzz'), []);
  assert.equal(segmentCandidates(seg, planQuery('e')!.terms, both, 2), null, 'too many tokens: no answer');
});

test('the fast builder, the encoding and merging agree with the reference', () => {
  const texts = [
    ['subject: a b c', 'hello wörld \ud800 lone surrogate'],
    ['to: x', 'b c d d d e'],
    ['', ''],
    ['subject: c', 'hello again 𝒜'],
  ];
  const ref = buildSegment(texts.map((_, i) => `n${i}`), texts.map(([h, b]) => messageTokens(h, b)));
  const fast = new SegmentBuilder();
  texts.forEach(([h, b], i) => {
    fast.message(`n${i}`);
    fast.text(h, IN_HEADER);
    fast.text(b, IN_BODY);
  });
  assert.deepEqual(fast.finish(), ref);
  assert.deepEqual(decodeSegment(encodeSegment(ref)), ref, 'UTF-16 dictionary when a lone surrogate is in it');
  const half = mergeSegments([ref, ref], (n) => n !== 'n1');
  assert.deepEqual(half.names, ['n0', 'n2', 'n3']);
  const q = (s: Segment, w: string) => names(s, segmentCandidates(s, planQuery(w)!.terms, IN_HEADER | IN_BODY, 100));
  assert.deepEqual(q(half, 'c'), ['n0', 'n3']);
  assert.deepEqual(q(half, 'd'), ['n0'], 'wörld; n1 is gone');
  assert.deepEqual(q(half, '\ud800'), ['n0']);
  assert.throws(() => decodeSegment(Buffer.from('garbage garbage garbage garbage')));
  // Without lone surrogates the dictionary is UTF-8 bytes, offsets in bytes: non-ASCII words still match.
  const clean = buildSegment(['m0', 'm1'], [messageTokens('subject: Grüße 東京', 'hello 𝒜 wörld'), messageTokens('', 'plain wor')]);
  assert.ok(Buffer.isBuffer(clean.dict), 'bytes, not a string');
  assert.deepEqual(decodeSegment(encodeSegment(clean)), clean);
  assert.deepEqual(q(clean, 'üße'), ['m0']);
  assert.deepEqual(q(clean, '東京'), ['m0']);
  assert.deepEqual(q(clean, 'wor'), ['m1']);
  assert.deepEqual(q(clean, 'wör'), ['m0']);
  assert.deepEqual(q(clean, '\ud800'), []);
  assert.deepEqual(q(mergeSegments([clean, ref], () => true), '𝒜'), ['m0', 'n3']);
});

/** A segment as token → its postings (local << 2 | parts), whatever the token order: what a search can see of it. */
function postingsByToken(seg: Segment): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const dict = typeof seg.dict === 'string' ? Buffer.from(seg.dict, 'utf16le') : seg.dict;
  const text = typeof seg.dict === 'string' ? seg.dict : dict.toString('utf8');
  const toks = text.split('\n').slice(1, -1);
  toks.forEach((tok, t) => {
    const list: number[] = [];
    let v = 0;
    for (let i = seg.postOff[t]; i < seg.postOff[t + 1]; ) {
      let d = 0;
      let shift = 0;
      let b: number;
      do {
        b = seg.post[i++];
        d += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      v += d;
      list.push(v);
    }
    out.set(tok, list);
  });
  return out;
}

test('a merge gives the segment that building from the kept messages gives (random segments, names dropped and repeated)', () => {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const vocab = ['alpha', 'beta', 'gamma', 'delta', 'wörld', '東京', 'x1', 'x2', 'x3', 'zeta', 'eta', 'theta'];
  const words = (n: number) => Array.from({ length: n }, () => vocab[rnd(vocab.length)]).join(' ');
  for (let round = 0; round < 30; round++) {
    const count = 1 + rnd(40);
    // A word of its own in each message: a dropped message's words must leave with it.
    const msgs = Array.from({ length: count }, (_, i) => ({ name: `m${i}`, tokens: messageTokens(`subject: ${words(rnd(4))}`, `${words(rnd(12))} own${i}`) }));
    // Consecutive runs of messages as segments; some names again in a later one (a message indexed twice).
    const segs: Segment[] = [];
    for (let at = 0; at < count; ) {
      const n = 1 + rnd(10);
      const part = msgs.slice(at, at + n);
      if (segs.length && rnd(3) === 0) part.push(msgs[rnd(at)]);
      segs.push(buildSegment(part.map((m) => m.name), part.map((m) => m.tokens)));
      at += n;
    }
    const dropped = new Set(msgs.filter(() => rnd(4) === 0).map((m) => m.name));
    const merged = mergeSegments(segs, (n) => !dropped.has(n));
    const kept = msgs.filter((m) => !dropped.has(m.name));
    const ref = buildSegment(kept.map((m) => m.name), kept.map((m) => m.tokens));
    assert.deepEqual(merged.names, ref.names, `round ${round}`);
    assert.deepEqual(postingsByToken(merged), postingsByToken(ref), `round ${round}`);
    assert.deepEqual(decodeSegment(encodeSegment(merged)), merged, `round ${round}: it encodes`);
  }
});

// ---------------------------------------------------------------------------
// A generated corpus in a real Maildir

const WORDS = [
  'kumquat', 'apple', 'banana', 'number', 'report', 'meeting', 'the', 'and', 'of', 'Straße', 'Grüße', 'café', 'naïve',
  'Привет', 'мир', '東京', '会議', 'ΕΛΛΆΔΑ', 'émoji😀x', 'x_y', 'foo@bar.example', 'v1.2.3', 'ISO', 'résumé', 'ÆØÅ',
  'quarterly', 'budget', 'zebra', 'Zebra', 'ZEBRA', 'self-test', "don't", '42', '2024-01-01', 'MIXEDcase',
];

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64').replace(/.{76}/g, '$&\n');
}

function qp(s: string): string {
  const enc = [...Buffer.from(s)].map((c) => (c === 0x3d || c > 0x7e ? `=${c.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(c))).join('');
  return enc.replace(/[^\n]{20}(?!=[0-9A-F])/g, '$&=\n'); // soft breaks inside words
}

function message(i: number, r: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const words = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(pick([' ', ' ', ', ', '\n', '. ', '—']));
  const subjWords = words(3);
  const subject = r() < 0.3 ? `=?UTF-8?B?${Buffer.from(subjWords).toString('base64')}?=` : r() < 0.2 ? `=?ISO-8859-1?Q?caf=E9_${i}?=` : subjWords;
  const head = [
    `From: =?UTF-8?Q?J=C3=BCrgen_${i}?= <j${i}@example.org>`,
    `To: bob@example.com`,
    `Subject: ${subject}`,
    `Date: Mon, ${1 + (i % 28)} Jan 2024 10:00:00 +0100`,
    `Message-ID: <m${i}@example.org>`,
    `X-Note: ${words(2)}\n\tcontinued ${words(1)}`,
    'MIME-Version: 1.0',
  ];
  const text = words(5 + Math.floor(r() * 30));
  const kind = Math.floor(r() * 6);
  if (kind === 0) return `${head.join('\n')}\nContent-Type: text/plain; charset=utf-8\n\n${text}\n`;
  if (kind === 1) return `${head.join('\n')}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${qp(text)}\n`;
  if (kind === 2) return `${head.join('\n')}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${b64(text)}\n`;
  if (kind === 3)
    return `${head.join('\n')}\nContent-Type: multipart/alternative; boundary="b${i}"\n\n--b${i}\nContent-Type: text/plain; charset=utf-8\n\n${text}\n--b${i}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${qp(`<p>${words(4)} &amp; ${words(2)}&#x41;<b>bold</b>wo<i>rd</i></p><style>kumquat{}</style>`)}\n--b${i}--\n`;
  if (kind === 4)
    return `${head.join('\n')}\nContent-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nna=EFve caf=E9 ${words(3).replace(/[^\x00-\x7f]/g, '')}\n--b${i}\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n${b64(`attached zebra kumquat ${words(3)}`)}\n--b${i}--\n`;
  return `${head.join('\n')}\nContent-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\nContent-Type: text/plain\n\n${text}\n--b${i}\nContent-Type: message/rfc822\n\nSubject: inner ${words(2)}\nFrom: inner@example.org\n\n${words(4)}\n--b${i}--\n`;
}

async function corpus(t: { after: (fn: () => Promise<void>) => void }, count: number, seed: number): Promise<{ dir: string; box: Mailbox; view: MailboxView }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'text-index-'));
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, sub));
  const r = rng(seed);
  for (let i = 0; i < count; i++)
    await fs.writeFile(path.join(dir, 'cur', `${1700000000 + i}.M${i}P1.host:2,${i % 3 ? '' : 'S'}`), message(i, r));
  const box = new Mailbox('INBOX', dir, pino({ level: 'silent' }), 600_000);
  const view = await MailboxView.open(box, true);
  t.after(async () => {
    await box.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  return { dir, box, view };
}

const str = (s: string): Token => ({ type: 'string', value: Buffer.from(s), literal: false });
const atom = (s: string): Token => ({ type: 'atom', value: s });

async function both(view: MailboxView, tokens: Token[]): Promise<{ indexed: number[]; plain: number[] }> {
  const key = parseCriteria(tokens);
  textIndexOptions.enabled = true;
  const indexed = (await searchView(view, key)).map((c) => c.uid);
  textIndexOptions.enabled = false;
  try {
    const plain = (await searchView(view, key)).map((c) => c.uid);
    return { indexed, plain };
  } finally {
    textIndexOptions.enabled = true;
  }
}

textIndexOptions.minMessages = 0;

test('searches through the index: encoded words, header vs body, non-ASCII, verified phrases', async (t) => {
  resetTextIndexes();
  const { dir, box, view } = await corpus(t, 60, 7);
  // A few hand-made messages with known content
  const extra = [
    'Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=\nFrom: a@x\n\nplain body without the subject words\n',
    'Subject: hello\nFrom: b@x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nthe Gr=C3=BC=\n=C3=9Fe from the body\n',
  ];
  for (const [k, m] of extra.entries()) await fs.writeFile(path.join(dir, 'cur', `1800000000.X${k}.host:2,`), m);
  await box.refresh(true);
  const v2 = await MailboxView.open(box, true);
  const uidsOf = async (toks: Token[]) => {
    const { indexed, plain } = await both(v2, toks);
    assert.deepEqual(indexed, plain, JSON.stringify(toks.map((x) => (x.type === 'list' ? '()' : x.value.toString()))));
    return indexed;
  };
  const extraUids = v2.uidList.slice(-2);
  assert.deepEqual(await uidsOf([atom('TEXT'), str('münchen')]), [extraUids[0]], 'encoded word in Subject, case-folded');
  assert.deepEqual(await uidsOf([atom('BODY'), str('münchen')]), [], 'BODY does not see the header');
  assert.ok((await uidsOf([atom('BODY'), str('grüße')])).includes(extraUids[1]), 'QP soft break inside a word');
  await uidsOf([atom('TEXT'), str('the grüße from')]);
  await uidsOf([atom('TEXT'), str('subject: hello')]);
  await uidsOf([atom('TEXT'), str('ZEBRA')]);
  await uidsOf([atom('TEXT'), str('кумкват')]);
  await uidsOf([atom('BODY'), str('😀')]);
  await uidsOf([atom('NOT'), atom('TEXT'), str('kumquat')]);
  await uidsOf([atom('OR'), atom('TEXT'), str('zebra'), atom('BODY'), str('東京')]);
  const st = textIndexStats(box)!;
  assert.equal(st.messages, 62);
  const file = await fs.readFile(path.join(dir, TEXT_INDEX_FILE));
  assert.ok(file.subarray(0, MAGIC.length).equals(MAGIC));
  assert.ok(view.exists > 0);
});

/** Sets textIndexOptions[key] for this test; the old value is put back after it. */
function setOption<K extends keyof typeof textIndexOptions>(t: TestContext, key: K, value: (typeof textIndexOptions)[K]): void {
  const saved = textIndexOptions[key];
  textIndexOptions[key] = value;
  t.after(() => void (textIndexOptions[key] = saved));
}

const ZEBRA = [atom('TEXT'), str('zebra')];

/** A first TEXT search of the folder at `dir` (indexed and plain agree), and its index file once written. */
async function searchedOnce(view: MailboxView, dir: string): Promise<{ first: { indexed: number[]; plain: number[] }; written: Stats }> {
  const first = await both(view, ZEBRA);
  assert.deepEqual(first.indexed, first.plain);
  assert.equal(textIndexStats(view.mailbox as Mailbox)!.messages, 80);
  await new Promise((r) => setTimeout(r, 200)); // its append is done
  return { first, written: await fs.stat(path.join(dir, TEXT_INDEX_FILE)) };
}

/** The same search through `view` answers as before, from the index read back from its file, not rebuilt from the messages. */
async function readBack(view: MailboxView, dir: string, before: Awaited<ReturnType<typeof searchedOnce>>): Promise<void> {
  const again = await both(view, ZEBRA);
  assert.deepEqual(again.indexed, before.first.indexed);
  assert.equal(textIndexStats(view.mailbox as Mailbox)!.messages, 80);
  const now = await fs.stat(path.join(dir, TEXT_INDEX_FILE));
  assert.deepEqual([now.size, now.mtimeMs], [before.written.size, before.written.mtimeMs], 'read back, not rebuilt from the messages');
}

test('an index nobody searched for idleMs leaves memory; the next search reads it back from the file', async (t) => {
  resetTextIndexes();
  setOption(t, 'idleMs', 400);
  const { dir, view } = await corpus(t, 80, 11);
  const before = await searchedOnce(view, dir);
  for (let i = 0; i < 100 && textIndexStats(view.mailbox as Mailbox); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(textIndexStats(view.mailbox as Mailbox), null, 'dropped from memory');
  await readBack(view, dir, before);
});

test("a folder's index leaves memory once no session has the folder open, not before; the next session's search reads it back from the file", async (t) => {
  resetTextIndexes();
  setOption(t, 'sweepMs', 50);
  t.after(resetTextIndexes);
  const { dir, box, view } = await corpus(t, 80, 12);
  const other = await MailboxView.open(box, true);
  const before = await searchedOnce(view, dir);
  view.close();
  await new Promise((r) => setTimeout(r, 300)); // several sweeps
  assert.equal(textIndexStats(box)!.messages, 80, 'another session still has the folder open');
  other.close();
  for (let i = 0; i < 100 && textIndexStats(box); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(textIndexStats(box), null, 'no session has it open');
  const next = await MailboxView.open(box, true);
  t.after(() => next.close());
  await readBack(next, dir, before);
});

test('persistence: reopen without reindexing; a torn tail or garbage is cut off and rebuilt', async (t) => {
  resetTextIndexes();
  const { dir, view } = await corpus(t, 80, 11);
  const file = path.join(dir, TEXT_INDEX_FILE);
  const q = [atom('TEXT'), str('kumquat')];
  const first = await both(view, q);
  assert.deepEqual(first.indexed, first.plain);
  assert.ok(first.indexed.length > 0);
  await buildTextIndex(view.mailbox as Mailbox); // compaction: one record
  const compacted = await fs.readFile(file);
  assert.equal(parseIndexFile(compacted).segs.length, 1);
  assert.equal(parseIndexFile(compacted).good, compacted.length);

  // reopen (as after a restart): the file is used as is
  resetTextIndexes();
  assert.deepEqual((await both(view, q)).indexed, first.plain);
  assert.deepEqual(await fs.readFile(file), compacted, 'nothing reindexed');

  // torn tail: half a record appended (kill -9 mid-append) is cut off
  await fs.appendFile(file, compacted.subarray(MAGIC.length, MAGIC.length + 40));
  resetTextIndexes();
  assert.deepEqual((await both(view, q)).indexed, first.plain);
  assert.deepEqual(await fs.readFile(file), compacted, 'truncated to the last good record');

  // a flipped byte inside the only record: checksum fails, everything is indexed again
  const bad = Buffer.from(compacted);
  bad[bad.length - 3] ^= 0xff;
  await fs.writeFile(file, bad);
  resetTextIndexes();
  assert.deepEqual((await both(view, q)).indexed, first.plain);
  const rebuilt = await fs.readFile(file);
  assert.ok(parseIndexFile(rebuilt).good === rebuilt.length && parseIndexFile(rebuilt).segs.length >= 1);

  // garbage, or another version: started afresh
  await fs.writeFile(file, 'maildir-imapd-text 0\nwhatever was here before');
  resetTextIndexes();
  assert.deepEqual((await both(view, q)).indexed, first.plain);
  const fresh = await fs.readFile(file);
  assert.ok(fresh.subarray(0, MAGIC.length).equals(MAGIC));
  assert.equal(parseIndexFile(fresh).good, fresh.length);
  assert.equal(textIndexStats(view.mailbox as Mailbox)!.messages, 80);

  // preloading (SELECT) reads the file in the background, without indexing anything
  resetTextIndexes();
  preloadTextIndex(view.mailbox as Mailbox);
  for (let i = 0; i < 100 && (textIndexStats(view.mailbox as Mailbox)?.messages ?? 0) < 80; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(textIndexStats(view.mailbox as Mailbox)!.messages, 80);
  assert.deepEqual(await fs.readFile(file), fresh);
});

test('expunged messages are ignored; new ones are indexed on the next search', async (t) => {
  resetTextIndexes();
  const { dir, box } = await corpus(t, 40, 5);
  const v = await MailboxView.open(box, true);
  const q = [atom('TEXT'), str('kumquat')];
  const before = await both(v, q);
  assert.deepEqual(before.indexed, before.plain);
  const files = (await fs.readdir(path.join(dir, 'cur'))).sort();
  await fs.rm(path.join(dir, 'cur', files[0]));
  await fs.writeFile(path.join(dir, 'new', '1900000000.N1.host'), 'Subject: late\n\nA late kumquat arrives\n');
  await box.refresh(true);
  const v2 = await MailboxView.open(box, true);
  const after = await both(v2, q);
  assert.deepEqual(after.indexed, after.plain);
  assert.ok(after.indexed.includes(v2.uidList[v2.uidList.length - 1]));
  assert.equal(textIndexStats(box)!.messages, 41, 'the expunged one stays until compaction');
  await buildTextIndex(v2.mailbox as Mailbox);
  assert.equal(textIndexStats(box)!.messages, 40, 'compaction drops it');
});

test('compaction merges only the newest segments up to mergeMaxBytes; older records are kept byte for byte', async (t) => {
  resetTextIndexes();
  const { dir, view } = await corpus(t, 320, 17);
  const file = path.join(dir, TEXT_INDEX_FILE);
  const q = [atom('TEXT'), str('kumquat')];
  await buildTextIndex(view.mailbox as Mailbox, false); // 5 segments of 64 messages, no compaction
  const built = await fs.readFile(file);
  const parsed = parseIndexFile(built);
  assert.equal(parsed.segs.length, 5);
  const recordBytes = (i: number) => (i + 1 < parsed.starts.length ? parsed.starts[i + 1] : parsed.good) - parsed.starts[i];
  // Room for the newest two or three segments (as stored: their postings are in the file), not for all five.
  setOption(t, 'mergeMaxBytes', Math.floor(((parsed.good - MAGIC.length) / 5) * 3.2));
  await buildTextIndex(view.mailbox as Mailbox);
  const after = await fs.readFile(file);
  const merged = parseIndexFile(after);
  assert.equal(merged.good, after.length);
  assert.ok(merged.segs.length >= 3 && merged.segs.length <= 4, `${merged.segs.length} segments`);
  const kept = merged.segs.length - 1;
  assert.deepEqual(after.subarray(0, merged.starts[kept]), built.subarray(0, parsed.starts[kept]), 'the older records are copied as they were');
  assert.ok(recordBytes(0) > 0);
  assert.equal(textIndexStats(view.mailbox as Mailbox)!.segments, merged.segs.length);
  assert.equal(textIndexStats(view.mailbox as Mailbox)!.messages, 320);
  const r = await both(view, q);
  assert.ok(r.plain.length > 0);
  assert.deepEqual(r.indexed, r.plain);
  // after a restart the file gives the same answers
  resetTextIndexes();
  assert.deepEqual((await both(view, q)).indexed, r.plain);
});

/** A folder of `count` messages whose word index is built in segments and not compacted (compactAt is put back after the test). */
async function segmentedIndex(t: TestContext, count: number, seed: number): Promise<{ dir: string; box: Mailbox; file: string }> {
  resetTextIndexes();
  const saved = textIndexOptions.compactAt;
  t.after(() => void (textIndexOptions.compactAt = saved));
  const { dir, box } = await corpus(t, count, seed);
  await buildTextIndex(box, false);
  return { dir, box, file: path.join(dir, TEXT_INDEX_FILE) };
}

/** Delivers 20 more messages into new/ (names from `stamp`, texts from `first`) and lets the folder see them. */
async function twentyMore(dir: string, box: Mailbox, stamp: number, first: number, r: () => number): Promise<void> {
  for (let i = 0; i < 20; i++) await fs.writeFile(path.join(dir, 'new', `${stamp + i}.N${i}.host`), message(first + i, r));
  await box.refresh(true);
}

test('postings stay in the file, none held in memory; answers agree after appends during compactions and after a restart', async (t) => {
  const { dir, box, file } = await segmentedIndex(t, 320, 23);
  const stats = textIndexStats(box)!;
  assert.equal(stats.segments, 5);
  assert.equal(stats.postingsHeld, 0, 'every segment written: its postings are read from the file');
  const check = async (what: string) => {
    const v = await MailboxView.open(box, true);
    for (const w of WORDS.slice(0, 16)) {
      const r = await both(v, [atom('TEXT'), str(w)]);
      assert.deepEqual(r.indexed, r.plain, `${what}: ${w}`);
    }
  };
  await check('after the build');
  // Every search now indexes a few new messages and compacts: records are appended while merges run.
  textIndexOptions.compactAt = 2;
  const r = rng(5);
  for (let round = 0; round < 6; round++) {
    await twentyMore(dir, box, 1800000000 + round * 100, 2000 + round * 100, r);
    await check(`round ${round}`);
  }
  const parsed = parseIndexFile(await fs.readFile(file));
  assert.equal(parsed.good, (await fs.stat(file)).size, 'the file parses to its end');
  assert.ok(parsed.segs.length < 5 + 6, `${parsed.segs.length} segments: compactions ran`);
  resetTextIndexes();
  await check('after a restart');
  assert.equal(textIndexStats(box)!.postingsHeld, 0);
});

test('a folder dropped from memory while its compaction runs: answers stay right, and no index file is left open', async (t) => {
  const { dir, box, file } = await segmentedIndex(t, 200, 31);
  textIndexOptions.compactAt = 2;
  const r = rng(8);
  const openHandles = async () => {
    let n = 0;
    for (const fd of await fs.readdir('/proc/self/fd')) if ((await fs.readlink(`/proc/self/fd/${fd}`).catch(() => '')).startsWith(file)) n++;
    return n;
  };
  for (let round = 0; round < 6; round++) {
    await twentyMore(dir, box, 1850000000 + round * 100, 3000 + round * 100, r);
    const v = await MailboxView.open(box, true);
    const key = parseCriteria([atom('TEXT'), str('kumquat')]);
    textIndexOptions.enabled = true;
    const indexed = (await searchView(v, key)).map((c) => c.uid); // indexes the new ones; a compaction starts
    resetTextIndexes(); // dropped while it still runs
    textIndexOptions.enabled = false;
    assert.deepEqual(indexed, (await searchView(v, key)).map((c) => c.uid), `round ${round}`);
    textIndexOptions.enabled = true;
    const again = await both(v, [atom('TEXT'), str(WORDS[round])]);
    assert.deepEqual(again.indexed, again.plain, `round ${round}, after the drop: ${WORDS[round]}`);
  }
  resetTextIndexes();
  await new Promise((res) => setTimeout(res, 1500)); // compactions under way finish; evictions close their files
  assert.equal(await openHandles(), 0, 'every handle on the index file closed');
  const parsed = parseIndexFile(await fs.readFile(file));
  assert.equal(parsed.good, (await fs.stat(file)).size, 'the file parses to its end');
});

test('equivalence: random searches give identical results with and without the index', async (t) => {
  resetTextIndexes();
  const { view } = await corpus(t, 150, 3);
  const r = rng(99);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  // query material: words, fragments inside words, phrases across separators, non-ASCII, absent strings
  const sample = (): string => {
    const w = pick(WORDS);
    switch (Math.floor(r() * 8)) {
      case 0:
        return w;
      case 1: {
        const a = Math.floor(r() * w.length);
        return w.slice(a, a + 1 + Math.floor(r() * 4)) || w;
      }
      case 2:
        return `${pick(WORDS)} ${pick(WORDS)}`;
      case 3:
        return `${w.slice(Math.floor(w.length / 2))}${pick([' ', ', ', '. ', '—', '\r\n'])}${pick(WORDS).slice(0, 3)}`;
      case 4:
        return pick(['subject: ', 'from: ', 'x-note: ', 'j1', '@example', 'example.org', 'continued', 'bold', 'wo', 'rd', 'boldword', '&', 'naïve café', 'jürgen', 'inner']);
      case 5:
        return pick(['zzqx', 'kumquats', 'apple banana cherry', ' ', '.', 'e', 'a', '1']);
      case 6:
        return w.toUpperCase();
      default:
        return ` ${w} `;
    }
  };
  let checked = 0;
  let nonEmpty = 0;
  for (let i = 0; i < 160; i++) {
    const shape = Math.floor(r() * 6);
    const k = pick(['TEXT', 'TEXT', 'BODY']);
    const toks: Token[] =
      shape === 0 ? [atom('NOT'), atom(k), str(sample())]
      : shape === 1 ? [atom('OR'), atom('TEXT'), str(sample()), atom('BODY'), str(sample())]
      : shape === 2 ? [atom(k), str(sample()), atom('TEXT'), str(sample())]
      : shape === 3 ? [atom(k), str(sample()), atom(pick(['SEEN', 'UNSEEN']))]
      : [atom(k), str(sample())];
    const { indexed, plain } = await both(view, toks);
    assert.deepEqual(indexed, plain, `query ${i}: ${JSON.stringify(toks.map((x) => (x.type === 'list' ? '()' : x.value.toString())))}`);
    checked++;
    if (plain.length && plain.length < view.exists) nonEmpty++;
  }
  assert.equal(checked, 160);
  assert.ok(nonEmpty > 40, `enough selective queries (${nonEmpty})`);
  t.diagnostic(`${checked} random searches identical, ${nonEmpty} of them selective (neither empty nor all)`);
  // every message is covered by the index, whose texts are the evaluator's
  assert.equal(textIndexStats(view.mailbox as Mailbox)!.messages, 150);
  const one = await fs.readFile((view.mailbox as Mailbox).pathOf(view.meta(view.uidList[0])! as MessageMeta));
  assert.ok(searchTextsOf(one).header.includes('subject: '));
});

test('a message over the streaming threshold is not indexed, and is still found (streamed) by every query', async (t) => {
  resetTextIndexes();
  const { dir, box } = await corpus(t, 30, 11);
  // 5 MiB: over bodyStreamOptions.threshold (4 MiB), which the index workers read for themselves
  const big = `Subject: big\nContent-Type: text/plain\n\n${'filler words here\n'.repeat(5 * 1024 * 1024 / 18)}the zebra kumquat at the end\n`;
  await fs.writeFile(path.join(dir, 'cur', '1900000000.BIG.host:2,'), big);
  await box.refresh(true);
  const view = await MailboxView.open(box, true);
  const bigUid = view.uidList[view.uidList.length - 1];
  const cases: Array<[Token[], boolean]> = [
    [[atom('BODY'), str('zebra kumquat')], true],
    [[atom('TEXT'), str('kumquat')], true],
    [[atom('NOT'), atom('BODY'), str('zebra')], false],
    [[atom('BODY'), str('absentword')], false],
  ];
  for (const [toks, wantBig] of cases) {
    const { indexed, plain } = await both(view, toks);
    assert.deepEqual(indexed, plain);
    assert.equal(indexed.includes(bigUid), wantBig, toks.map((x) => (x.type === 'list' ? '()' : x.value.toString())).join(' '));
  }
  assert.equal(textIndexStats(box)!.messages, 30, 'the big message is left out of the index');
});
