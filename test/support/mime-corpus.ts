// The corpus of tricky MIME messages that mime-differential.test.ts checks
// against Dovecot, shared with the streaming body matcher's differential test
// (test/mail/body-match.test.ts).
// ---------------------------------------------------------------------------
// The corpus. LF line endings unless a case says otherwise (Postfix writes LF).
// Every message carries X-Corpus so the two servers' sequence numbers can be
// checked to name the same message.

export const CORPUS: Array<[string, string | Buffer]> = [];
const add = (name: string, text: string | Buffer) => CORPUS.push([name, text]);

add(
  'nested-mixed-alternative-related',
  `X-Corpus: nested-mixed-alternative-related
From: Ann <ann@example.org>
To: bob@example.org
Subject: nested parts
Date: Mon, 02 Jan 2023 10:00:00 +0100
Message-ID: <nested@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary=alt

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Hello =C3=A9 needle plain
--alt
Content-Type: multipart/related; boundary="rel"; type="text/html"

--rel
Content-Type: text/html; charset=utf-8

<p>Hello <img src="cid:img1@x"></p>
--rel
Content-Type: image/png; name="dot.png"
Content-Transfer-Encoding: base64
Content-ID: <img1@x>
Content-Description: a dot
Content-Disposition: inline; filename="dot.png"

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9
awAAAABJRU5ErkJggg==
--rel--
--alt--
--outer
Content-Type: application/pdf; name=report.pdf
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename=report.pdf; size=12
Content-Language: en, de (Deutsch)
Content-Location: http://example.org/report.pdf
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

JVBERi0xLjQKJcOkw7w=
--outer--
`,
);

add(
  'rfc822-with-multipart',
  `X-Corpus: rfc822-with-multipart
From: Forwarder <fwd@example.org>
To: bob@example.org
Subject: Fwd: inner
Date: Tue, 03 Jan 2023 11:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwd-b"

preamble text that clients ignore
--fwd-b
Content-Type: text/plain

See the attached message.
--fwd-b
Content-Type: message/rfc822
Content-Disposition: attachment; filename="inner.eml"

From: "Inner, Sender" <inner@example.net>
To: Team: a@example.net, b@example.net;
Subject: =?utf-8?q?inner_subject_=E2=9C=93?=
Date: Mon, 2 Jan 2023 09:00:00 -0500
Message-ID: <inner@example.net>
In-Reply-To: <older@example.net>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="inner-b"

--inner-b
Content-Type: text/plain; charset=us-ascii

inner plain haystack
--inner-b
Content-Type: text/html

<b>inner html</b>
--inner-b--
--fwd-b--
epilogue text
`,
);

const innerMessage = 'From: based@example.org\nSubject: encoded inside\nContent-Type: text/plain\n\nbase64 wrapped needle\n';
add(
  'rfc822-base64',
  `X-Corpus: rfc822-base64
From: enc@example.org
Subject: message/rfc822 in base64
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b64

--b64
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

${Buffer.from(innerMessage).toString('base64').replace(/(.{76})/g, '$1\n')}
--b64--
`,
);

add(
  'rfc822-top-level',
  `X-Corpus: rfc822-top-level
From: top@example.org
Subject: the whole body is a message
MIME-Version: 1.0
Content-Type: message/rfc822

From: deeper@example.org
Subject: level two
Content-Type: message/rfc822

From: deepest@example.org
Subject: level three
Content-Type: image/gif
Content-Transfer-Encoding: base64

R0lGODlhAQABAAAAACw=
`,
);

add(
  'missing-content-type',
  `X-Corpus: missing-content-type
From: plain@example.org
To: bob@example.org
Subject: no content type
MIME-Version: 1.0

Just text, the default text/plain; charset=us-ascii applies.
`,
);

add(
  'garbage-content-type',
  `X-Corpus: garbage-content-type
From: odd@example.org
Subject: garbage content type
Content-Type: garbage
Content-Transfer-Encoding: 8BIT

body of a garbage type
`,
);

add(
  'odd-content-types-in-parts',
  `X-Corpus: odd-content-types-in-parts
From: odd@example.org
Subject: odd types in parts
MIME-Version: 1.0
Content-Type: MULTIPART/Mixed; Boundary="odd"; (a comment) charset=ignored

--odd
Content-Type: text/

text slash nothing
--odd
Content-Type: /plain

slash plain
--odd
Content-Type: TEXT/HTML; CHARSET="ISO-8859-1"; (comment) Format=Flowed

<i>upper case</i>
--odd
Content-Type: text/plain; charset

parameter without a value
--odd
Content-Type: text/plain;; charset=utf-8; ; delsp=yes

double semicolons
--odd
Content-Type: application/octet-stream; name="unterminated

unterminated quote
--odd
Content-Type: "text/plain"

quoted type
--odd
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: x-uuencode (comment)
Content-Disposition: attachment

unknown encoding
--odd
Content-Type: text/plain ; charset = "a \\"quoted\\" value"

spaces around the equals sign
--odd--
`,
);

