// After a burst of work the garbage goes back when the loop goes quiet, not
// 15-30 s later when V8 gets round to it. Each case runs in a fresh node
// process, so the test runner's own allocations do not move the figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MODULE = new URL('../../src/runtime/idle-gc.js', import.meta.url).href;

/** MB of heap used: after ~250 MB of objects were made and dropped, then 1.5 s of quiet. */
async function heldAfterBurst(watch: boolean): Promise<{ burst: number; after: number }> {
  const script = `
    const { startIdleGc } = await import(${JSON.stringify(MODULE)});
    ${watch ? 'startIdleGc({ checkMs: 100 });' : ''}
    let junk = [];
    for (let i = 0; i < 2e6; i++) junk.push({ a: 'message ' + i, b: [i] });
    junk = null;
    const burst = process.memoryUsage().heapUsed;
    setTimeout(() => console.log(JSON.stringify({ burst, after: process.memoryUsage().heapUsed })), 1500);
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  const r = JSON.parse(stdout) as { burst: number; after: number };
  return { burst: r.burst / 2 ** 20, after: r.after / 2 ** 20 };
}

test('a quiet loop after a burst of allocation gets a full collection', async () => {
  const without = await heldAfterBurst(false);
  // The check below means something only if V8 alone keeps the garbage that long.
  assert.ok(without.after > 150, `without the watcher the garbage stays (${JSON.stringify(without)})`);
  const withIt = await heldAfterBurst(true);
  assert.ok(withIt.burst > 150 && withIt.after < 30, `with it, collected (${JSON.stringify(withIt)})`);
});

test('MAILDIR_IMAPD_HEAP_GROWTH: unset or empty is the default 25; a whole number 0-300 is taken; anything else is refused (null, and the server warns)', async () => {
  const { heapGrowthPercent, DEFAULT_HEAP_GROWTH } = await import('../../src/runtime/idle-gc.js');
  assert.equal(DEFAULT_HEAP_GROWTH, 25);
  assert.equal(heapGrowthPercent(undefined), 25);
  assert.equal(heapGrowthPercent(' '), 25);
  assert.equal(heapGrowthPercent('0'), 0);
  assert.equal(heapGrowthPercent('100'), 100);
  for (const bad of ['-1', '301', '12.5', 'fast', '1e2x']) assert.equal(heapGrowthPercent(bad), null, bad);
});
