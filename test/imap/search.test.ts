// Unit tests: the SEARCH criteria parser (RFC 3501 §6.4.4), base-subject
// extraction (RFC 5256 §2.1), the two threading algorithms (RFC 5256 §2.2)
// and the parsed facts (dates, Message-IDs, addresses, body decoding).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, CommandFramer, type FramedCommand, type Token } from '../../src/wire/parser.js';
import { parseCriteria, parseSearchDate, charsetAndCriteria, type SearchKey } from '../../src/wire/search-criteria.js';
import { BadError, NoError } from '../../src/wire/errors.js';
import { baseSubject } from '../../src/wire/base-subject.js';
import { threadData } from '../../src/imap/search/thread.js';
import { ThreadInput, type ThreadMsg } from '../../src/imap/search/thread-input.js';
import { formatSet as compressSet } from '../../src/wire/sequence-set.js';
import { parseSortCriteria } from '../../src/imap/search/sort.js';
import { decodeQP, htmlToText, headerFactsOf } from '../../src/mail/facts.js';
import { parseRfc2822Date, parseMsgIds } from '../../src/wire/header-values.js';
import { parseHeader } from '../../src/wire/header.js';

/** Tokens of a command line; "\u0000" in `text` stands for the next literal (framed like the wire). */
function tokens(text: string, literals: Buffer[] = []): Token[] {
  const pieces = text.split('\u0000');
  const wire: Buffer[] = [];
  pieces.forEach((p, i) => {
    wire.push(Buffer.from(p));
    if (i < pieces.length - 1) wire.push(Buffer.from(`{${literals[i].length}+}\r\n`), literals[i]);
  });
  wire.push(Buffer.from('\r\n'));
  let cmd: FramedCommand | null = null;
  const framer = new CommandFramer({ onCommand: (c) => (cmd = c), onContinuation: () => undefined, onError: (e) => assert.fail(JSON.stringify(e)) });
  framer.push(Buffer.concat(wire));
  assert.ok(cmd);
  return parseCommand(cmd).args;
}
const crit = (text: string): SearchKey => parseCriteria(tokens(`x SEARCH ${text}`));

test('every RFC 3501 search key parses', () => {
  const flags: Array<[string, string, boolean]> = [
    ['ANSWERED', '\\Answered', true], ['DELETED', '\\Deleted', true], ['DRAFT', '\\Draft', true], ['FLAGGED', '\\Flagged', true], ['SEEN', '\\Seen', true],
    ['UNANSWERED', '\\Answered', false], ['UNDELETED', '\\Deleted', false], ['UNDRAFT', '\\Draft', false], ['UNFLAGGED', '\\Flagged', false], ['UNSEEN', '\\Seen', false],
  ];
  for (const [key, flag, set] of flags) assert.deepEqual(crit(key.toLowerCase()), { k: 'flag', flag, set });
  assert.deepEqual(crit('ALL'), { k: 'all' });
  assert.deepEqual(crit('KEYWORD $Forwarded'), { k: 'flag', flag: '$Forwarded', set: true });
  assert.deepEqual(crit('UNKEYWORD Junk'), { k: 'flag', flag: 'Junk', set: false });
  assert.deepEqual(crit('NEW'), { k: 'and', keys: [{ k: 'recent', set: true }, { k: 'flag', flag: '\\Seen', set: false }] });
  assert.deepEqual(crit('OLD'), { k: 'recent', set: false });
  assert.deepEqual(crit('RECENT'), { k: 'recent', set: true });
  for (const [key, field] of [['BCC', 'bcc'], ['CC', 'cc'], ['FROM', 'from'], ['SUBJECT', 'subject'], ['TO', 'to']])
    assert.deepEqual(crit(`${key} "Mr. X"`), { k: 'header', field, value: 'mr. x' });
  assert.deepEqual(crit('HEADER X-Spam-Flag YES'), { k: 'header', field: 'x-spam-flag', value: 'yes' });
  assert.deepEqual(crit('HEADER List-Id ""'), { k: 'header', field: 'list-id', value: '' });
  assert.deepEqual(crit('BODY hello'), { k: 'body', value: 'hello' });
  assert.deepEqual(crit('TEXT Hello'), { k: 'text', value: 'hello' });
  const day = Date.UTC(1994, 1, 1) / 86_400_000;
  assert.deepEqual(crit('BEFORE 1-Feb-1994'), { k: 'date', sent: false, op: 'before', day });
  assert.deepEqual(crit('ON "01-feb-1994"'), { k: 'date', sent: false, op: 'on', day });
  assert.deepEqual(crit('SINCE 1-Feb-1994'), { k: 'date', sent: false, op: 'since', day });
  assert.deepEqual(crit('SENTBEFORE 1-Feb-1994'), { k: 'date', sent: true, op: 'before', day });
  assert.deepEqual(crit('SENTON 1-Feb-1994'), { k: 'date', sent: true, op: 'on', day });
  assert.deepEqual(crit('SENTSINCE 1-Feb-1994'), { k: 'date', sent: true, op: 'since', day });
  assert.deepEqual(crit('LARGER 100'), { k: 'size', larger: true, n: 100 });
  assert.deepEqual(crit('SMALLER 5'), { k: 'size', larger: false, n: 5 });
  assert.deepEqual(crit('UID 1:3,7'), { k: 'uid', set: [[1, 3], [7, 7]] });
  assert.deepEqual(crit('2:*'), { k: 'seq', set: [[2, Infinity]] });
  assert.deepEqual(crit('NOT SEEN'), { k: 'not', key: { k: 'flag', flag: '\\Seen', set: true } });
  assert.deepEqual(crit('OR SEEN FLAGGED'), { k: 'or', a: { k: 'flag', flag: '\\Seen', set: true }, b: { k: 'flag', flag: '\\Flagged', set: true } });
});