add(
  'rfc2231',
  `X-Corpus: rfc2231
From: params@example.org
Subject: RFC 2231 parameters
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="p"

--p
Content-Type: application/pdf; name*=iso-8859-1'en'%A3%20rates.pdf
Content-Disposition: attachment; filename*0*=utf-8''%E2%82%AC%20rates; filename*1=".pdf"

%PDF
--p
Content-Type: text/plain; title*0="part one "; title*1="part two"; charset=us-ascii
Content-Disposition: inline; x*1=b; x*0=a; y*0=only; y*2=gap

continued, unordered, with a gap
--p
Content-Type: text/plain; charset*=us-ascii'en-us'utf-8; Name*0*=%41; NAME*1*=%42

mixed case names
--p--
`,
);

add(
  'rfc2231-mixed-extended',
  `X-Corpus: rfc2231-mixed-extended
From: params@example.org
Subject: a continued parameter whose first segment is not extended
Content-Type: text/plain; charset=us-ascii; z*0="a b%"; z*1*=%41

joined into one extended value
`,
);

add(
  'encoded-words',
  `X-Corpus: encoded-words
From: =?UTF-8?Q?Andr=C3=A9_Pirard?= <PIRARD@vm1.ulg.ac.be>
To: "=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=" <keld@dkuug.dk>, =?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>
Cc: =?ISO-8859-1?Q?Olle_J=E4rnefors?= <ojarnef@admin.kth.se>, "Grüße Müller" <mueller@example.de>
Subject: =?UTF-8?B?w6ljaGVj?= =?ISO-8859-1?Q?_caf=E9?= and   plain	tab
Date: Wed, 04 Jan 2023 12:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße aus Zürich.
`,
);

add(
  'addresses',
  `X-Corpus: addresses
From: joe@example.org (Joe Bloggs)
Sender:
Reply-To: <>
To: undisclosed-recipients:;
Cc: Friends: a@x.example, "B" <b@y.example>;, c@z.example, , d@w.example
Bcc: "quoted local"@example.org, <@route1,@route2:user@host.example>, user, @nodomain, Undisclosed <>
Subject: groups and broken addresses
Date: Thu, 05 Jan 2023 13:00:00 +0000
In-Reply-To: <a@b> <c@d>
Message-ID: not an angle id

address soup
`,
);

add(
  'no-fields',
  `X-Corpus: no-fields
X-Other: nothing a client would show

no from, to, subject, date or message-id
`,
);

add(
  'bare-lf-in-crlf',
  'X-Corpus: bare-lf-in-crlf\r\nFrom: mixed@example.org\r\nSubject: bare LF\r\nX-Bare: yes\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nline one\nline two\r\n--m\nContent-Type: text/plain\n\nlf part\r\n--m--\r\n',
);

add(
  'crlf-only',
  'X-Corpus: crlf-only\r\nFrom: crlf@example.org\r\nTo: bob@example.org\r\nSubject: CRLF throughout\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\nContent-Type: text/plain\r\n\r\nplain\r\n--c\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--c--\r\n',
);

add('empty-body', 'X-Corpus: empty-body\nFrom: empty@example.org\nSubject: empty body\n\n');

add('header-only-no-blank-line', 'X-Corpus: header-only-no-blank-line\nFrom: nobody@example.org\nSubject: header only\n');

add('header-only-no-final-newline', 'X-Corpus: header-only-no-final-newline\nFrom: nobody@example.org\nSubject: cut off');

add(
  'preamble-epilogue',
  `X-Corpus: preamble-epilogue
From: pe@example.org
Subject: preamble and epilogue
Content-Type: multipart/mixed; boundary="pe"

This is the preamble.
It has two lines.

--pe
Content-Type: text/plain

first

--pe
Content-Type: text/plain

second
--pe--

This is the epilogue.
--pe
not a part: after the close delimiter
`,
);

add(
  'unclosed-boundary',
  `X-Corpus: unclosed-boundary
From: unclosed@example.org
Subject: boundary never closes
Content-Type: multipart/mixed; boundary=u

--u
Content-Type: text/plain

one
--u
Content-Type: multipart/alternative; boundary=u2

--u2
Content-Type: text/plain

two, never closed
`,
);

add(
  'boundary-never-seen',
  `X-Corpus: boundary-never-seen
From: unseen@example.org
Subject: no delimiter at all
Content-Type: multipart/mixed; boundary=missing

only a preamble here
`,
);

