// `npm run fuzz`: the in-process fuzzer (framer, tokenizer, command arguments,
// message parsers) for --inputs inputs, then the network fuzzer against the
// real server process for --net-seconds (or --net-inputs), and the figures.
//   npm run fuzz -- --seed 42 --inputs 1000000 --net-seconds 300
//   npm run fuzz -- --seed 42 --replay 123456     (one in-process input, verbosely)
//   npm run fuzz -- --net-replay 40:123456:selected  (one network input on a fresh server, every byte shown)
import { parseArgs } from 'node:util';
import { runWire, runNet, replayNet, SLOW_MS } from './campaign.js';
import { makeWireInput, runWireInput } from './wire-target.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    inputs: { type: 'string', default: '1000000' },
    workers: { type: 'string', default: '2' },
    'net-seconds': { type: 'string', default: '120' },
    'net-inputs': { type: 'string' },
    'fuzz-sessions': { type: 'string', default: '8' },
    'folder-sessions': { type: 'string', default: '3' },
    replay: { type: 'string' },
    'net-replay': { type: 'string' },
  },
});
const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;

if (values.replay !== undefined) {
  const i = Number(values.replay);
  const input = makeWireInput(seed, i);
  console.log(`seed ${seed} input ${i}: ${input.target}${input.preauth ? ' (before login)' : ''}, ${input.bytes.length} bytes`);
  console.log(JSON.stringify(input.bytes.toString('latin1').slice(0, 4000)));
  const t0 = performance.now();
  console.log('verdict:', runWireInput(seed, i) ?? 'ok', `(${(performance.now() - t0).toFixed(1)} ms)`);
  process.exit(0);
}

if (values['net-replay'] !== undefined) {
  await replayNet(values['net-replay']);
  process.exit(0);
}

const mib = (n: number) => `${n.toFixed(1)} MiB`;
console.log(`fuzz seed ${seed} (replay with --seed ${seed})`);
const wireTotal = Number(values.inputs);
let lastPrint = 0;
const wire = await runWire({
  seed,
  inputs: wireTotal,
  workers: Number(values.workers),
  onProgress(done) {
    if (Date.now() - lastPrint > 10_000) {
      lastPrint = Date.now();
      console.log(`  in-process: ${done} / ${wireTotal}`);
    }
  },
});
console.log(`in-process: ${wire.inputs} inputs in ${(wire.ms / 1000).toFixed(0)} s, ${wire.crashes} crashes, ${wire.hangs} hangs, ${wire.slow} over ${SLOW_MS} ms, slowest ${wire.slowestMs.toFixed(1)} ms (input ${wire.slowestIndex})`);
for (const f of wire.failures.slice(0, 20)) console.log(`  FAIL ${f.kind} input ${f.index}: ${f.message.slice(0, 300)}  (npm run fuzz -- --seed ${seed} --replay ${f.index})`);

let lastNet = 0;
const net = await runNet({
  seed,
  durationMs: Number(values['net-seconds']) * 1000,
  maxInputs: values['net-inputs'] !== undefined ? Number(values['net-inputs']) : undefined,
  fuzzSessions: Number(values['fuzz-sessions']),
  folderSessions: Number(values['folder-sessions']),
  onProgress(s) {
    if (Date.now() - lastNet > 10_000) {
      lastNet = Date.now();
      console.log(`  network: ${s.inputs} inputs, ${s.folderOps} folder operations, RSS ${mib(s.rssPeakMiB)} peak, ${s.failures.length} failures`);
    }
  },
});
console.log(`network: ${net.inputs} inputs and ${net.folderOps} folder operations (${net.folderNo} NO) in ${(net.ms / 1000).toFixed(0)} s over ${net.connections} connections`);
console.log(`  BYE reasons: ${JSON.stringify(net.byes)}; closed without BYE ${net.closedSilently}; abandoned ${net.abandoned}; desyncs ${net.desyncs}`);
for (const f of net.failures.slice(0, 20)) console.log(`  FAIL ${f.kind} ${f.session}: ${f.detail.slice(0, 200)}${f.input ? `\n    after input ${f.inputIndex} (npm run fuzz -- --net-replay ${f.replay}): ${f.input.slice(0, 400)}` : ''}`);
const distinct = new Map<string, number>();
for (const l of [...net.serverErrors, ...net.knownErrors]) {
  const e = JSON.parse(l) as { msg?: string; command?: string; err?: { message?: string; stack?: string } };
  const key = `${e.msg} ${e.command ?? ''}: ${(e.err?.message ?? '').replace(/\/tmp\/[^ ']*/g, '…')}\n      ${(e.err?.stack ?? '').split('\n').slice(1, 4).join(' / ')}`;
  distinct.set(key, (distinct.get(key) ?? 0) + 1);
}
for (const [k, n] of distinct) console.log(`  SERVER ERROR ×${n}: ${k}`);
if (net.knownErrors.length) console.log(`  (${net.knownErrors.length} of them: known, issue 13 B.8 — ENOENT from background writes into a folder deleted or renamed meanwhile)`);

const crashes = wire.crashes + (net.exitedEarly ? 1 : 0) + net.serverErrors.length;
const rows: Array<[string, string]> = [
  ['seed', String(seed)],
  ['inputs', `${wire.inputs + net.inputs} (${wire.inputs} in-process, ${net.inputs} network) + ${net.folderOps} racing folder operations`],
  ['crashes', `${crashes} (in-process ${wire.crashes}, server exited ${net.exitedEarly ? 'yes' : 'no'}, server error lines ${net.serverErrors.length})`],
  ['known (issue 13 B.8)', `${net.knownErrors.length} error lines from folder races`],
  ['hangs', `${wire.hangs + net.hangs} (in-process ${wire.hangs}, network ${net.hangs})`],
  ['BYE Internal error', String(net.byeInternal)],
  ['NO [SERVERBUG]', String(net.serverbug)],
  ['server RSS', `before ${mib(net.rssBeforeMiB)}, peak ${mib(net.rssPeakMiB)}, after ${mib(net.rssAfterMiB)}`],
  ['slowest input', `in-process ${wire.slowestMs.toFixed(1)} ms (--replay ${wire.slowestIndex}); network ${net.slowestMs} ms incl. round trips: ${net.slowestInput.slice(0, 160)}`],
];
const w = Math.max(...rows.map(([k]) => k.length));
console.log('\n' + rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n'));
const failed = crashes + wire.hangs + net.failures.length;
process.exit(failed ? 1 : 0);
