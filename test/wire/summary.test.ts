// The stored message summary must answer exactly as a parse of the message
// does: the same HEADER.FIELDS bytes for any field list, the same ENVELOPE and
// BODYSTRUCTURE, and "ask the file" (null) whenever it cannot be sure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize, StoredSummary, FieldSelector, headerFieldsFrom, ThreadFactNumbers } from '../../src/wire/summary.js';
import { ByteInterner } from '../../src/wire/byte-interner.js';
import { parseMime } from '../../src/wire/mime.js';
import { selectHeaderFields } from '../../src/wire/header.js';
import { toCrlf } from '../../src/mail/crlf.js';
import { envelope } from '../../src/wire/envelope.js';
import { bodystructure } from '../../src/wire/bodystructure.js';
import { encodeToString } from '../../src/wire/encoder.js';
import { generateMessage } from '../bench/corpus.js';

const TB = ['From', 'To', 'Cc', 'Bcc', 'Subject', 'Date', 'Message-ID', 'Priority', 'X-Priority', 'References', 'Newsgroups', 'In-Reply-To', 'Content-Type', 'Reply-To'];
const LISTS: Array<[string[], boolean]> = [
  [TB, false],
  [['subject'], false],
  [['Received'], false],
  [['subject', 'DKIM-Signature'], false],
  [['X-Long'], false],
  [['nothing-like-this'], false],
  [TB, true],
  [['Received', 'DKIM-Signature', 'Authentication-Results', 'X-Long'], true],
  [['received'], true],
];

const TRICKY = [
  'Subject: no blank line, header only',
  'From: a@b.c\nSubject: cut at EOF without newline',
  `From: a@b.c\nX-Long: ${'y'.repeat(3000)}\nSubject: long field\n\nbody\n`,
  'Received: from x\n\tby y\nReceived: from z\nSubject: two traces\nsubject: second subject\n\nbody\n',
  'From: a@b.c\nX-Weird\u00e9: 8-bit name\nSubject: s\n\nbody\n',
  'From: Grüße Müller <g@example.de>\nTo: undisclosed-recipients:;\nSubject: =?UTF-8?Q?caf=C3=A9?=\n\nbody\n',
  'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\npart\n--b--\n',
];

function messages(): Buffer[] {
  const out = TRICKY.map((t) => toCrlf(Buffer.from(t)));
  for (let i = 0; i < 300; i++) out.push(toCrlf(generateMessage(7, i, 300).content));
  return out;
}

test('HEADER.FIELDS from a summary equals the parsed message, or defers to the file', () => {
  let answered = 0;
  let deferred = 0;
  // One selector per request across all messages, as a FETCH uses it: it remembers the last message's field names.
  const selectors = LISTS.map(([names, not]) => new FieldSelector(new Set(names.map((n) => n.toLowerCase())), not));
  for (const crlf of messages()) {
    const root = parseMime(crlf);
    for (const structure of [true, false]) {
      const s = StoredSummary.from(summarize(crlf, structure, structure))!;
      assert.ok(s);
      for (const [k, [names, not]] of LISTS.entries()) {
        const sel = selectors[k];
        const got = headerFieldsFrom(s, sel);
        if (got === null) {
          deferred++;
          continue;
        }
        answered++;
        assert.deepEqual(got, selectHeaderFields(root.header, names, not, root.blankLine), `${names.join(' ')} not=${not} of ${crlf.subarray(0, 60)}`);
      }
    }
  }
  assert.ok(answered > 3000, `most requests answered from the summary (${answered})`);
  assert.ok(deferred > 0, 'requests naming a dropped field defer to the file');
});

test('the usual client field lists never need the file for ordinary mail', () => {
  for (let i = 0; i < 300; i++) {
    const crlf = toCrlf(generateMessage(7, i, 300).content);
    const s = StoredSummary.from(summarize(crlf, false, false))!;
    assert.notEqual(headerFieldsFrom(s, new FieldSelector(new Set(TB.map((n) => n.toLowerCase())), false)), null);
  }
});

