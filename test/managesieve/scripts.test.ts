// The script store in Pigeonhole's layout: NAME.sieve files under ~/sieve,
// ~/.dovecot.sieve a relative symlink to the active one; where ~ comes from;
// quotas; renames and deletes around the active script; a plain active file
// adopted, never lost; and the symlinks it refuses to follow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScriptStore, ScriptError, activeScript, activeScriptPath, scriptNameProblem, sieveLocation, type SieveLocation } from '../../src/managesieve/scripts.js';

async function home(t: test.TestContext): Promise<SieveLocation> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msieve-store-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return sieveLocation({ name: 'bob', home: dir }, path.join(dir, 'Maildir'));
}

async function rejects(p: Promise<unknown>, kind: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof ScriptError && err.kind === kind);
}

test('locations: ~ is the home field, else the Maildir parent; %u/%n/%d; relative or .. templates refused', () => {
  assert.deepEqual(sieveLocation({ name: 'bob', home: '/home/bob' }, '/var/mail/bob/Maildir'), { home: '/home/bob', dir: '/home/bob/sieve', active: '/home/bob/.dovecot.sieve' });
  assert.deepEqual(sieveLocation({ name: 'bob@ex.org', home: null }, '/var/mail/vhosts/ex.org/bob/Maildir'), {
    home: '/var/mail/vhosts/ex.org/bob',
    dir: '/var/mail/vhosts/ex.org/bob/sieve',
    active: '/var/mail/vhosts/ex.org/bob/.dovecot.sieve',
  });
  assert.deepEqual(sieveLocation({ name: 'bob@ex.org', home: null }, '/m/bob/Maildir', { dir: '/var/sieve/%d/%n', active: '~/active.sieve' }), {
    home: '/m/bob',
    dir: '/var/sieve/ex.org/bob',
    active: '/m/bob/active.sieve',
  });
  assert.throws(() => sieveLocation({ name: 'bob', home: '/h' }, '/m', { dir: 'sieve', active: '~/.dovecot.sieve' }), /absolute/);
  assert.throws(() => sieveLocation({ name: '..', home: '/h' }, '/m', { dir: '/s/%u/x', active: '~/.dovecot.sieve' }), /'\.\.'/);
});

test('names: RFC 5804 §1.6 characters and the file system', () => {
  for (const ok of ['a', 'My filters', 'été', '.hidden', '..', 'x'.repeat(128)]) assert.equal(scriptNameProblem(ok), null, ok);
  for (const bad of ['', 'a/b', '/', 'a\0', 'a\r', 'a\x7f', 'a\u0085', 'a\u2028', 'x'.repeat(129), 'é'.repeat(101)]) assert.notEqual(scriptNameProblem(bad), null, JSON.stringify(bad));
});

test('put, list, get; the active one is a relative symlink sieve/NAME.sieve, as Pigeonhole writes it', async (t) => {
  const loc = await home(t);
  const store = new ScriptStore(loc);
  assert.deepEqual(await store.list(), []);
  assert.equal(await activeScriptPath(loc), null);
  await store.put('main', Buffer.from('keep;\n'));
  await store.put('été', Buffer.from('discard;\n'));
  await store.setActive('main');
  assert.equal(await fs.readlink(loc.active), 'sieve/main.sieve');
  assert.deepEqual(await store.list(), [
    { name: 'main', active: true },
    { name: 'été', active: false },
  ]);
  assert.equal((await store.get('été')).toString(), 'discard;\n');
  assert.equal(await activeScriptPath(loc), path.join(loc.dir, 'main.sieve'));
  assert.equal((await fs.stat(path.join(loc.dir, 'main.sieve'))).mode & 0o777, 0o600);
  // Replacing the active script keeps it active, with the new text.
  await store.put('main', Buffer.from('stop;\n'));
  assert.equal(await fs.readFile((await activeScriptPath(loc))!, 'utf8'), 'stop;\n');
  assert.deepEqual(await fs.readdir(path.join(loc.dir, 'tmp')), [], 'no temp file left');
  await store.setActive(null);
  assert.equal(await activeScriptPath(loc), null);
  await store.setActive(null); // twice is fine
  await rejects(store.setActive('nope'), 'nonexistent');
  await rejects(store.get('nope'), 'nonexistent');
});

test('delete: not the active one, not a missing one', async (t) => {
  const store = new ScriptStore(await home(t));
  await store.put('a', Buffer.from('keep;'));
  await store.setActive('a');
  await rejects(store.delete('a'), 'active');
  await rejects(store.delete('b'), 'nonexistent');
  await store.setActive(null);
  await store.delete('a');
  assert.deepEqual(await store.list(), []);
});

test('rename: the active link follows; an existing name or a missing script is refused', async (t) => {
  const loc = await home(t);
  const store = new ScriptStore(loc);
  await store.put('a', Buffer.from('keep;'));
  await store.put('b', Buffer.from('discard;'));
  await store.setActive('a');
  await store.rename('a', 'c');
  assert.deepEqual(await store.list(), [
    { name: 'b', active: false },
    { name: 'c', active: true },
  ]);
  assert.equal(await fs.readlink(loc.active), 'sieve/c.sieve');
  await rejects(store.rename('c', 'b'), 'exists');
  await rejects(store.rename('c', 'c'), 'exists');
  await rejects(store.rename('zz', 'y'), 'nonexistent');
  assert.equal((await store.get('b')).toString(), 'discard;', 'the refused rename left b alone');
  await store.rename('b', 'd');
  assert.equal(await fs.readlink(loc.active), 'sieve/c.sieve', 'renaming another script leaves the link');
});

