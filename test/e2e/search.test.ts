// SEARCH / ESEARCH / SORT / THREAD against the real server process, with
// Python's imaplib, imapflow and raw commands; and a differential test: the
// same Maildir served by us and then by Dovecot must give the same answers.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { makeMailTree, startServer, type MailTree, type RunningServer } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';
import { startDovecot, dovecotAvailable } from '../support/dovecot.js';

const run = promisify(execFile);

/** A message with LF line endings, as Postfix writes it. */
function mail(h: Record<string, string>, body: string): string {
  return `${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${body}`;
}

const B64_LATIN1 = Buffer.from('<html><body><p>Caf\xe9 cr\xe8me &amp; <b>Gr\xfc\xdfe</b></p></body></html>', 'latin1').toString('base64');

/** The corpus: threads by References, In-Reply-To, subject only, a missing parent; encodings. */
const CORPUS: Array<{ text: string; mtime: string }> = [
  {
    mtime: '2024-01-02T10:00:00Z',
    text: mail(
      {
        From: 'Alice Example <alice@example.org>',
        To: 'bob@example.org',
        Cc: 'Zed <zed@example.org>',
        Subject: '=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Bern',
        Date: 'Tue, 2 Jan 2024 09:00:00 +0100',
        'Message-ID': '<a1@example.org>',
        'MIME-Version': '1.0',
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Transfer-Encoding': 'quoted-printable',
      },
      'Viele Gr=C3=BC=C3=9Fe von der Aare,=\nund ein langer Satz.\n',
    ),
  },
  {
    mtime: '2024-01-03T10:00:00Z',
    text: mail(
      { From: 'bob@example.org', To: 'Alice <alice@example.org>', Subject: 'Re: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Bern', Date: 'Wed, 3 Jan 2024 08:00:00 +0000', 'Message-ID': '<b2@example.org>', References: '<a1@example.org>', 'In-Reply-To': '<a1@example.org>' },
      'Thanks!\n',
    ),
  },
  {
    mtime: '2024-01-04T10:00:00Z',
    text: mail(
      {
        From: '"Carol, C." <carol@example.net>',
        To: 'bob@example.org',
        Subject: 'Menu',
        Date: 'Thu, 4 Jan 2024 23:30:00 -0500',
        'Message-ID': '<c3@example.net>',
        'MIME-Version': '1.0',
        'Content-Type': 'text/html; charset=iso-8859-1',
        'Content-Transfer-Encoding': 'base64',
      },
      B64_LATIN1 + '\n',
    ),
  },
  {
    mtime: '2024-01-05T10:00:00Z',
    text: mail({ From: 'dave@example.com', To: 'bob@example.org', Subject: 'Lunch', 'Message-ID': '<d4@example.com>', 'X-Tag': 'blue' }, 'no date header here\n'),
  },
  {
    mtime: '2024-01-06T10:00:00Z',
    text: mail({ From: 'erin@example.com', To: 'bob@example.org', Subject: 'Re: lunch', Date: 'Sat, 6 Jan 2024 12:00:00 +0000', 'Message-ID': '<e5@example.com>' }, 'Count me in.\n'),
  },
  {
    mtime: '2024-01-07T10:00:00Z',
    text: mail({ From: 'frank@example.com', To: 'list@example.org', Subject: '[list] Release', Date: 'Sun, 7 Jan 2024 12:00:00 +0000', 'Message-ID': '<f6@example.com>', References: '<gone@example.com>' }, 'first reply to a lost message\n'),
  },
  {
    mtime: '2024-01-08T10:00:00Z',
    text: mail({ From: 'grace@example.com', To: 'list@example.org', Subject: 'Re: [list] Release', Date: 'Mon, 8 Jan 2024 12:00:00 +0000', 'Message-ID': '<g7@example.com>', 'In-Reply-To': '<gone@example.com>' }, 'second reply to a lost message\n'),
  },
  {
    mtime: '2024-01-09T10:00:00Z',
    text: mail(
      {
        From: 'heidi@example.com',
        To: 'bob@example.org',
        Subject: 'Fwd: Menu (fwd)',
        Date: 'Tue, 9 Jan 2024 12:00:00 +0000',
        'Message-ID': '<h8@example.com>',
        'MIME-Version': '1.0',
        'Content-Type': 'multipart/alternative; boundary="XX"',
      },
      '--XX\nContent-Type: text/plain; charset=utf-8\n\nplain part with needle\n--XX\nContent-Type: text/html; charset=utf-8\n\n<p>html part with <i>haystack</i></p>\n--XX--\n',
    ),
  },
];

