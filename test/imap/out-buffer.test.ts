import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutBuffer } from '../../src/imap/out-buffer.js';

test('OutBuffer: chunks keep their bytes until the sink says they are written, then are reused; bytes given are copied', () => {
  const sent: Array<{ chunk: Buffer; copy: Buffer; written?: () => void }> = [];
  const out = new OutBuffer((chunk, written) => sent.push({ chunk, copy: Buffer.from(chunk), written }));
  const source = Buffer.alloc(100_000);
  const expected: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    source.fill(i);
    out.bytes(source); // the caller reuses `source` at once
    out.text(`* ${i} line\r\n`);
    expected.push(Buffer.from(source), Buffer.from(`* ${i} line\r\n`));
  }
  out.flush();
  const all = () => Buffer.concat(sent.map((s) => s.chunk));
  assert.ok(all().equals(Buffer.concat(expected)), 'what was sent is what was written, in order');
  // Nothing was called written yet: no chunk may have been reused for later bytes.
  for (const s of sent) assert.ok(s.chunk.equals(s.copy), 'a chunk in flight is not overwritten');
  // Once written, chunks go back and later output reuses them, without touching what is still in flight.
  const inFlight = sent.splice(0);
  for (const s of inFlight.slice(0, 3)) s.written?.();
  for (let i = 0; i < 20; i++) out.bytes(Buffer.alloc(100_000, 200 + i));
  out.close();
  for (const s of inFlight.slice(3)) assert.ok(s.chunk.equals(s.copy), 'chunks not yet written are untouched');
  const reused = sent.filter((s) => inFlight.slice(0, 3).some((w) => w.chunk.buffer === s.chunk.buffer));
  assert.ok(reused.length > 0, 'a written chunk is reused');
  assert.ok(Buffer.concat(sent.map((s) => s.chunk)).equals(Buffer.concat(Array.from({ length: 20 }, (_, i) => Buffer.alloc(100_000, 200 + i)))));
});
