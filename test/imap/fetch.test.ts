// ENVELOPE / BODY / BODYSTRUCTURE. Every expected string below is what
// Dovecot 2.3.19 sent for the same message (the transcript in
// /work/shared/fixtures/dovecot-transcript.txt, or a private Dovecot run on
// the same source), except where a comment says otherwise.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseHeader } from '../../src/wire/header.js';
import { parseMime } from '../../src/wire/mime.js';
import { encodeToString } from '../../src/wire/encoder.js';
import { envelope, parseAddressList } from '../../src/wire/envelope.js';
import { bodystructure } from '../../src/wire/bodystructure.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'));
const env = (src: string): string => encodeToString(envelope(parseMime(crlf(src)).header));
const bs = (src: string, extended = true): string => encodeToString(bodystructure(parseMime(crlf(src)), extended));
/** ENVELOPE of a message that has only the given header lines. */
const envOf = (headers: string): string => env(headers + '\n\nbody\n');

// The three messages of the transcript, as tools/tb_transcript.py sent them
// (Postfix removed M3's Bcc line before delivery; its added trace fields do not matter here).
const M1 = `From: Carol Example <carol@example.org>
To: Bob <bob@localdomain>
Subject: Plain hello
Date: Mon, 02 Mar 2026 09:15:00 +0100
Message-ID: <m1.plain@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Hi Bob,

just a plain text message.

-- 
Carol
`;

const M2 = `From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.net>
To: Bob <bob@localdomain>, alice@localdomain
Cc: Carol Example <carol@example.org>
Subject: =?UTF-8?Q?Re:_Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=
Date: Tue, 03 Mar 2026 18:02:33 +0100
Message-ID: <m2.reply@example.net>
In-Reply-To: <m1.plain@example.org>
References: <m0.root@example.org> <m1.plain@example.org>
X-Priority: 1 (Highest)
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe!
`;

const M3 = `From: Dave Sender <dave@example.com>
To: Bob <bob@localdomain>
Cc: team@example.com
Reply-To: Dave Replies <replies@example.com>
Subject: Quarterly report (with attachment)
Date: Wed, 04 Mar 2026 07:30:00 -0500
Message-ID: <m3.mixed@example.com>
References: <m1.plain@example.org>
Priority: urgent
X-Priority: 2
X-Mailer: handmade
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer-XYZ"

This is a multi-part message in MIME format.
--outer-XYZ
Content-Type: multipart/alternative; boundary="inner-ABC"

--inner-ABC
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Hello Bob,
the report is attached.
--inner-ABC
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<html><body><p>Hello Bob,<br>the report is <b>attached</b>.</p></body></html>
--inner-ABC--

--outer-XYZ
Content-Type: text/csv; name="q1.csv"
Content-Disposition: attachment; filename="q1.csv"
Content-Transfer-Encoding: base64

cXVhcnRlcixyZXZlbnVlClExLDEwMApRMiwxMjAK
--outer-XYZ--
`;

describe('Dovecot transcript messages', () => {
  it('message 1: plain text', () => {
    assert.equal(
      env(M1),
      '("Mon, 02 Mar 2026 09:15:00 +0100" "Plain hello" (("Carol Example" NIL "carol" "example.org")) (("Carol Example" NIL "carol" "example.org")) (("Carol Example" NIL "carol" "example.org")) (("Bob" NIL "bob" "localdomain")) NIL NIL NIL "<m1.plain@example.org>")',
    );
    assert.equal(bs(M1), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 53 6 NIL NIL NIL NIL)');
  });

  it('message 2: encoded words stay raw, address lists have no SP between addresses', () => {
    assert.equal(
      env(M2),
      '("Tue, 03 Mar 2026 18:02:33 +0100" "=?UTF-8?Q?Re:_Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=" (("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=" NIL "juergen" "example.net")) (("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=" NIL "juergen" "example.net")) (("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=" NIL "juergen" "example.net")) (("Bob" NIL "bob" "localdomain")(NIL NIL "alice" "localdomain")) (("Carol Example" NIL "carol" "example.org")) NIL "<m1.plain@example.org>" "<m2.reply@example.net>")',
    );
    assert.equal(
      bs(M2),
      '("text" "plain" ("charset" "UTF-8" "format" "flowed") NIL NIL "quoted-printable" 18 1 NIL NIL NIL NIL)',
    );
  });

  it('message 3: nested multipart with an attachment', () => {
    assert.equal(
      env(M3),
      '("Wed, 04 Mar 2026 07:30:00 -0500" "Quarterly report (with attachment)" (("Dave Sender" NIL "dave" "example.com")) (("Dave Sender" NIL "dave" "example.com")) (("Dave Replies" NIL "replies" "example.com")) (("Bob" NIL "bob" "localdomain")) ((NIL NIL "team" "example.com")) NIL NIL "<m3.mixed@example.com>")',
    );
    // 35 bytes / 1 line and 77 / 0: the CRLF before a boundary is not counted
    assert.equal(
      bs(M3),
      '((("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 35 1 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "7bit" 77 0 NIL NIL NIL NIL) "alternative" ("boundary" "inner-ABC") NIL NIL NIL)("text" "csv" ("name" "q1.csv" "charset" "us-ascii") NIL NIL "base64" 40 0 NIL ("attachment" ("filename" "q1.csv")) NIL NIL) "mixed" ("boundary" "outer-XYZ") NIL NIL NIL)',
    );
    assert.equal(
      bs(M3, false),
      '((("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 35 1)("text" "html" ("charset" "utf-8") NIL NIL "7bit" 77 0) "alternative")("text" "csv" ("name" "q1.csv" "charset" "us-ascii") NIL NIL "base64" 40 0) "mixed")',
    );
  });
});

