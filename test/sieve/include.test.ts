// RFC 6609 include: what compiles, how a run treats included scripts and
// their variables, and how the loader finds, limits and reloads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileSieve, runSieve, type CompiledScript } from '../../src/sieve/index.js';
import { ScriptCache } from '../../src/sieve/user-scripts.js';

const R = 'require ["include", "fileinto", "variables"];\n';
const MSG = Buffer.from('From: a@example.com\nTo: b@example.org\nSubject: hello\n\nbody\n');
const ENV = { from: 'a@example.com', to: 'b@example.org' };

function compiled(text: string): CompiledScript {
  const r = compileSieve(text);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors));
  return r.script;
}

function errors(text: string): string {
  const r = compileSieve(text);
  assert.equal(r.ok, false, `should not compile: ${text}`);
  return r.ok ? '' : r.errors.map((e) => `${e.line}: ${e.message}`).join('\n');
}

function folders(res: ReturnType<typeof runSieve>): string[] {
  assert.equal(res.status, 'ok', JSON.stringify(res));
  return res.status === 'ok' ? res.actions.map((a) => (a.type === 'fileinto' ? a.mailbox : a.type)) : [];
}

test('include, return and global need require "include"; names are constants', () => {
  assert.match(errors('include "x";'), /needs require "include"/);
  assert.match(errors('require "fileinto";\nreturn;'), /^2: command 'return' needs require "include"/);
  assert.equal(compileSieve('require "include";\nreturn;').ok, true);
  assert.match(errors('require "include";\nglobal "x";'), /global needs require "variables"/);
  assert.match(errors(`${R}include "\${name}";`), /cannot hold a variable/);
  assert.match(errors(`${R}include "../etc/passwd";`), /invalid script name/);
  assert.match(errors(`${R}include :personal :global "x";`), /conflicts/);
  const s = compiled(`${R}include :global :optional :once "spam";\ninclude "mine";`);
  assert.deepEqual(
    s.includes.map((i) => [i.location, i.name, i.optional, i.once]),
    [
      ['global', 'spam', true, true],
      ['personal', 'mine', false, false],
    ],
  );
});

test('a run: included scripts run in place, return ends only them, :once and :optional', () => {
  const scripts: Record<string, CompiledScript> = {
    'personal:ret': compiled(`${R}fileinto "B";\nreturn;\nfileinto "X";`),
    'personal:count': compiled(`${R}global "n";\nset "n" "\${n}x";`),
  };
  const include = (loc: string, name: string) => scripts[`${loc}:${name}`] ?? null;
  const main = compiled(`${R}global "n";\ninclude "ret";\ninclude "count";\ninclude :once "count";\ninclude "count";\ninclude :optional "none";\nfileinto "n\${n}";`);
  assert.deepEqual(folders(runSieve(main, MSG, ENV, { include })), ['B', 'nxx']);
  // a missing script that is not :optional (only possible when it vanished after loading) is a runtime error
  const missing = runSieve(compiled(`${R}include "none";`), MSG, ENV, { include });
  assert.equal(missing.status, 'error');
  // return in the main script is stop
  assert.deepEqual(folders(runSieve(compiled(`${R}fileinto "A";\nreturn;\nfileinto "C";`), MSG, ENV)), ['A']);
});

test('variables are the script\'s own unless global; global.NAME reaches the shared ones', () => {
  const scripts: Record<string, CompiledScript> = {
    'personal:local': compiled(`${R}set "f" "Inner";`),
    'personal:shared': compiled(`${R}global "f";\nset "f" "Shared";`),
  };
  const include = (loc: string, name: string) => scripts[`${loc}:${name}`] ?? null;
  assert.deepEqual(folders(runSieve(compiled(`${R}set "f" "Main";\ninclude "local";\nfileinto "\${f}";`), MSG, ENV, { include })), ['Main']);
  assert.deepEqual(folders(runSieve(compiled(`${R}global "f";\ninclude "shared";\nfileinto "\${f}";`), MSG, ENV, { include })), ['Shared']);
  assert.deepEqual(folders(runSieve(compiled(`${R}include "shared";\nfileinto "g-\${global.f}";`), MSG, ENV, { include })), ['g-Shared']);
});

test('the loader: missing, cycles, depth 10, the count limit, and reloading when an included script changes', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sieve-include-unit-'));
  try {
    const personal = path.join(dir, 'sieve');
    const global = path.join(dir, 'global');
    await fs.mkdir(personal);
    await fs.mkdir(global);
    const write = (d: string, name: string, text: string) => fs.writeFile(path.join(d, `${name}.sieve`), text);
    const cache = new ScriptCache();
    const dirs: { personal: string; global: string | null } = { personal, global };
    const load = async (name: string, d = dirs) => (await cache.load(path.join(personal, `${name}.sieve`), d))!;
    const errorOf = async (name: string, d = dirs) => {
      const l = await load(name, d);
      assert.equal(l.ok, false, name);
      return l.ok ? '' : l.errors[0].message;
    };

    await write(personal, 'missing', `${R}include "nope";`);
    assert.match(await errorOf('missing'), /included personal script 'nope' does not exist/);
    await write(personal, 'noglobal', `${R}include :global "spam";`);
    assert.match(await errorOf('noglobal', { personal, global: null }), /sieve.global_dir/);
    await write(personal, 'a', `${R}include "b";`);
    await write(personal, 'b', `${R}include "a";`);
    assert.match(await errorOf('a'), /b: line 2: circular include/);

    for (let i = 0; i < 11; i++) await write(personal, `d${i}`, `${R}include "d${i + 1}";`);
    await write(personal, 'd11', 'require "fileinto";\nfileinto "Deep";');
    assert.equal((await load('d1')).ok, true, 'ten levels of includes');
    assert.match(await errorOf('d0'), /deeper than 10/);

    const many = new ScriptCache({ limits: { maxIncludes: 3 } });
    for (let i = 0; i < 4; i++) await write(personal, `leaf${i}`, 'keep;');
    await write(personal, 'wide', R + [0, 1, 2, 3].map((i) => `include "leaf${i}";`).join('\n'));
    const wide = (await many.load(path.join(personal, 'wide.sieve'), dirs))!;
    assert.equal(wide.ok, false);
    assert.match(wide.ok ? '' : wide.errors[0].message, /more than 3 included scripts/);

    await write(global, 'spam', 'require "fileinto";\nfileinto "Junk";');
    await write(personal, 'main', `${R}include :global "spam";\ninclude :optional "later";`);
    let main = await load('main');
    assert.ok(main.ok);
    assert.deepEqual(folders(runSieve(main.script, MSG, ENV, { include: main.include })), ['Junk']);
    // an included script changed, or an optional one appeared: the next load sees it
    await write(global, 'spam', 'require "fileinto";\nfileinto "Spam";');
    await write(personal, 'later', 'require "fileinto";\nfileinto "Later";');
    main = await load('main');
    assert.ok(main.ok);
    assert.deepEqual(folders(runSieve(main.script, MSG, ENV, { include: main.include })), ['Spam', 'Later']);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