add(
  'multipart-without-boundary',
  `X-Corpus: multipart-without-boundary
From: nob@example.org
Subject: multipart with no boundary parameter
Content-Type: multipart/mixed

--x
Content-Type: text/plain

hmm
`,
);

add(
  'boundary-prefixes',
  `X-Corpus: boundary-prefixes
From: prefix@example.org
Subject: nested boundaries that are prefixes
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: multipart/alternative; boundary="b-inner"

--b-inner
Content-Type: text/plain

inner one
--b-inner
Content-Type: text/plain

inner two
--b
Content-Type: text/plain

outer two (the inner never closed)
--b--
`,
);

add(
  'part-header-cut-off',
  'X-Corpus: part-header-cut-off\nFrom: cut@example.org\nSubject: a part header ended by a boundary\nContent-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: text/plain\nX-Note: no blank line follows\n--c\n\nsecond\n--c--\n',
);

add(
  'digest',
  `X-Corpus: digest
From: list@example.org
Subject: digest
MIME-Version: 1.0
Content-Type: multipart/digest; boundary="d"

--d

From: one@example.org
Subject: digest one

first digest message
--d

From: two@example.org
Subject: digest two
Content-Type: multipart/alternative; boundary="d2"

--d2
Content-Type: text/plain

two plain
--d2--

--d
Content-Type: text/plain

an explicit text part in a digest
--d
Content-Type: multipart/mixed; boundary="d3"

--d3

a child of mixed inside a digest: text/plain by default
--d3--
--d--
`,
);

const many = Array.from({ length: 40 }, (_, i) => `"Person ${i}" <p${i}@example.org>`).join(',\n\t');
add(
  'long-folded-headers',
  `X-Corpus: long-folded-headers
From: long@example.org
To: ${many}
Subject: ${Array.from({ length: 30 }, (_, i) => `word${i}`).join('\n  ')}
References: ${Array.from({ length: 60 }, (_, i) => `<ref${i}.${'x'.repeat(20)}@example.org>`).join('\n ')}
X-Long: ${'y'.repeat(2500)}
Content-Type: text/plain;
 charset="utf-8";
\tformat=flowed;
    delsp=no
Content-Disposition:
 attachment;
 filename="folded.txt"

long headers
`,
);

add(
  'duplicate-fields',
  `X-Corpus: duplicate-fields
From: first@example.org
From: second@example.org
To: a@example.org
To: b@example.org
Subject: first subject
Subject: second subject
Date: Fri, 06 Jan 2023 14:00:00 +0000
Date: Sat, 07 Jan 2023 15:00:00 +0000
Content-Type: text/html
Content-Type: text/plain; charset=iso-8859-1

which one wins
`,
);

add(
  'headers-odd-syntax',
  `X-Corpus: headers-odd-syntax
From : spaced@example.org
subject:no space after colon
 continued
this line has no colon
 and a continuation
CONTENT-TYPE: Text/Plain; Charset=UTF-8
content-transfer-encoding: BASE64

SGVsbG8sIGJhc2U2NCBuZWVkbGUK
`,
);

add(
  'eight-bit-headers',
  Buffer.concat([
    Buffer.from('X-Corpus: eight-bit-headers\nFrom: '),
    Buffer.from('Jürgen Weiß <juergen@example.de>', 'utf8'),
    Buffer.from('\nSubject: '),
    Buffer.from('Latin-1 caf\xe9 raw', 'latin1'),
    Buffer.from('\nContent-Type: text/plain; name="'),
    Buffer.from('naïve.txt', 'utf8'),
    Buffer.from('"\n\nbody\n'),
  ]),
);


// Past Dovecot's nesting limit (100 levels, CVE-2020-12100): multipart and
// message/rfc822 alternating, 104 deep; the deepest levels are one opaque body.
{
  let inner = 'Content-Type: text/plain\n\nleaf text\n';
  for (let i = 103; i >= 0; i--) inner = i % 2 ? `Content-Type: message/rfc822\n\nSubject: level ${i}\n${inner}` : `Content-Type: multipart/mixed; boundary="n${i}x"\n\n--n${i}x\n${inner}\n--n${i}x--\n`;
  add('nesting-past-the-limit', `X-Corpus: nesting-past-the-limit\nFrom: deep@example.org\nSubject: deep\nMIME-Version: 1.0\n${inner}`);
}

// The same with multiparts only: the part at the limit is a multipart left unopened.
{
  let inner = 'Content-Type: text/plain\n\nleaf text\n';
  for (let i = 103; i >= 0; i--) inner = `Content-Type: multipart/mixed; boundary="m${i}x"\n\n--m${i}x\n${inner}\n--m${i}x--\n`;
  add('multipart-nesting-past-the-limit', `X-Corpus: multipart-nesting-past-the-limit\nFrom: deep@example.org\nSubject: deep\nMIME-Version: 1.0\n${inner}`);
}