describe('ENVELOPE', () => {
  it('sends NIL for missing fields, "" for empty ones, and defaults sender/reply-to to from', () => {
    assert.equal(envOf('X-Other: 1'), '(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
    // an empty Reply-To is no address list, so it falls back to From too
    assert.equal(envOf('Subject:\nIn-Reply-To:\nFrom: a@b\nReply-To: '), '(NIL "" ((NIL NIL "a" "b")) ((NIL NIL "a" "b")) ((NIL NIL "a" "b")) NIL NIL NIL "" NIL)');
  });

  it('collapses whitespace in subjects but sends dates and ids as written', () => {
    assert.equal(
      envOf('Subject: two\n  lines\nDate: Thu,\n      13 Feb\nMessage-ID:   <id@x>  \nIn-Reply-To: <a@b> (c)'),
      '("Thu,      13 Feb" "two lines" NIL NIL NIL NIL NIL NIL "<a@b> (c)" "<id@x>  ")',
    );
  });

  it('uses the last Subject but joins repeated address fields', () => {
    assert.equal(
      envOf('From: a@b\nFrom: c@d\nSubject: first\nSubject: second'),
      '(NIL "second" ((NIL NIL "a" "b")(NIL NIL "c" "d")) ((NIL NIL "a" "b")(NIL NIL "c" "d")) ((NIL NIL "a" "b")(NIL NIL "c" "d")) NIL NIL NIL NIL NIL)',
    );
  });

  it('writes groups as start and end markers', () => {
    assert.equal(
      envOf('To: A Group:Ed Jones <c@a.test>,joe@where.test;, undisclosed-recipients:;\nFrom: g1: a@b, c@d ; , e@f'),
      '(NIL NIL ((NIL NIL "g1" NIL)(NIL NIL "a" "b")(NIL NIL "c" "d")(NIL NIL NIL NIL)(NIL NIL "e" "f")) ((NIL NIL "g1" NIL)(NIL NIL "a" "b")(NIL NIL "c" "d")(NIL NIL NIL NIL)(NIL NIL "e" "f")) ((NIL NIL "g1" NIL)(NIL NIL "a" "b")(NIL NIL "c" "d")(NIL NIL NIL NIL)(NIL NIL "e" "f")) ((NIL NIL "A Group" NIL)("Ed Jones" NIL "c" "a.test")(NIL NIL "joe" "where.test")(NIL NIL NIL NIL)(NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)',
    );
  });

  it('unquotes display names and local parts, routes, comments and domain literals', () => {
    const list = (v: string): string => encodeToString(parseAddressList(v).map((a) => [a.name, a.route, a.mailbox, a.host]));
    // Dovecot sends `Joe "Q" Public` as a literal; the quoted form here is the same string
    assert.equal(list('"Joe \\"Q\\" Public" <joe@ex.com>'), '(("Joe \\"Q\\" Public" NIL "joe" "ex.com"))');
    assert.equal(list('"quoted local"@ex.com, x@[1.2.3.4]'), '((NIL NIL "quoted local" "ex.com") (NIL NIL "x" "[1.2.3.4]"))');
    assert.equal(list('Mary Smith <@route1,@route2:mary@x.test>'), '(("Mary Smith" "@route1,@route2" "mary" "x.test"))');
    // without a display name the last comment names the address; otherwise comments are dropped
    assert.equal(list('(c) plain@ex.com (trail)'), '(("trail" NIL "plain" "ex.com"))');
    assert.equal(list('Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>'), '(("Pete" NIL "pete" "silly.test"))');
    assert.equal(list('A.B.C <abc@x>, "a" "b" c <d@e>'), '(("A.B.C" NIL "abc" "x") ("a b c" NIL "d" "e"))');
    assert.equal(list('"" <e@x>'), '((NIL NIL "e" "x"))');
  });

  it('keeps broken addresses with Dovecot placeholders and stops at garbage', () => {
    const list = (v: string): string => encodeToString(parseAddressList(v).map((a) => [a.name, a.route, a.mailbox, a.host]));
    assert.equal(
      list('localonly, <>, Name Only <missing>'),
      '((NIL NIL "localonly" "MISSING_DOMAIN") (NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN") ("Name Only" NIL "missing" "MISSING_DOMAIN"))',
    );
    assert.equal(list('Foo <a@b'), '(("Foo" NIL "a" "SYNTAX_ERROR"))');
    assert.equal(list('garbage <<< >>>'), '(("garbage" NIL "MISSING_MAILBOX" "SYNTAX_ERROR"))');
    assert.equal(list('a@b@c, <a@b>x'), '((NIL NIL "a" "b"))');
    assert.equal(list('"unterminated <a@b>'), '((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))');
    assert.equal(list('  '), '()');
  });
});

describe('BODYSTRUCTURE', () => {
  it('sends case as written and all single-part extension fields', () => {
    const src = `From: a@b
Content-Type: TEXT/Plain; CharSet="UTF-8"; Format=Flowed
Content-ID: <cid@x>
Content-Description: a  description
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Language: en, de
Content-Location: http://x/y
Content-Disposition: INLINE; FileName=x.txt
Content-Transfer-Encoding: Base64

aGVsbG8K
`;
    assert.equal(
      bs(src),
      '("TEXT" "Plain" ("CharSet" "UTF-8" "Format" "Flowed") "<cid@x>" "a  description" "Base64" 10 1 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("INLINE" ("FileName" "x.txt")) ("en" "de") "http://x/y")',
    );
    assert.equal(bs(src, false), '("TEXT" "Plain" ("CharSet" "UTF-8" "Format" "Flowed") "<cid@x>" "a  description" "Base64" 10 1)');
  });

  it('describes message/rfc822 and digest parts, with multipart extension data', () => {
    const src = `From: a@b
Content-Type: multipart/mixed; boundary=abc
Content-Language: fr
Content-Disposition: inline
Content-Location: loc

--abc
Content-Type: message/rfc822

From: inner@x
Subject: inner
Content-Type: multipart/alternative; boundary=abcd

--abcd
Content-Type: text/plain

inner text
--abcd
Content-Type: text/html

<p>x</p>
--abcd--
--abc
Content-Type: multipart/digest; boundary="d d"

--d d

Subject: digest1

d1 body
--d d--
--abc
Content-Type: application/octet-stream

no close
`;
    assert.equal(
      bs(src),
      '(("message" "rfc822" NIL NIL NIL "7bit" 188 (NIL "inner" ((NIL NIL "inner" "x")) ((NIL NIL "inner" "x")) ((NIL NIL "inner" "x")) NIL NIL NIL NIL NIL) (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0 NIL NIL NIL NIL)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 8 0 NIL NIL NIL NIL) "alternative" ("boundary" "abcd") NIL NIL NIL) 13 NIL NIL NIL NIL)(("message" "rfc822" NIL NIL NIL "7bit" 27 (NIL "digest1" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 7 0 NIL NIL NIL NIL) 2 NIL NIL NIL NIL) "digest" ("boundary" "d d") NIL NIL NIL)("application" "octet-stream" NIL NIL NIL "7bit" 10 NIL NIL NIL NIL) "mixed" ("boundary" "abc") ("inline" NIL) ("fr") "loc")',
    );
  });

  it('copes with broken types, RFC 2231 parameters and empty multiparts like Dovecot', () => {
    const src = `From: a@b
Content-Type: multipart/mixed; boundary=q

--q
Content-Type: garbage

x
--q
Content-Type: application/x; name*0="long"; name*1="name.bin"; flag; title*=us-ascii'en'This%20is

z
--q
Content-Type: multipart/mixed

no boundary
--q
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

RnJvbTogYUBiCgpoaQo=
--q--
`;
    // "flag" has no value: parameter parsing stops there, so title* is lost (as in Dovecot)
    assert.equal(
      bs(src),
      '(("garbage" "" NIL NIL NIL "7bit" 1 NIL NIL NIL NIL)("application" "x" ("name" "longname.bin") NIL NIL "7bit" 1 NIL NIL NIL NIL)(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "base64" 22 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) 1 NIL NIL NIL NIL) "mixed" ("boundary" "q") NIL NIL NIL)',
    );
    // extended RFC 2231 values stay %-encoded under the "name*" key, after the plain ones
    assert.equal(
      bs("From: a@b\nContent-Type: application/x; name*0*=utf-8''x%20y; name*1=z; (c) b = \"q\\\"v\" ; c=\n\nx"),
      '("application" "x" ("b" "q\\"v" "c" "" "name*" "utf-8\'\'x%20yz") NIL NIL "7bit" 1 NIL NIL NIL NIL)',
    );
  });

  it('gives an empty or header-only message an empty text/plain body', () => {
    assert.equal(bs('From: a@b\nSubject: noblank'), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)');
    assert.equal(bs('From: a@b\nContent-Type: text/plain; format=flowed\n\n'), '("text" "plain" ("format" "flowed" "charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)');
  });
});
