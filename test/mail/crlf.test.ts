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