async function seed(tree: MailTree): Promise<void> {
  // Names that sort in delivery order, so UIDs (and sequence numbers) are 1..8 in corpus order.
  const bob = tree.maildir('bob');
  for (const [i, m] of CORPUS.entries()) {
    const name = `${1_704_000_000 + i}.M${i}P${process.pid}.search`;
    await fs.writeFile(path.join(bob, 'tmp', name), m.text);
    await fs.rename(path.join(bob, 'tmp', name), path.join(bob, 'new', name));
    const when = new Date(m.mtime);
    await fs.utimes(path.join(bob, 'new', name), when, when);
  }
}

async function setup(t: TestContext): Promise<{ tree: MailTree; server: RunningServer }> {
  const tree = await makeMailTree('mimapd-search-');
  await seed(tree);
  const server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  return { tree, server };
}

/** Untagged lines of a command's output that start with `* <name>`. */
function lines(out: string, name: string): string[] {
  return out.split('\r\n').filter((l) => l.startsWith(`* ${name}`));
}

/** The commands of the differential test; \Recent-dependent keys are left out (per session by definition). */
const PROBES = [
  'SEARCH ALL',
  'UID SEARCH FROM alice',
  'SEARCH CHARSET UTF-8 SUBJECT "aus bern"',
  'SEARCH BODY needle',
  'SEARCH BODY haystack',
  'SEARCH TEXT example.net',
  'SEARCH BODY "Aare"',
  'SEARCH TO Alice CC zed',
  'SEARCH OR FROM dave FROM erin',
  'SEARCH NOT FROM example.com',
  'SEARCH HEADER X-Tag ""',
  'SEARCH HEADER X-Tag BLUE',
  'SEARCH HEADER Message-ID c3',
  'SEARCH SINCE 5-Jan-2024',
  'SEARCH BEFORE 5-Jan-2024',
  'SEARCH ON 3-Jan-2024',
  'SEARCH SENTON 4-Jan-2024',
  'SEARCH SENTBEFORE 4-Jan-2024',
  'SEARCH SENTSINCE 6-Jan-2024',
  'SEARCH LARGER 300',
  'SEARCH SMALLER 300',
  'SEARCH 2:4 UID 3:*',
  'SEARCH SEEN',
  'SEARCH FLAGGED',
  'SEARCH KEYWORD $Work',
  'SEARCH UNKEYWORD $Work UNSEEN',
  'SEARCH (OR SEEN FLAGGED) NOT ANSWERED',
  'UID SEARCH RETURN (MIN MAX COUNT ALL) NOT SUBJECT lunch',
  'SEARCH RETURN () FROM example.com',
  'SEARCH RETURN (COUNT) FROM nobody',
  'SEARCH RETURN (MIN) FROM nobody',
  'SORT (SUBJECT) UTF-8 ALL',
  'SORT (REVERSE SUBJECT) UTF-8 ALL',
  'SORT (DATE) UTF-8 ALL',
  'UID SORT (REVERSE DATE) UTF-8 ALL',
  'SORT (ARRIVAL) UTF-8 ALL',
  'SORT (REVERSE ARRIVAL) UTF-8 ALL',
  'SORT (FROM) UTF-8 ALL',
  'SORT (TO DATE) UTF-8 ALL',
  'SORT (CC) UTF-8 ALL',
  'SORT (SIZE) UTF-8 ALL',
  'SORT (REVERSE SIZE) UTF-8 FROM example',
  'THREAD REFERENCES UTF-8 ALL',
  'UID THREAD REFERENCES UTF-8 ALL',
  'THREAD ORDEREDSUBJECT UTF-8 ALL',
  'THREAD REFERENCES UTF-8 NOT FROM bob',
  'THREAD REFS UTF-8 ALL',
  'UID THREAD REFS UTF-8 NOT FROM bob',
  'THREAD REFS UTF-8 SINCE 5-Jan-2024',
];

/** Runs every probe on a logged-in, selected session; returns probe -> untagged result lines. */
async function probe(c: RawImap): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let n = 0;
  for (const p of PROBES) {
    const tag = `p${++n}`;
    const res = await c.command(tag, p);
    assert.match(res, new RegExp(`${tag} OK`), `${p} -> ${res}`);
    const name = / (SEARCH RETURN|UID SEARCH RETURN)/.test(` ${p}`) ? 'ESEARCH' : /SORT/.test(p) ? 'SORT' : /THREAD/.test(p) ? 'THREAD' : 'SEARCH';
    // Dovecot writes "* SEARCH" / "* THREAD" / "* SORT" with a trailing space when empty on some versions
    out.set(p, lines(res, name).map((l) => l.replace(/ +$/, '').replace(/ \(TAG "p\d+"\)/, ' (TAG)')).join('\n'));
  }
  return out;
}

async function login(port: number): Promise<RawImap> {
  const c = await RawImap.connect(port);
  assert.match(await c.command('l', 'LOGIN bob bob-pass'), /l OK/);
  return c;
}