test('lists AND their keys, nest, and combine with OR and NOT', () => {
  assert.deepEqual(crit('(SEEN FLAGGED)'), { k: 'and', keys: [{ k: 'flag', flag: '\\Seen', set: true }, { k: 'flag', flag: '\\Flagged', set: true }] });
  assert.deepEqual(crit('SEEN LARGER 3'), { k: 'and', keys: [{ k: 'flag', flag: '\\Seen', set: true }, { k: 'size', larger: true, n: 3 }] });
  assert.deepEqual(crit('OR (SEEN (FROM a)) NOT (TO b)'), {
    k: 'or',
    a: { k: 'and', keys: [{ k: 'flag', flag: '\\Seen', set: true }, { k: 'header', field: 'from', value: 'a' }] },
    b: { k: 'not', key: { k: 'header', field: 'to', value: 'b' } },
  });
  assert.deepEqual(crit('NOT NOT ALL'), { k: 'not', key: { k: 'not', key: { k: 'all' } } });
});

test('search strings may be literals, decoded as UTF-8', () => {
  const lit = Buffer.from('Grüße', 'utf8');
  assert.deepEqual(parseCriteria(tokens('x SEARCH SUBJECT \u0000', [lit])), { k: 'header', field: 'subject', value: 'grüße' });
  assert.deepEqual(charsetAndCriteria(tokens('x SEARCH CHARSET UTF-8 BODY \u0000', [lit]), 'SEARCH', false), { k: 'body', value: 'grüße' });
});

test('malformed criteria are BAD; an unknown charset is NO [BADCHARSET]', () => {
  for (const bad of ['FROB', 'FROM', 'OR SEEN', 'NOT', 'BEFORE 31-Feb-2020', 'BEFORE 2020-01-01', 'LARGER x', 'LARGER 99999999999', 'UID x', '0', '1:0', 'KEYWORD \\Seen', 'HEADER "a b" c', '()', '"quoted"', 'SUBJECT (a)'])
    assert.throws(() => crit(bad), BadError, bad);
  assert.throws(() => parseCriteria([]), BadError);
  assert.throws(
    () => charsetAndCriteria(tokens('x SEARCH CHARSET KOI8-R ALL'), 'SEARCH', false),
    (e: unknown) => e instanceof NoError && e.code === 'BADCHARSET (UTF-8 US-ASCII)',
  );
  assert.throws(() => charsetAndCriteria(tokens('x SEARCH CHARSET UTF-8'), 'SEARCH', false), BadError);
  assert.doesNotThrow(() => charsetAndCriteria(tokens('x SORT us-ascii ALL'), 'SORT', true));
  assert.throws(() => crit(`${'('.repeat(70)}ALL${')'.repeat(70)}`), Error);
  assert.equal(parseSearchDate('9-Sep-2020'), Date.UTC(2020, 8, 9) / 86_400_000);
});

