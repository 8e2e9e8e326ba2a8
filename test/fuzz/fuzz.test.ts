// The bounded fuzz run of `npm test` (issue 13 F): about a minute of the
// in-process fuzzer (framer, tokenizer, every command's arguments, the
// ENVELOPE/BODYSTRUCTURE parsers) and of the network fuzzer against the real
// server process while other sessions race CREATE/RENAME/DELETE/APPEND/STORE/
// EXPUNGE/FETCH. A new seed each run, printed; FUZZ_SEED=<n> repeats one.
// `npm run fuzz` is the long run (>= 1,000,000 inputs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runWire, runNet } from './campaign.js';

const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : (Date.now() ^ (process.pid << 12)) >>> 0;

test('in-process fuzzer: 15,000 mutated commands and messages, no unexpected error, no hang, same framing however the bytes arrive', async (t) => {
  t.diagnostic(`seed ${seed} (FUZZ_SEED=${seed} repeats it; npm run fuzz -- --seed ${seed} --replay <input> shows one)`);
  const wire = await runWire({ seed, inputs: 15_000, workers: 1 });
  t.diagnostic(`${wire.inputs} inputs in ${wire.ms} ms; slowest ${wire.slowestMs.toFixed(1)} ms (input ${wire.slowestIndex}); ${wire.slow} over 100 ms`);
  const report = wire.failures.map((f) => `${f.kind} at input ${f.index}: ${f.message.slice(0, 300)}`).join('\n');
  assert.equal(wire.inputs, 15_000);
  assert.equal(wire.crashes, 0, report);
  assert.equal(wire.hangs, 0, report);
});

test('network fuzzer: mutated commands from 6 sessions while 2 race folder operations; the server stays up, answers everything, never BYE Internal error or SERVERBUG, RSS bounded', async (t) => {
  const net = await runNet({ seed, durationMs: 35_000, fuzzSessions: 6, folderSessions: 2, hangMs: 30_000 });
  t.diagnostic(
    `seed ${seed}: ${net.inputs} inputs, ${net.sentinels} sentinels, ${net.folderOps} folder operations (${net.folderNo} NO) over ${net.connections} connections; ` +
      `RSS ${net.rssBeforeMiB.toFixed(0)} -> peak ${net.rssPeakMiB.toFixed(0)} -> ${net.rssAfterMiB.toFixed(0)} MiB; slowest ${net.slowestMs} ms; BYE ${JSON.stringify(net.byes)}; desyncs ${net.desyncs}`,
  );
  const report = net.failures.map((f) => `${f.kind} ${f.session}: ${f.detail.slice(0, 200)}${f.replay ? ` (npm run fuzz -- --net-replay ${f.replay})` : ''}`).join('\n');
  assert.ok(!net.exitedEarly, 'the server process exited');
  assert.ok(net.inputs >= 100 && net.folderOps >= 100, `too little was run to mean anything: ${net.inputs} inputs, ${net.folderOps} folder operations`);
  assert.equal(net.hangs, 0, report);
  assert.equal(net.byeInternal, 0, report);
  assert.equal(net.serverbug, 0, report);
  assert.deepEqual(net.serverErrors.map((l) => l.slice(0, 400)), [], 'error lines in the server log');
  assert.ok(net.rssPeakMiB - net.rssBeforeMiB < 256, `server RSS grew from ${net.rssBeforeMiB.toFixed(0)} to ${net.rssPeakMiB.toFixed(0)} MiB`);
  await t.test('no error lines from racing folder operations (issue 13 B.8: a folder deleted or renamed under a background write or rescan is no error)', () => {
    assert.equal(net.knownErrors.length, 0, `${net.knownErrors.length} lines, e.g. ${net.knownErrors[0]?.slice(0, 300)}`);
  });
});
