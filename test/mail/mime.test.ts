import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { headerValue, parseHeader, selectHeaderFields } from '../../src/wire/header.js';
import { parseContentType, parseMime, type MimePart } from '../../src/wire/mime.js';

/** Messages are written with LF here; the functions get the CRLF form, like the server's. */
const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'));
const body = (buf: Buffer, p: MimePart): string => buf.toString('utf8', p.bodyStart, p.end);

describe('parseHeader', () => {
  it('unfolds values and keeps each field raw, including continuation lines', () => {
    const f = parseHeader(crlf('Subject: two\n  lines\nX-A:b\n\nbody'));
    assert.deepEqual(
      f.map((x) => [x.name, x.lower, x.value]),
      [
        ['Subject', 'subject', 'two  lines'],
        ['X-A', 'x-a', 'b'],
      ],
    );
    assert.equal(f[0].raw.toString(), 'Subject: two\r\n  lines\r\n');
  });

  it('skips garbage lines (no colon) with their continuations, like Dovecot', () => {
    const f = parseHeader(crlf('From: a@b\ngarbage line\n more garbage\nTo: c@d\n\n'));
    assert.deepEqual(
      f.map((x) => x.name),
      ['From', 'To'],
    );
  });

  it('accepts a header that ends at EOF without a blank line', () => {
    const f = parseHeader(Buffer.from('From: a@b\r\nSubject: last'));
    assert.equal(headerValue(f, 'SUBJECT'), 'last');
    assert.equal(headerValue(f, 'cc'), null);
  });

  it('selects HEADER.FIELDS in original order and ends with the blank line', () => {
    const f = parseHeader(crlf('From: a@b\nTo: c@d\nSubject: s\n\n'));
    assert.equal(selectHeaderFields(f, ['subject', 'FROM'], false).toString(), 'From: a@b\r\nSubject: s\r\n\r\n');
    assert.equal(selectHeaderFields(f, ['subject', 'FROM'], true).toString(), 'To: c@d\r\n\r\n');
    assert.equal(selectHeaderFields(f, ['x'], false).toString(), '\r\n');
    // a last field cut off at EOF still gets its CRLF
    const cut = parseHeader(Buffer.from('Subject: s'));
    assert.equal(selectHeaderFields(cut, ['subject'], false).toString(), 'Subject: s\r\n\r\n');
  });
});

