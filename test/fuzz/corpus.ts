// The valid inputs the fuzzers start from: one command each, in the state it
// is valid in, with its literals kept apart so a mutation can change their
// announced size, their kind (sync/non-sync) or their bytes independently.

export interface Lit {
  lit: Buffer;
  nonSync: boolean;
  /** The marker as sent, when a mutation made it lie about the size (default `{n}` / `{n+}`). */
  marker?: string;
}
/** Text (the command line, CRLFs included) or a literal (`{n}`/`{n+}` CRLF data). */
export type Elem = string | Lit;

export type SessionState = 'notauth' | 'auth' | 'selected';

export interface Seed {
  state: SessionState;
  elems: Elem[];
}

const lit = (s: string | Buffer, nonSync = false): Lit => ({ lit: Buffer.isBuffer(s) ? s : Buffer.from(s), nonSync });
const b64 = (s: string) => Buffer.from(s).toString('base64');

export const SIMPLE_MESSAGE = 'From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: hello\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\nHi Bob.\r\n';

export const MULTIPART_MESSAGE = [
  'From: "Carol, Q." <carol@example.org>, =?UTF-8?B?w6Rsw6Q=?= <a@b.c>',
  'To: group: x@y.z, w@v.u;, <bob@example.org>',
  'Cc: undisclosed-recipients:;',
  'Subject: =?UTF-8?Q?caf=C3=A9?= report',
  'In-Reply-To: <0@example.org>',
  'References: <a@b> <c@d>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8; format=flowed',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'caf=C3=A9',
  '--inner',
  'Content-Type: text/html; charset="iso-8859-1"',
  '',
  '<p>hi</p>',
  '--inner--',
  '--outer',
  'Content-Type: message/rfc822',
  '',
  'From: x@y.z',
  'Subject: inner',
  'Content-Type: application/octet-stream; name*=UTF-8\'\'%C3%A4.bin',
  'Content-Disposition: attachment; filename="a.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAw==',
  '--outer--',
  '',
].join('\r\n');

const FETCH_ALL_ITEMS =
  '(FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY MODSEQ BODY[] BODY.PEEK[HEADER] BODY[TEXT] BODY[1] BODY[1.MIME] BODY[2.1] BODY.PEEK[1.2.HEADER] ' +
  'BODY[HEADER.FIELDS (From To Subject)] BODY.PEEK[HEADER.FIELDS.NOT (Received "X-Spam")] BODY.PEEK[]<0.10> BODY[1.TEXT]<5.100> RFC822 RFC822.HEADER RFC822.TEXT)';