test('ENVELOPE, BODY and BODYSTRUCTURE are stored as the parse renders them; a header-only summary says what it lacks', () => {
  for (const crlf of messages()) {
    const root = parseMime(crlf);
    const full = StoredSummary.from(summarize(crlf))!;
    assert.equal(full.envelope.toString('utf8'), encodeToString(envelope(root.header)));
    assert.equal(full.body.toString('utf8'), encodeToString(bodystructure(root, false)));
    assert.equal(full.bodystructure.toString('utf8'), encodeToString(bodystructure(root, true)));
    assert.equal(full.headerLen, root.bodyStart);
    assert.ok(full.hasStructure && full.hasEnvelope);
    const head = StoredSummary.from(summarize(crlf, false, false))!;
    assert.ok(!head.hasStructure && !head.hasEnvelope);
    assert.equal(head.headerLen, root.bodyStart);
    assert.deepEqual(head.sortFacts, full.sortFacts);
    assert.equal(head.sentMs, full.sentMs);
    // THREAD's cut-down read gives the same values as the full parse.
    const { base, messageId, references, inReplyTo } = full.sortFacts;
    assert.deepEqual(threadFactsOf(StoredSummary.from(summarize(crlf, false, false))!), { base, messageId, references, inReplyTo });
  }
});

test('a damaged or foreign stored summary is refused, not misread', () => {
  const b = summarize(toCrlf(Buffer.from('Subject: x\n\nbody\n')));
  assert.ok(StoredSummary.from(b));
  assert.equal(StoredSummary.from(b.subarray(0, b.length - 1)), null, 'truncated');
  const other = Buffer.from(b);
  other[0] = 99;
  assert.equal(StoredSummary.from(other), null, 'unknown version');
  assert.equal(StoredSummary.from(Buffer.alloc(10)), null, 'too short');
});

/** THREAD's facts as read in place (threadFactsInto), turned back into text. */
function threadFactsOf(s: StoredSummary) {
  const ids = new ByteInterner();
  const subjects = new ByteInterner();
  const n = new ThreadFactNumbers();
  s.threadFactsInto(ids, subjects, n);
  const id = (k: number) => (k < 0 ? null : ids.text(k));
  return {
    base: { base: subjects.text(n.subject), replyOrFwd: n.replyOrFwd },
    messageId: id(n.messageId),
    references: Array.from(n.refs.subarray(0, n.refCount), (k) => ids.text(k)),
    inReplyTo: id(n.inReplyTo),
  };
}

test('THREAD\'s facts read in place equal the full parse, with quotes, backslashes, 8-bit text and missing ids', () => {
  const cases = [
    'Subject: Re: "quoted" \\ back\\slash\nMessage-ID: <a"b@x>\nReferences: <r1@x> <r"2@x>\nIn-Reply-To: <r"2@x>\n',
    'Subject: =?UTF-8?B?w6lwaWPDqSDwn5iA?=\nReferences: <only@x>\n',
    'Subject: Fwd: [list] plain\nIn-Reply-To: <irt@x>\n',
    'Subject: \nMessage-ID: <m@x>\n',
    'From: nobody@x\n',
    'Subject: ,"messageId":"fake" and ,"base":{"base":"fake"\nMessage-ID: <real@x>\n',
  ];
  for (const head of cases) {
    const s = StoredSummary.from(summarize(toCrlf(Buffer.from(`${head}\nbody\n`))))!;
    const { base, messageId, references, inReplyTo } = StoredSummary.from(summarize(toCrlf(Buffer.from(`${head}\nbody\n`))))!.sortFacts;
    assert.deepEqual(threadFactsOf(s), { base, messageId, references, inReplyTo }, head);
  }
});

test('one selector over messages whose field names differ but are as long in bytes: each answered by its own names', () => {
  const sel = new FieldSelector(new Set(['to']), false);
  const texts = ['Cc: c@x\nSubject: s\n\nb\n', 'To: t@x\nSubject: s\n\nb\n', 'Cc: c@x\nSubject: s\n\nb\n', 'To: t@x\nSubject: s\n\nb\n'];
  for (const t of texts) {
    const crlf = toCrlf(Buffer.from(t));
    const root = parseMime(crlf);
    const got = headerFieldsFrom(StoredSummary.from(summarize(crlf, false, false))!, sel);
    assert.deepEqual(got, selectHeaderFields(root.header, ['To'], false, root.blankLine), t);
  }
});