test('sort criteria: REVERSE applies to the next key only', () => {
  const t = tokens('x SORT (REVERSE DATE subject) UTF-8 ALL')[0];
  assert.deepEqual(parseSortCriteria(t), [{ key: 'DATE', reverse: true }, { key: 'SUBJECT', reverse: false }]);
  for (const bad of ['()', '(REVERSE)', '(FOO)', '(REVERSE REVERSE DATE)']) assert.throws(() => parseSortCriteria(tokens(`x SORT ${bad}`)[0]), BadError);
  assert.throws(() => parseSortCriteria(tokens('x SORT DATE')[0]), BadError);
});

test('base subject (RFC 5256 §2.1)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['Hello', 'Hello', false],
    ['Re: Hello', 'Hello', true],
    ['RE:  re: Fwd: Hello', 'Hello', true],
    ['Fw: Hello (fwd)', 'Hello', true],
    ['[list] Re: Hello', 'Hello', true],
    ['Re[2]: Hello', 'Hello', true],
    ['re [foo]: Hello', 'Hello', true],
    ['[Fwd: Re: Hello]', 'Hello', true],
    ['[Fwd: [Fwd: Hello (fwd)]]', 'Hello', true],
    ['[list] Hello', 'Hello', false],
    ['[only a blob]', '[only a blob]', false],
    ['[a][b] Hello', 'Hello', false],
    ['  Hello\t\tworld  ', 'Hello world', false],
    ['Re:', '', true],
    ['Subject (fwd) (FWD)', 'Subject', true],
    ['Reply: not a reply', 'Reply: not a reply', false],
    ['', '', false],
  ];
  for (const [input, base, refwd] of cases) assert.deepEqual(baseSubject(input), { base, replyOrFwd: refwd }, input);
});

const references = (msgs: ThreadMsg[]) => threadData('REFERENCES', ThreadInput.of(msgs));
const orderedSubject = (msgs: ThreadMsg[]) => threadData('ORDEREDSUBJECT', ThreadInput.of(msgs));

function msg(seq: number, opts: { id?: string | null; refs?: string[]; irt?: string; date?: number; subject?: string }): ThreadMsg {
  return {
    id: seq,
    seq,
    date: opts.date ?? seq * 1000,
    subject: baseSubject(opts.subject ?? `subject ${seq}`),
    messageId: opts.id === undefined ? `m${seq}@x` : opts.id,
    references: opts.refs ?? [],
    inReplyTo: opts.irt ?? null,
  };
}

test('REFERENCES: reply chains, branches, In-Reply-To and dates', async () => {
  const t = await references([
    msg(1, {}),
    msg(2, { refs: ['m1@x'] }),
    msg(3, { refs: ['m1@x', 'm2@x'] }),
    msg(4, { irt: 'm1@x' }),
    msg(5, {}),
    msg(6, { refs: ['m5@x'], date: 500 }), // sent before its parent: still its child
  ]);
  assert.equal(t, '(1 (2 3)(4))(5 6)');
});

test('REFERENCES: missing parents become dummies, pruned per step 4', async () => {
  // 2 and 3 both reply to a message we do not have: a dummy root with two children
  assert.equal((await references([msg(2, { refs: ['gone@x'] }), msg(3, { refs: ['gone@x'] })])), '((2)(3))');
  // one child of a missing parent is promoted to the root
  assert.equal((await references([msg(2, { refs: ['gone@x'] })])), '(2)');
  // a missing message in the middle of a chain disappears
  assert.equal((await references([msg(1, {}), msg(3, { refs: ['m1@x', 'gone@x'] })])), '(1 3)');
});

