import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSectionSpec } from '../../src/imap/fetch/items.js';
import { findPart, sectionData } from '../../src/imap/fetch/section.js';
import { parseMime } from '../../src/wire/mime.js';

test('section specs', () => {
  assert.deepEqual(parseSectionSpec(''), { part: [], text: '', fields: [] });
  assert.deepEqual(parseSectionSpec('1.2.MIME'), { part: [1, 2], text: 'MIME', fields: [] });
  assert.deepEqual(parseSectionSpec('HEADER.FIELDS (From "To")'), { part: [], text: 'HEADER.FIELDS', fields: ['From', 'To'] });
  assert.deepEqual(parseSectionSpec('3.header.fields.not (X-A)'), { part: [3], text: 'HEADER.FIELDS.NOT', fields: ['X-A'] });
  for (const bad of ['MIME', '0', '1.', 'FOO', '1HEADER', 'HEADER.FIELDS ()']) assert.throws(() => parseSectionSpec(bad), /FETCH/, bad);
});

const NESTED = [
  'Content-Type: multipart/mixed; boundary=o',
  '',
  '--o',
  'Content-Type: text/plain',
  '',
  'first',
  '--o',
  'Content-Type: message/rfc822',
  '',
  'Subject: inner',
  'Content-Type: multipart/alternative; boundary=i',
  '',
  '--i',
  '',
  'inner one',
  '--i',
  'Content-Type: text/html',
  '',
  '<p>two</p>',
  '--i--',
  '--o--',
  '',
].join('\r\n');

test('part numbers: multipart children, message/rfc822 numbering, single-part body as part 1', () => {
  const buf = Buffer.from(NESTED);
  const root = parseMime(buf);
  const text = (nums: number[], t: '' | 'MIME' | 'HEADER' | 'TEXT' = '') => {
    const d = sectionData({ kind: 'section', peek: true, part: nums, text: t, fields: [], partial: null, label: '' }, root, buf.length);
    return 'bytes' in d ? d.bytes.toString() : buf.subarray(d.range[0], d.range[1]).toString();
  };
  assert.equal(text([1]), 'first');
  assert.equal(text([2, 1]), 'inner one');
  assert.equal(text([2, 2]), '<p>two</p>');
  assert.equal(text([2, 2], 'MIME'), 'Content-Type: text/html\r\n\r\n');
  assert.equal(text([2], 'HEADER'), 'Subject: inner\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n');
  assert.equal(findPart(root, [3]), null);
  assert.equal(text([9]), '');
  const single = parseMime(Buffer.from('Subject: x\r\n\r\nbody\r\n'));
  assert.equal(findPart(single, [1]), single);
  assert.equal(findPart(single, [2]), null);
});
