// RFC 6609 include against Pigeonhole: include chains (personal and global,
// :once, :optional, return, global variables, cycles, the depth limit, a
// missing or broken included script) through Debian's sieve-test and through
// our loader and interpreter; the test fails on any difference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSieve } from '../../src/sieve/index.js';
import { ScriptCache } from '../../src/sieve/user-scripts.js';
import { normalize, runReference, setupReference, sieveTestBinary } from './pigeonhole.js';

const MESSAGES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/sieve/corpus/messages');
const ENVELOPE = { from: 'sender@example.com', to: 'bob+lists@example.org' };

const R = 'require ["include", "fileinto", "variables", "imap4flags"];\n';

/** The user's scripts (~/sieve): the included ones and the main ones (main-*). */
const PERSONAL: Record<string, string> = {
  flag: 'require "imap4flags";\naddflag "\\\\Flagged";\n',
  ret: `${R}fileinto "B";\nreturn;\nfileinto "X";\n`,
  stopper: 'require "fileinto";\nfileinto "S";\nstop;\n',
  counter: `${R}global "n";\nset "n" "\${n}x";\n`,
  setter: `${R}global "folder";\nif header :contains "subject" "a" { set "folder" "HasA"; } else { set "folder" "NoA"; }\n`,
  local: `${R}set "folder" "Local";\n`,
  broken: 'require "fileinto";\nfileinto "Y"\n',
  loop1: `${R}include "loop2";\n`,
  loop2: `${R}include "loop1";\n`,
  self: `${R}include :once "self";\nfileinto "Self";\n`,
  ...chain(10),
  'main-chain': `${R}include "ret";\ninclude :global "spam";\nfileinto "A";\n`,
  'main-flags': `${R}include "flag";\nfileinto "F";\n`,
  'main-once': `${R}global "n";\ninclude "counter";\ninclude :once "counter";\ninclude "counter";\nfileinto "n\${n}";\n`,
  'main-global': `${R}global "folder";\ninclude "setter";\nfileinto "\${folder}";\n`,
  'main-local': `${R}set "folder" "Main";\ninclude "local";\nfileinto "\${folder}";\n`,
  'main-namespace': `${R}include "setter";\nfileinto "g-\${global.folder}";\n`,
  'main-stop': `${R}include "stopper";\nfileinto "After";\n`,
  'main-return': `${R}fileinto "Before";\nreturn;\nfileinto "After";\n`,
  'main-missing': `${R}include "nonexistent";\nkeep;\n`,
  'main-optional': `${R}include :optional "nonexistent";\nfileinto "Opt";\n`,
  'main-broken': `${R}include "broken";\n`,
  'main-loop': `${R}include "loop1";\n`,
  'main-self': `${R}include "self";\n`,
  'main-deep10': `${R}include "deep1";\n`,
  'main-deep11': `${R}include "deep0";\n`,
  'main-global-missing': `${R}include :global "nonexistent";\n`,
  'main-twice': `${R}include "ret";\ninclude "ret";\ninclude :global "spam";\n`,
};

/** Global scripts (sieve.global_dir / sieve_global). */
const GLOBAL: Record<string, string> = {
  spam: 'require ["fileinto", "imap4flags"];\nif exists "x-spam-flag" { fileinto "Junk"; } else { addflag "seen-by-global"; }\n',
};

/** deep0 → deep1 → … → deepN, the last files into "Deep". */
function chain(n: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`deep${i}`] = `${R}include "deep${i + 1}";\n`;
  out[`deep${n}`] = 'require "fileinto";\nfileinto "Deep";\n';
  return out;
}

test('include chains give the same actions as Pigeonhole sieve-test', { skip: sieveTestBinary() ? false : 'sieve-test not installed (apt-get install dovecot-sieve)' }, async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sieve-include-'));
  try {
    const personal = path.join(dir, 'sieve');
    const global = path.join(dir, 'global');
    await fs.mkdir(personal);
    await fs.mkdir(global);
    await fs.mkdir(path.join(dir, 'm'));
    for (const [n, text] of Object.entries(PERSONAL)) await fs.writeFile(path.join(personal, `${n}.sieve`), text);
    for (const [n, text] of Object.entries(GLOBAL)) await fs.writeFile(path.join(global, `${n}.sieve`), text);
    const messages = ['01-plain.eml', '05-bulk.eml', '06-minimal.eml'];
    for (const m of messages) await fs.copyFile(path.join(MESSAGES, m), path.join(dir, 'm', m));
    // a spam-flagged message for the global script's other branch
    await fs.writeFile(path.join(dir, 'm', '07-spam.eml'), 'From: a@example.net\nTo: bob@example.org\nSubject: cheap\nX-Spam-Flag: YES\n\nbuy\n');
    messages.push('07-spam.eml');
    const ref = await setupReference(dir, [], [`sieve = file:${personal};active=${path.join(dir, '.dovecot.sieve')}`, `sieve_global = ${global}`]);

    // our side reads copies: sieve-test writes .svbin files beside the scripts it compiles
    const ours = path.join(dir, 'ours');
    await fs.cp(personal, path.join(ours, 'sieve'), { recursive: true });
    await fs.cp(global, path.join(ours, 'global'), { recursive: true });
    const cache = new ScriptCache();
    const dirs = { personal: path.join(ours, 'sieve'), global: path.join(ours, 'global') };

    const mains = Object.keys(PERSONAL).filter((n) => n.startsWith('main-'));
    const differences: string[] = [];
    let runs = 0;
    for (const main of mains) {
      const loaded = await cache.load(path.join(ours, 'sieve', `${main}.sieve`), dirs);
      assert.ok(loaded, main);
      for (const m of messages) {
        const theirs = await runReference(ref, path.join(personal, `${main}.sieve`), path.join(dir, 'm', m), ENVELOPE);
        const bytes = await fs.readFile(path.join(dir, 'm', m));
        const mine = loaded.ok ? normalize(runSieve(loaded.script, bytes, ENVELOPE, { zone: 0, include: loaded.include })) : normalize({ compileError: true });
        runs++;
        if (mine !== theirs) differences.push(`${main}|${m}\n  sieve-test: ${theirs.replace(/\n/g, '\n              ')}\n  ours:       ${mine.replace(/\n/g, '\n              ')}`);
      }
    }
    t.diagnostic(`${mains.length} include scripts × ${messages.length} messages = ${runs} runs, ${differences.length} differences`);
    assert.deepEqual(differences, [], `differences from Pigeonhole:\n${differences.join('\n')}`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