test('quota: script count (a replacement is not a new script) and size, as HAVESPACE answers', async (t) => {
  const store = new ScriptStore(await home(t), { maxScripts: 2, maxScriptBytes: 10 });
  await store.put('a', Buffer.from('keep;'));
  await store.put('b', Buffer.from('keep;'));
  await rejects(store.put('c', Buffer.from('keep;')), 'maxscripts');
  await rejects(store.haveSpace('c', 1), 'maxscripts');
  await store.haveSpace('a', 10);
  await store.put('a', Buffer.from('discard;'));
  await rejects(store.put('a', Buffer.alloc(11, 0x20)), 'maxsize');
  await rejects(store.haveSpace('a', 11), 'maxsize');
  // A file made bigger by hand is not read whole.
  await fs.writeFile(store.fileOf('b'), Buffer.alloc(1000, 0x20));
  await rejects(store.get('b'), 'maxsize');
});

test('a plain ~/.dovecot.sieve (before ManageSieve) is adopted as "dovecot.orig" and stays active, never lost', async (t) => {
  const loc = await home(t);
  await fs.writeFile(loc.active, 'require "fileinto";\nfileinto "Old";\n');
  assert.deepEqual(await activeScript(loc), { kind: 'file', path: loc.active }, 'delivery runs it meanwhile, as Pigeonhole');
  const store = new ScriptStore(loc);
  assert.equal(await store.adoptPlainActive(), 'dovecot.orig');
  assert.deepEqual(await store.list(), [{ name: 'dovecot.orig', active: true }]);
  assert.match((await store.get('dovecot.orig')).toString(), /fileinto "Old"/);
  assert.equal(await store.adoptPlainActive(), null, 'once');
  // Again with the name taken: another name, still nothing lost.
  await store.setActive(null);
  await fs.writeFile(loc.active, 'discard;\n');
  await store.setActive(null);
  assert.deepEqual((await store.list()).map((s) => s.name), ['dovecot.orig', 'dovecot.orig-2']);
});

test('symlinks: a script that is a link is neither read nor listed; a script dir leading out of the home is refused; an active link out of the dir is no active script', async (t) => {
  const loc = await home(t);
  const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'msieve-outside-'));
  t.after(() => fs.rm(outside, { recursive: true, force: true }));
  await fs.writeFile(path.join(outside, 'secret.sieve'), 'secret');
  const store = new ScriptStore(loc);
  await store.put('a', Buffer.from('keep;'));
  await fs.symlink(path.join(outside, 'secret.sieve'), path.join(loc.dir, 'evil.sieve'));
  assert.deepEqual((await store.list()).map((s) => s.name), ['a']);
  await assert.rejects(store.get('evil'), (err: unknown) => err instanceof ScriptError && (err.kind === 'unsafe' || err.kind === 'nonexistent'));
  await assert.rejects(store.setActive('evil'), ScriptError);
  await assert.rejects(store.rename('evil', 'x'), ScriptError);
  // The active link pointing anywhere but the script dir: not followed, not "active".
  await fs.symlink(path.join(outside, 'secret.sieve'), loc.active);
  assert.equal(await activeScriptPath(loc), null);
  assert.deepEqual((await store.list()).filter((s) => s.active), []);
  await store.setActive('a'); // replaced by ours
  assert.equal(await fs.readlink(loc.active), 'sieve/a.sieve');
  // A script dir that is a symlink out of the home.
  const loc2 = await home(t);
  await fs.symlink(outside, loc2.dir);
  const store2 = new ScriptStore(loc2);
  await assert.rejects(store2.list(), (err: unknown) => err instanceof ScriptError && err.kind === 'unsafe');
  await assert.rejects(store2.put('x', Buffer.from('keep;')), (err: unknown) => err instanceof ScriptError && err.kind === 'unsafe');
  // One inside the home is fine.
  const loc3 = await home(t);
  await fs.mkdir(path.join(loc3.home, 'real-sieve'));
  await fs.symlink('real-sieve', loc3.dir);
  await new ScriptStore(loc3).put('x', Buffer.from('keep;'));
  assert.ok((await fs.stat(path.join(loc3.home, 'real-sieve', 'x.sieve'))).isFile());
  // An active path that is a directory is not replaced.
  const loc4 = await home(t);
  await fs.mkdir(loc4.active);
  const store4 = new ScriptStore(loc4);
  await store4.put('x', Buffer.from('keep;'));
  await assert.rejects(store4.setActive('x'), (err: unknown) => err instanceof ScriptError && err.kind === 'unsafe');
});

test('the script directory and home are made on first write (0700)', async (t) => {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'msieve-new-'));
  t.after(() => fs.rm(base, { recursive: true, force: true }));
  const loc = sieveLocation({ name: 'bob', home: path.join(base, 'bob') }, '/unused');
  const store = new ScriptStore(loc);
  assert.deepEqual(await store.list(), []);
  await store.put('x', Buffer.from('keep;'));
  assert.equal((await fs.stat(loc.dir)).mode & 0o777, 0o700);
  await store.setActive('x');
  assert.equal(await activeScriptPath(loc), path.join(base, 'bob', 'sieve', 'x.sieve'));
});