describe('parseContentType', () => {
  it('lower-cases type and parameter names, keeps values, joins RFC 2231 continuations', () => {
    assert.deepEqual(parseContentType('TEXT/Plain; CharSet="UTF-8"; n*0="a b"; n*1=c'), {
      type: 'text',
      subtype: 'plain',
      params: [
        ['charset', 'UTF-8'],
        ['n', 'a bc'],
      ],
    });
  });

  it('falls back to text/plain us-ascii, or message/rfc822 inside a digest', () => {
    const plain = { type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']] };
    assert.deepEqual(parseContentType(null), plain);
    assert.deepEqual(parseContentType('garbage'), plain);
    assert.deepEqual(parseContentType(null, true), { type: 'message', subtype: 'rfc822', params: [] });
  });
});

describe('parseMime', () => {
  // outer boundary "abc" is a prefix of the inner "abcd": the longest match wins
  const nested = crlf(`From: a@b
Content-Type: multipart/mixed; boundary=abc

preamble
--abc
Content-Type: message/rfc822

From: inner@x
Content-Type: multipart/alternative; boundary=abcd

--abcd
Content-Type: text/plain

inner text
--abcd
Content-Type: text/html

<p>x</p>
--abcd--
--abc
Content-Type: text/plain

two
lines
--abc--
epilogue
`);

  it('finds every part of a nested multipart with message/rfc822 inside', () => {
    const root = parseMime(nested);
    assert.equal(root.headerStart, 0);
    assert.equal(nested.toString('utf8', root.bodyStart, root.bodyStart + 8), 'preamble');
    assert.equal(root.end, nested.length);
    assert.equal(root.children.length, 2);

    const [msg, last] = root.children;
    assert.deepEqual([msg.contentType.type, msg.contentType.subtype], ['message', 'rfc822']);
    assert.equal(nested.toString('utf8', msg.headerStart, msg.bodyStart), 'Content-Type: message/rfc822\r\n\r\n');
    const inner = msg.message!;
    assert.equal(inner.headerStart, msg.bodyStart);
    assert.equal(headerValue(inner.header, 'from'), 'inner@x');
    assert.deepEqual(
      inner.children.map((p) => body(nested, p)),
      ['inner text', '<p>x</p>'],
    );
    // the CRLF that ends "--abcd--" stays in the message part (Dovecot: size 188, 13 lines)
    assert.ok(body(nested, msg).endsWith('--abcd--\r\n'));
    assert.equal(msg.end, inner.end);
    assert.equal(body(nested, last), 'two\r\nlines');
    // lines are LF counts: the CRLF before a boundary belongs to the boundary
    assert.equal(last.bodyLines, 1);
    assert.equal(inner.children[1].bodyLines, 0);
  });

  it('ends a part at EOF when the close boundary is missing', () => {
    const buf = crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\nContent-Type: text/html\n\nno close\n');
    const root = parseMime(buf);
    assert.deepEqual(
      root.children.map((p) => body(buf, p)),
      ['one', 'no close\r\n'],
    );
    assert.equal(root.children[1].end, buf.length);
  });

  it('handles a message without Content-Type, an empty body and a bare header', () => {
    const none = crlf('From: a@b\n\nhello\n');
    const p = parseMime(none);
    assert.deepEqual(p.contentType, { type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']] });
    assert.equal(body(none, p), 'hello\r\n');
    assert.equal(p.bodyLines, 1);

    const empty = crlf('Subject: empty\n\n');
    const e = parseMime(empty);
    assert.deepEqual([e.bodyStart, e.end, e.bodyLines], [empty.length, empty.length, 0]);

    const bare = Buffer.from('Subject: no blank line');
    const h = parseMime(bare);
    assert.deepEqual([h.bodyStart, h.end, h.header.length], [bare.length, bare.length, 1]);
    assert.equal(parseMime(Buffer.alloc(0)).end, 0);
  });

  it('shares line breaks with adjacent boundary lines without going negative', () => {
    // "--b" straight after a header's blank line, and a part that is only a boundary line
    const buf = crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n--b\n--b--\n');
    const [a, b] = parseMime(buf).children;
    assert.deepEqual([a.end - a.bodyStart, b.end - b.bodyStart, b.header.length], [0, 0, 0]);
  });

  it('gives digest parts message/rfc822 by default', () => {
    const buf = crlf('Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: s\n\nbody\n--d--\n');
    const [m] = parseMime(buf).children;
    assert.equal(m.contentType.subtype, 'rfc822');
    assert.equal(headerValue(m.message!.header, 'subject'), 's');
  });

  it('leaves parts deeper than maxDepth opaque', () => {
    const buf = crlf('Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\n\nSubject: s\n\nb\n--x--\n');
    const deep = parseMime(buf, 1);
    assert.equal(deep.children.length, 1);
    assert.equal(deep.children[0].message, null);
    assert.equal(body(buf, deep.children[0]), 'Subject: s\r\n\r\nb');
    assert.equal(parseMime(buf, 0).children.length, 0);
  });

  it('stays linear on a large attachment', () => {
    const b64 = Buffer.alloc(3e6, 1).toString('base64').replace(/.{76}/g, '$&\r\n');
    const buf = Buffer.from(`Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\n${b64}\r\n--x--\r\n`);
    const t = performance.now();
    const [att] = parseMime(buf).children;
    assert.equal(att.end - att.bodyStart, b64.length);
    assert.ok(performance.now() - t < 500);
  });
});
