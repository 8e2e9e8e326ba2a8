// The sync benchmark's corpus generator: deterministic, and every message parses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { generateMessage, MARKER } from './corpus.js';

describe('bench corpus', () => {
  const N = 200;
  it('gives identical bytes and names for the same seed, different ones for another', () => {
    for (let i = 0; i < N; i++) {
      const a = generateMessage(7, i, N);
      const b = generateMessage(7, i, N);
      assert.equal(a.name, b.name);
      assert.ok(a.content.equals(b.content), `message ${i} differs`);
    }
    assert.ok(!generateMessage(8, 5, N).content.equals(generateMessage(7, 5, N).content));
  });

  it('writes Postfix-like names and LF-only messages that mailparser reads', async () => {
    const kinds = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const g = generateMessage(7, i, 100);
      assert.match(g.name, /^\d{10}\.Vfe01I[0-9a-f]+M\d+\.vm:2,F?R?S?$/);
      assert.equal(g.content.includes('\r'), false, `message ${i} has a CR`);
      const text = g.content.toString('latin1');
      assert.equal(new RegExp(MARKER, 'i').test(text.replace(/=\n/g, '')), g.marker, `marker in message ${i}`);
      const m = await simpleParser(g.content);
      assert.ok(m.messageId && m.date && m.from && m.subject !== undefined, `message ${i} lacks basic headers`);
      kinds.add(g.kind);
      if (g.kind === 'mixed') assert.ok(m.attachments.length >= 1, `message ${i} has no attachment`);
      if (g.kind === 'alternative') assert.ok(m.html && m.text, `message ${i} lacks html or text`);
    }
    assert.deepEqual([...kinds].sort(), ['alternative', 'mixed', 'plain']);
  });
});