/** Flags both servers get before probing. */
async function setFlags(c: RawImap): Promise<void> {
  for (const [i, cmd] of ['STORE 1 +FLAGS (\\Seen)', 'STORE 2 +FLAGS (\\Seen \\Answered)', 'STORE 3 +FLAGS (\\Flagged $Work)', 'STORE 8 +FLAGS ($Work)'].entries())
    assert.match(await c.command(`f${i}`, cmd), new RegExp(`f${i} OK`));
}

test('SEARCH keys, ESEARCH, SORT and THREAD give the expected answers', { timeout: 30_000 }, async (t) => {
  const { server } = await setup(t);
  const c = await login(server.port);
  t.after(() => c.close());
  const caps = await c.command('c', 'CAPABILITY');
  for (const cap of ['ESEARCH', 'SORT', 'THREAD=REFERENCES', 'THREAD=ORDEREDSUBJECT']) assert.ok(caps.includes(` ${cap}`), cap);
  await c.command('s', 'SELECT INBOX');
  await setFlags(c);
  const r = await probe(c);
  const expect: Record<string, string> = {
    'SEARCH ALL': '* SEARCH 1 2 3 4 5 6 7 8',
    'UID SEARCH FROM alice': '* SEARCH 1',
    'SEARCH CHARSET UTF-8 SUBJECT "aus bern"': '* SEARCH 1 2',
    'SEARCH BODY needle': '* SEARCH 8',
    'SEARCH BODY haystack': '* SEARCH 8',
    'SEARCH BODY "Aare"': '* SEARCH 1',
    'SEARCH TO Alice CC zed': '* SEARCH',
    'SEARCH OR FROM dave FROM erin': '* SEARCH 4 5',
    'SEARCH HEADER X-Tag ""': '* SEARCH 4',
    'SEARCH HEADER X-Tag BLUE': '* SEARCH 4',
    'SEARCH SINCE 5-Jan-2024': '* SEARCH 4 5 6 7 8',
    'SEARCH BEFORE 5-Jan-2024': '* SEARCH 1 2 3',
    'SEARCH ON 3-Jan-2024': '* SEARCH 2',
    'SEARCH SENTON 4-Jan-2024': '* SEARCH 3',
    'SEARCH 2:4 UID 3:*': '* SEARCH 3 4',
    'SEARCH SEEN': '* SEARCH 1 2',
    'SEARCH KEYWORD $Work': '* SEARCH 3 8',
    'UID SEARCH RETURN (MIN MAX COUNT ALL) NOT SUBJECT lunch': '* ESEARCH (TAG) UID MIN 1 MAX 8 ALL 1:3,6:8 COUNT 6',
    'SEARCH RETURN (COUNT) FROM nobody': '* ESEARCH (TAG) COUNT 0',
    'SEARCH RETURN (MIN) FROM nobody': '* ESEARCH (TAG)',
    'THREAD REFERENCES UTF-8 ALL': '* THREAD (1 2)(3 8)(4 5)((6)(7))',
    'THREAD ORDEREDSUBJECT UTF-8 ALL': '* THREAD (1 2)(3 8)(4 5)(6 7)',
    // REFS: no subject merging; threads by their newest message (4 has no Date: its arrival, Jan 5 10:00).
    'THREAD REFS UTF-8 ALL': '* THREAD (1 2)(3)(4)(5)((6)(7))(8)',
  };
  for (const [k, v] of Object.entries(expect)) assert.equal(r.get(k), v.replace(/^\* SEARCH$/, '* SEARCH'), k);
  // an unknown charset, bad criteria
  assert.match(await c.command('x1', 'SEARCH CHARSET KOI8-R ALL'), /x1 NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/);
  assert.match(await c.command('x2', 'SEARCH FROB'), /x2 BAD/);
  assert.match(await c.command('x3', 'SORT (DATE) ALL'), /x3 BAD|x3 NO/);
  assert.match(await c.command('x4', 'THREAD XYZ UTF-8 ALL'), /x4 BAD/);
  assert.match(await c.command('x5', 'SEARCH RETURN (FUZZY) ALL'), /x5 BAD/); // SAVE works since SEARCHRES (test/e2e/searchres)
});