test('REFERENCES: duplicate and missing Message-IDs, loops', async () => {
  assert.equal((await references([msg(1, { id: 'same@x' }), msg(2, { id: 'same@x' }), msg(3, { refs: ['same@x'] })])), '(1 3)(2)');
  assert.equal((await references([msg(1, { id: null }), msg(2, { id: null })])), '(1)(2)');
  // a references b, b references a: no loop, one link wins
  const t = (await references([msg(1, { id: 'a@x', refs: ['b@x'] }), msg(2, { id: 'b@x', refs: ['a@x'] })]));
  assert.ok(t === '(1 2)' || t === '(2 1)', t);
  // a message that references itself is a root
  assert.equal((await references([msg(1, { refs: ['m1@x'] })])), '(1)');
});

test('REFERENCES: threads with the same base subject are merged (step 5)', async () => {
  // two unrelated roots with the same subject: a dummy joins them
  assert.equal((await references([msg(1, { subject: 'Lunch' }), msg(2, { subject: 'lunch' })])), '((1)(2))');
  // a reply (by subject only) becomes the child of the original
  assert.equal((await references([msg(1, { subject: 'Lunch' }), msg(2, { subject: 'Re: Lunch' })])), '(1 2)');
  // the original arriving after the reply still becomes the parent
  assert.equal((await references([msg(1, { subject: 'Re: Lunch' }), msg(2, { subject: 'Lunch' })])), '(2 1)');
  // empty subjects are never merged
  assert.equal((await references([msg(1, { subject: '' }), msg(2, { subject: 'Re:' })])), '(1)(2)');
});

test('ORDEREDSUBJECT (RFC 5256 §2.1 algorithm)', async () => {
  const t = await orderedSubject([
    msg(1, { subject: 'b', date: 3000 }),
    msg(2, { subject: 'a', date: 2000 }),
    msg(3, { subject: 'Re: b', date: 1000 }),
    msg(4, { subject: 're: a', date: 4000 }),
    msg(5, { subject: 'a', date: 5000 }),
    msg(6, { subject: 'c', date: 1500 }),
  ]);
  // b-thread starts at 3 (date 1000), c at 1500, a at 2000
  assert.equal(t, '(3 1)(6)(2 (4)(5))');
});

test('ESEARCH ALL sequence-set compression', () => {
  assert.equal(compressSet([1, 2, 3, 5, 7, 8]), '1:3,5,7:8');
  assert.equal(compressSet([4]), '4');
  assert.equal(compressSet([]), '');
});

test('facts: Date: headers, Message-IDs, decoded header values', () => {
  assert.deepEqual(parseRfc2822Date('Thu, 26 Nov 2026 08:00:00 +0000'), { ms: Date.UTC(2026, 10, 26, 8), day: Date.UTC(2026, 10, 26) / 86_400_000 });
  // the calendar day is the one written, whatever the zone (RFC 3501 SENT*: disregarding time and timezone)
  const late = parseRfc2822Date('Mon, 1 Jan 2024 23:30:00 -0500')!;
  assert.equal(late.day, Date.UTC(2024, 0, 1) / 86_400_000);
  assert.equal(late.ms, Date.UTC(2024, 0, 2, 4, 30));
  assert.equal(parseRfc2822Date('1 Jan 99 10:00 EST')!.ms, Date.UTC(1999, 0, 1, 15));
  assert.equal(parseRfc2822Date('garbage'), null);
  assert.deepEqual(parseMsgIds('<a@b> (comment <x@y>) <"q uoted"@c> <no-at> < d @ e >'), ['a@b', 'q uoted@c', 'd@e']);
  const h = headerFactsOf(parseHeader(Buffer.from('Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Bern\r\nMessage-ID: <1@x>\r\nIn-Reply-To: <0@x>\r\n\r\n')));
  assert.equal(h.fields[0].value, 'Grüße aus Bern');
  assert.equal(h.messageId, '1@x');
  assert.equal(h.inReplyTo, '0@x');
  assert.equal(h.sentMs, null);
});

test('facts: quoted-printable and HTML decoding', () => {
  assert.equal(decodeQP(Buffer.from('Gr=C3=BC=C3=9Fe=\r\n aus=3D')).toString('utf8'), 'Grüße aus=');
  assert.equal(htmlToText('<p>Caf&eacute;? <b>Gr&#252;&#xdf;e</b></p><script>x()</script>').trim(), 'Caf&eacute;? Grüße');
});
