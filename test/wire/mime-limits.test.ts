// The bounds on what one message costs to parse (issue 13 F): MIME nesting and
// part count as Dovecot 2.3 bounds them since CVE-2020-12100, and the number
// of addresses per ENVELOPE field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMime, MAX_MIME_DEPTH, MAX_MIME_PARTS, type MimePart } from '../../src/wire/mime.js';
import { envelope, parseAddressList, MAX_ENVELOPE_ADDRESSES } from '../../src/wire/envelope.js';
import { parseHeader } from '../../src/wire/header.js';
import { bodystructure } from '../../src/wire/bodystructure.js';
import { encodeToString } from '../../src/wire/encoder.js';

const buf = (s: string) => Buffer.from(s, 'latin1');

function count(p: MimePart): number {
  let n = 1;
  for (const c of p.children) n += count(c);
  if (p.message) n += count(p.message);
  return n;
}

function depthOf(p: MimePart): number {
  let d = 0;
  for (const c of p.children) d = Math.max(d, 1 + depthOf(c));
  if (p.message) d = Math.max(d, 1 + depthOf(p.message));
  return d;
}

function lastLeaf(p: MimePart): MimePart {
  if (p.message) return lastLeaf(p.message);
  return p.children.length > 0 ? lastLeaf(p.children[p.children.length - 1]) : p;
}

/** Dovecot's own test-message-parser case, with the limit small. */
test('past the part limit no boundary counts: the part being read and its ancestors run to EOF', () => {
  const msg = buf(
    'Content-Type: multipart/mixed; boundary="1"\r\n\r\n--1\r\nContent-Type: multipart/mixed; boundary="2"\r\n\r\n--2\r\nContent-Type: text/plain\r\n\r\n1\r\n--2\r\nContent-Type: text/plain\r\n\r\n22\r\n--1\r\nContent-Type: text/plain\r\n\r\n333\r\n',
  );
  const root = parseMime(msg, MAX_MIME_DEPTH, 4);
  assert.equal(count(root), 4);
  assert.equal(root.children.length, 1);
  const inner = root.children[0];
  assert.equal(inner.children.length, 2);
  const last = inner.children[1];
  assert.equal(msg.subarray(last.bodyStart, last.end).toString(), '22\r\n--1\r\nContent-Type: text/plain\r\n\r\n333\r\n');
  assert.equal(last.end, msg.length);
  assert.equal(inner.end, msg.length);
  assert.equal(root.end, msg.length);
  // Without the limit, the same message has 5 parts.
  assert.equal(count(parseMime(msg)), 5);
});

test(`${MAX_MIME_PARTS} parts at most; the rest is the body of the last one, never lost`, () => {
  const n = MAX_MIME_PARTS + 500;
  const msg = buf(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${'--b\r\nContent-Type: text/plain\r\n\r\nx\r\n'.repeat(n)}--b--\r\n`);
  const root = parseMime(msg);
  assert.equal(count(root), MAX_MIME_PARTS);
  assert.equal(root.children.length, MAX_MIME_PARTS - 1);
  const last = root.children[root.children.length - 1];
  assert.equal(last.end, msg.length);
  assert.equal(root.end, msg.length);
  assert.equal((msg.subarray(last.bodyStart).toString().match(/--b\r\n/g) ?? []).length, n - (MAX_MIME_PARTS - 1));
  // The limit's last part is read to EOF (as in Dovecot, not even a close delimiter counts then); one part fewer is parsed in full.
  const fits = buf(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${'--b\r\nContent-Type: text/plain\r\n\r\nx\r\n'.repeat(MAX_MIME_PARTS - 2)}--b--\r\n`);
  const all = parseMime(fits);
  assert.equal(count(all), MAX_MIME_PARTS - 1);
  const lastFit = all.children[all.children.length - 1];
  assert.equal(fits.subarray(lastFit.bodyStart, lastFit.end).toString(), 'x');
});

test(`nesting stops at ${MAX_MIME_DEPTH + 1} levels: deeper is the opaque body of the last level, outer boundaries still end it`, () => {
  const levels = 150;
  let inner = 'Content-Type: text/plain\r\n\r\nleaf\r\n';
  for (let i = levels - 1; i >= 0; i--) inner = `Content-Type: multipart/mixed; boundary="b${i}x"\r\n\r\n--b${i}x\r\n${inner}\r\n--b${i}x--\r\n`; // no boundary a prefix of another
  const msg = buf(`Subject: deep\r\n${inner}`);
  const root = parseMime(msg);
  assert.equal(depthOf(root), MAX_MIME_DEPTH);
  const leaf = lastLeaf(root);
  assert.equal(leaf.contentType.type, 'multipart', 'the last level is a multipart left unopened');
  assert.equal(leaf.children.length, 0);
  assert.ok(leaf.unopened);
  // Sent as Dovecot sends it: application/octet-stream with the parameters as written.
  assert.match(encodeToString(bodystructure(leaf, true)), /^\("application" "octet-stream" \("boundary" "b99x"\) NIL NIL "7bit" \d+ NIL NIL NIL NIL\)$/);
  assert.ok(msg.subarray(leaf.bodyStart, leaf.end).toString().includes('leaf'), 'the deeper levels are its body');
  assert.ok(leaf.end < msg.length, 'its parent\'s boundary ends it');
  // Rendered, BODYSTRUCTURE nests no deeper than the limit.
  let d = 0, worst = 0;
  for (const ch of encodeToString(bodystructure(root, true))) {
    if (ch === '(') worst = Math.max(worst, ++d);
    else if (ch === ')') d--;
  }
  assert.ok(worst <= MAX_MIME_DEPTH + 3, `nested ${worst}`);
  // Ordinary nesting is untouched.
  assert.equal(depthOf(parseMime(msg, 1000, 1000)), levels);
});

test(`ENVELOPE lists at most ${MAX_ENVELOPE_ADDRESSES} addresses per field, over all its lines; a group cut off is closed`, () => {
  const many = Array.from({ length: 3000 }, (_, i) => `u${i}@example.org`).join(', ');
  const env = envelope(parseHeader(buf(`To: ${many}\r\nCc: a@x.org\r\n${'Bcc: b@y.org\r\n'.repeat(2000)}\r\n`))) as unknown[];
  const addrs = (v: unknown) => (encodeToString(v as never).match(/\("?[^()]*?\)/g) ?? []).length;
  assert.equal(addrs(env[5]), MAX_ENVELOPE_ADDRESSES);
  assert.equal(addrs(env[6]), 1);
  assert.equal(addrs(env[7]), MAX_ENVELOPE_ADDRESSES);
  assert.match(encodeToString(env[5] as never), /^\(\(NIL NIL "u0" "example.org"\)/);
  // The limit lands inside a group: its end marker still comes.
  const g = parseAddressList('a@x.org, team: b@x.org, c@x.org, d@x.org;, e@x.org', 3);
  assert.deepEqual(g.map((a) => [a.mailbox, a.host]), [['a', 'x.org'], ['team', null], ['b', 'x.org'], [null, null]]);
  assert.equal(parseAddressList('a@x.org, team: b@x.org, c@x.org, d@x.org;, e@x.org').length, 7, 'no limit by default');
});