test('Python imaplib: SEARCH CHARSET UTF-8 with a literal, and THREAD', { timeout: 30_000 }, async (t) => {
  const { server } = await setup(t);
  const script = `
import imaplib, sys
M = imaplib.IMAP4('127.0.0.1', ${server.port})
M.login('bob', 'bob-pass')
M.select('INBOX')
M.literal = 'Grüße'.encode('utf-8')
print('subject', M.search('UTF-8', 'SUBJECT')[1][0].decode())
M.literal = 'grüsse'.encode('utf-8')
print('nomatch', M.search('UTF-8', 'SUBJECT')[1][0].decode())
M.literal = 'VIELE GRÜSSE'.encode('utf-8')
print('nomatch2', M.search('UTF-8', 'BODY')[1][0].decode())
M.literal = 'viele grüße'.encode('utf-8')
print('body', M.search('UTF-8', 'BODY')[1][0].decode())
M.literal = 'Café crème'.encode('utf-8')
print('html', M.search('UTF-8', 'TEXT')[1][0].decode())
print('thread', M.thread('REFERENCES', 'UTF-8', 'ALL')[1][0].decode())
print('uidthread', M.uid('THREAD', 'ORDEREDSUBJECT', 'UTF-8', 'ALL')[1][0].decode())
print('sort', M.sort('(REVERSE DATE)', 'UTF-8', 'ALL')[1][0].decode())
M.logout()
`;
  const { stdout } = await run('python3', ['-c', script], { timeout: 20_000 });
  const got = Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
  assert.equal(got.subject, '1 2');
  assert.equal(got.nomatch, '');
  assert.equal(got.nomatch2, '');
  assert.equal(got.body, '1');
  assert.equal(got.html, '3');
  assert.equal(got.thread, '(1 2)(3 8)(4 5)((6)(7))');
  assert.equal(got.uidthread, '(1 2)(3 8)(4 5)(6 7)');
  // DATE: message 4 has no Date: and sorts by its INTERNALDATE (Jan 5); message 3 was sent Jan 5 04:30 UTC
  assert.equal(got.sort, '8 7 6 5 4 3 2 1');
});

test('imapflow search, raw UID SORT and UID THREAD', { timeout: 30_000 }, async (t) => {
  const { server } = await setup(t);
  const c = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true });
  await c.connect();
  t.after(() => c.logout().catch(() => undefined));
  await c.mailboxOpen('INBOX');
  assert.deepEqual(await c.search({ subject: 'Grüße' }), [1, 2]);
  assert.deepEqual(await c.search({ body: 'grüße' }, { uid: true }), [1, 3]); // 3: Latin-1 HTML, base64
  assert.deepEqual(await c.search({ or: [{ from: 'dave' }, { from: 'erin' }] }), [4, 5]);
  assert.deepEqual(await c.search({ since: new Date('2024-01-07T00:00:00Z') }), [6, 7, 8]);
  assert.deepEqual(await c.search({ larger: 100000 }), []);
  const raw = await login(server.port);
  t.after(() => raw.close());
  await raw.command('s', 'SELECT INBOX');
  assert.match(await raw.command('a', 'UID SORT (DATE) UTF-8 ALL'), /\* SORT 1 2 3 4 5 6 7 8\r\n/);
  assert.match(await raw.command('b', 'UID THREAD REFERENCES UTF-8 ALL'), /\* THREAD \(1 2\)\(3 8\)\(4 5\)\(\(6\)\(7\)\)\r\n/);
  // a second search is answered from the facts cache: same result
  assert.match(await raw.command('c', 'UID SEARCH TEXT haystack'), /\* SEARCH 8\r\n/);
  assert.match(await raw.command('d', 'UID SEARCH TEXT haystack'), /\* SEARCH 8\r\n/);
});

test('the same Maildir gives the same SEARCH, ESEARCH, SORT and THREAD answers from us and from Dovecot', { timeout: 60_000 }, async (t) => {
  if (!dovecotAvailable()) return t.skip('dovecot is not installed (apt-get install dovecot-imapd)');
  const tree = await makeMailTree('mimapd-search-interop-');
  await fs.chmod(tree.dir, 0o711);
  t.after(() => fs.rm(tree.dir, { recursive: true, force: true }));
  await seed(tree);
  // us first: SELECT assigns UIDs 1..8 in dovecot-uidlist, which Dovecot then keeps
  const ours = await startServer(tree);
  let mine: Map<string, string>;
  try {
    const c = await login(ours.port);
    await c.command('s', 'SELECT INBOX');
    await setFlags(c);
    mine = await probe(c);
    c.close();
  } finally {
    await ours.stop();
  }
  const peer = await startDovecot({ mailRoot: path.join(tree.dir, 'mail'), stateDir: path.join(tree.dir, 'dovecot') });
  let theirs: Map<string, string>;
  try {
    const c = await login(peer.port);
    await c.command('s', 'SELECT INBOX');
    theirs = await probe(c);
    c.close();
  } finally {
    await peer.stop();
  }
  const diffs: string[] = [];
  for (const p of PROBES) if (mine.get(p) !== theirs.get(p)) diffs.push(`${p}\n   ours:    ${mine.get(p)}\n   dovecot: ${theirs.get(p)}`);
  assert.deepEqual(diffs, []);
});