/** Every command the server knows, with arguments of each kind it takes. */
export const SEEDS: Seed[] = [
  // Before login.
  { state: 'notauth', elems: ['a CAPABILITY\r\n'] },
  { state: 'notauth', elems: ['a NOOP\r\n'] },
  { state: 'notauth', elems: ['a LOGIN bob bob-pass\r\n'] },
  { state: 'notauth', elems: ['a LOGIN "bob" "bob-pass"\r\n'] },
  { state: 'notauth', elems: ['a LOGIN ', lit('bob'), ' ', lit('bob-pass', true), '\r\n'] },
  { state: 'notauth', elems: [`a AUTHENTICATE PLAIN ${b64('\0bob\0bob-pass')}\r\n`] },
  { state: 'notauth', elems: ['a AUTHENTICATE PLAIN\r\n', `${b64('bob\0bob\0bob-pass')}\r\n`] },
  { state: 'notauth', elems: ['a AUTHENTICATE LOGIN\r\n', `${b64('bob')}\r\n`, `${b64('bob-pass')}\r\n`] },
  { state: 'notauth', elems: [`a AUTHENTICATE LOGIN ${b64('bob')}\r\n`, `${b64('bob-pass')}\r\n`] },
  { state: 'notauth', elems: ['a AUTHENTICATE PLAIN =\r\n'] },
  { state: 'notauth', elems: ['a AUTHENTICATE PLAIN\r\n', '*\r\n'] },
  { state: 'notauth', elems: ['a ID ("name" "fuzz" "version" "1.0" "__proto__" "x" "constructor" NIL)\r\n'] },
  { state: 'notauth', elems: ['a STARTTLS\r\n'] },
  { state: 'notauth', elems: ['a ENABLE CONDSTORE\r\n'] },
  // After login.
  { state: 'auth', elems: ['a SELECT INBOX\r\n'] },
  { state: 'auth', elems: ['a SELECT "INBOX" (CONDSTORE)\r\n'] },
  { state: 'auth', elems: ['a SELECT INBOX (QRESYNC (1 2 1:5 (1,3 1,3)))\r\n'] },
  { state: 'auth', elems: ['a EXAMINE Archive\r\n'] },
  { state: 'auth', elems: ['a CREATE Archive.2024\r\n'] },
  { state: 'auth', elems: ['a CREATE "F&AOQ-lder/x"\r\n'] },
  { state: 'auth', elems: ['a DELETE Archive.2024\r\n'] },
  { state: 'auth', elems: ['a RENAME Archive Old.Archive\r\n'] },
  { state: 'auth', elems: ['a SUBSCRIBE Archive\r\n'] },
  { state: 'auth', elems: ['a UNSUBSCRIBE Archive\r\n'] },
  { state: 'auth', elems: ['a LIST "" *\r\n'] },
  { state: 'auth', elems: ['a LIST "" %\r\n'] },
  { state: 'auth', elems: ['a LIST "Archive." "%.x*"\r\n'] },
  { state: 'auth', elems: ['a LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" "A*") RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))\r\n'] },
  { state: 'auth', elems: ['a LSUB "" *\r\n'] },
  { state: 'auth', elems: ['a STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ APPENDLIMIT)\r\n'] },
  { state: 'auth', elems: ['a APPEND INBOX ', lit(SIMPLE_MESSAGE), '\r\n'] },
  { state: 'auth', elems: ['a APPEND INBOX (\\Seen $Forwarded) "01-Jan-2024 10:00:00 +0000" ', lit(MULTIPART_MESSAGE, true), '\r\n'] },
  { state: 'auth', elems: ['a APPEND Archive () ', lit(SIMPLE_MESSAGE), '\r\n'] },
  { state: 'auth', elems: ['a NAMESPACE\r\n'] },
  { state: 'auth', elems: ['a ENABLE QRESYNC CONDSTORE\r\n'] },
  { state: 'auth', elems: ['a ID NIL\r\n'] },
  { state: 'auth', elems: ['a IDLE\r\n', 'DONE\r\n'] },
  { state: 'auth', elems: ['a CHECK\r\n'] },
  { state: 'auth', elems: ['a LOGOUT\r\n'] },
  // With a mailbox selected.
  { state: 'selected', elems: [`a FETCH 1:* ${FETCH_ALL_ITEMS}\r\n`] },
  { state: 'selected', elems: ['a FETCH 1 ALL\r\n'] },
  { state: 'selected', elems: ['a FETCH 1,2:3 FAST\r\n'] },
  { state: 'selected', elems: ['a FETCH * FULL\r\n'] },
  { state: 'selected', elems: ['a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n'] },
  { state: 'selected', elems: ['a FETCH 1:* (UID FLAGS) (CHANGEDSINCE 0)\r\n'] },
  { state: 'selected', elems: ['a STORE 1 +FLAGS (\\Seen $Label1)\r\n'] },
  { state: 'selected', elems: ['a STORE 1:* -FLAGS.SILENT \\Flagged \\Answered\r\n'] },
  { state: 'selected', elems: ['a UID STORE 1:* (UNCHANGEDSINCE 5) FLAGS (\\Deleted)\r\n'] },
  { state: 'selected', elems: ['a SEARCH ALL\r\n'] },
  { state: 'selected', elems: ['a SEARCH CHARSET UTF-8 OR (FROM alice SUBJECT ', lit('héllo'), ') NOT SEEN\r\n'] },
  { state: 'selected', elems: ['a UID SEARCH RETURN (MIN MAX COUNT ALL) 1:* UNDELETED SINCE 1-Jan-2020 BEFORE 1-Jan-2030 LARGER 10 SMALLER 100000\r\n'] },
  { state: 'selected', elems: ['a SEARCH HEADER X-Mailer "" BODY hi TEXT bob KEYWORD $Label1 UNKEYWORD x NEW OLD RECENT UID 1:* MODSEQ 1 SENTON 1-Jan-2024\r\n'] },
  { state: 'selected', elems: ['a SORT (REVERSE DATE SUBJECT FROM TO CC ARRIVAL SIZE) UTF-8 ALL\r\n'] },
  { state: 'selected', elems: ['a UID THREAD REFERENCES UTF-8 ALL\r\n'] },
  { state: 'selected', elems: ['a THREAD ORDEREDSUBJECT US-ASCII SUBJECT hello\r\n'] },
  { state: 'selected', elems: ['a COPY 1:* Archive\r\n'] },
  { state: 'selected', elems: ['a UID MOVE 1 Archive\r\n'] },
  { state: 'selected', elems: ['a EXPUNGE\r\n'] },
  { state: 'selected', elems: ['a UID EXPUNGE 1:*\r\n'] },
  { state: 'selected', elems: ['a IDLE\r\n', 'DONE\r\n'] },
  { state: 'selected', elems: ['a CLOSE\r\n'] },
  { state: 'selected', elems: ['a UNSELECT\r\n'] },
  { state: 'selected', elems: ['a NOOP\r\n'] },
];

/** Wire bytes of a seed (or a mutated one). */
export function serialize(elems: Elem[]): Buffer {
  const out: Buffer[] = [];
  for (const e of elems) {
    if (typeof e === 'string') out.push(Buffer.from(e, 'utf8'));
    else out.push(Buffer.from(e.marker ?? `{${e.lit.length}${e.nonSync ? '+' : ''}}\r\n`, 'utf8'), e.lit);
  }
  return Buffer.concat(out);
}

/** A message whose To: holds `n` addresses, half of them in groups (Dovecot CVE-2024-23184). */
export function manyAddressMessage(n: number): string {
  const addrs: string[] = [];
  for (let i = 0; i < n; i++) addrs.push(i % 2 ? `"User ${i}" <u${i}@example.org>` : `g${i}: u${i}@example.org;`);
  return `From: a@example.org\r\nTo: ${addrs.join(',\r\n ')}\r\nCc: ${addrs.slice(0, n >> 1).join(', ')}\r\nSubject: many\r\n\r\nbody\r\n`;
}

/** A message with multipart and message/rfc822 parts nested `depth` deep (Dovecot CVE-2024-23185). */
export function deepMimeMessage(depth: number): string {
  let inner = 'Content-Type: text/plain\r\n\r\nleaf\r\n';
  for (let i = depth - 1; i >= 0; i--) {
    inner =
      i % 2
        ? `Content-Type: message/rfc822\r\n\r\nSubject: level ${i}\r\n${inner}`
        : `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${inner}\r\n--b${i}--\r\n`;
  }
  return `From: a@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${inner}`;
}

/** Many header fields (a large header block, each field parsed). */
export function manyHeadersMessage(n: number): string {
  let h = '';
  for (let i = 0; i < n; i++) h += `X-H${i}: v${i}\r\n`;
  return `From: a@example.org\r\n${h}Subject: headers\r\n\r\nbody\r\n`;
}
