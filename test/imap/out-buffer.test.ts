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

test('OutBuffer: a flush hands a piece and goes on filling the same chunk; the chunk is reused only once every piece of it is written; shared bytes go as they are', () => {
  const sent: Array<{ chunk: Buffer; copy: Buffer; written?: () => void }> = [];
  const out = new OutBuffer((chunk, written) => sent.push({ chunk, copy: Buffer.from(chunk), written }));
  const bodies: Buffer[] = [];
  for (let i = 0; i < 30; i++) {
    out.text(`* ${i} FETCH (BODY[] {8000}\r\n`);
    const body = Buffer.alloc(8000, 0x41 + (i % 26));
    bodies.push(body);
    let done = false;
    out.share(body, () => (done = true));
    assert.equal(done, false, 'written is the sink\'s to call');
    out.ascii(')\r\n');
  }
  out.flush();
  const lines = sent.filter((s) => !bodies.includes(s.chunk));
  assert.equal(sent.length - lines.length, 30, 'each shared body was handed over itself, not copied');
  assert.ok(lines.length >= 30, 'each line before a body is a piece of its own');
  assert.ok(lines.slice(1).some((s) => s.chunk.buffer === lines[0].chunk.buffer), 'pieces share a chunk');
  const expected = Buffer.concat(bodies.flatMap((b, i) => [Buffer.from(`${i ? ')\r\n' : ''}* ${i} FETCH (BODY[] {8000}\r\n`), b]).concat(Buffer.from(')\r\n')));
  assert.ok(Buffer.concat(sent.map((s) => s.chunk)).equals(expected), 'the bytes, in order');
  // All pieces but one written: that chunk must not be handed out again.
  const first = lines[0].chunk.buffer;
  const ofFirst = lines.filter((s) => s.chunk.buffer === first);
  for (const s of ofFirst.slice(1)) s.written?.();
  out.close();
  const more: typeof sent = [];
  const out2 = new OutBuffer((chunk, written) => more.push({ chunk, copy: Buffer.from(chunk), written }));
  out2.bytes(Buffer.alloc(300_000, 0x7a));
  out2.close();
  assert.ok(ofFirst[0].chunk.equals(ofFirst[0].copy), 'a piece still in flight is untouched');
  assert.ok(!more.some((s) => s.chunk.buffer === first), 'its chunk was not reused');
  ofFirst[0].written?.();
  for (const s of [...more, ...lines]) s.written?.();
  // Every piece written: the chunk goes back to the spares, and a later buffer gets it.
  const taken: ArrayBufferLike[] = [];
  const probes = Array.from({ length: 8 }, () => {
    const o = new OutBuffer((chunk) => taken.push(chunk.buffer));
    o.ascii('x');
    o.flush();
    return o;
  });
  assert.ok(taken.includes(first), 'the chunk is reused once all its pieces are written');
  for (const o of probes) o.close();
});
