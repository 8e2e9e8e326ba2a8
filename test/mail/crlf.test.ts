import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toCrlf, bareLfCount } from '../../src/mail/crlf.js';

/** The obvious definition: every LF not preceded by CR gets one. */
function reference(buf: Buffer, prevCR: boolean): Buffer {
  const s = (prevCR ? '\r' : 'x') + buf.toString('latin1');
  return Buffer.from(s.replace(/(?<!\r)\n/g, '\r\n').slice(1), 'latin1');
}

test('toCrlf matches the definition on random mixes of CR, LF and text, at any chunk start', () => {
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let n = 0; n < 2000; n++) {
    const len = Math.floor(rnd() * 40);
    const buf = Buffer.from(Array.from({ length: len }, () => [10, 13, 97, 0xc3][Math.floor(rnd() * 4)]));
    for (const prevCR of [false, true]) {
      const want = reference(buf, prevCR);
      assert.deepEqual(toCrlf(buf, prevCR), want, `${buf.toString('hex')} prevCR=${prevCR}`);
      assert.equal(buf.length + bareLfCount(buf, prevCR), want.length);
    }
  }
});

test('toCrlf matches the definition on whole messages: long and short lines, thousands of them, LF and CRLF mixed', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (const lines of [1, 30, 5000, 12000]) {
    const parts: string[] = [];
    for (let l = 0; l < lines; l++) parts.push('y'.repeat(Math.floor(rnd() * 200)) + (rnd() < 0.2 ? '\r\n' : rnd() < 0.1 ? '\r' : '\n'));
    const buf = Buffer.from(parts.join('') + 'tail', 'latin1');
    for (const prevCR of [false, true]) assert.ok(toCrlf(buf, prevCR).equals(reference(buf, prevCR)), `${lines} lines, prevCR=${prevCR}`);
  }
});
