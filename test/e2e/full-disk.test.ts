// A full disk (issue "Hostile input, faults and races", B.6): users must
// still be able to open their folders, read, change flags and delete mail to
// make room; writes that need space answer NO [OVERQUOTA], never BYE, and
// leave nothing half-made behind. The disk is a real one: a small tmpfs,
// filled to the last byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, openSync, writeSync, closeSync } from 'node:fs';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { makeMailTree, startServer, deliver, warningLines, type MailTree } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

const run = (cmd: string, args: string[]) =>
  new Promise<void>((resolve, reject) => execFile(cmd, args, (err, _out, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve())));

/** Writes `file` until the file system says ENOSPC; returns the bytes written. */
function fill(file: string): number {
  const fd = openSync(file, 'w');
  let total = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4096, 1]) {
      const buf = Buffer.alloc(size, 120);
      try {
        for (;;) total += writeSync(fd, buf);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

/** Every file and directory under `dir`, relative. */
async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) out.push(path.relative(dir, path.join(e.parentPath ?? e.path, e.name)));
  return out.sort();
}

test('on a full disk SELECT/EXAMINE/STATUS, reading, flag changes and EXPUNGE work; APPEND, CREATE and a new keyword answer NO [OVERQUOTA]; nothing is left half-made', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: the test mounts a small tmpfs to have a disk that is really full');
  const mnt = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-fulldisk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', mnt]);
  } catch (err) {
    await fs.rmdir(mnt);
    return t.skip(`cannot mount a tmpfs here (${(err as Error).message.trim()})`);
  }
  t.after(async () => {
    await run('umount', ['-l', mnt]).catch(() => undefined);
    await fs.rmdir(mnt).catch(() => undefined);
  });
  const tree: MailTree = await makeMailTree('tree-', mnt);
  const bob = tree.maildir('bob');
  for (let i = 1; i <= 3; i++) await deliver(bob, `Subject: message ${i}\n\nbody ${i}\n`);

  // A first run while there is room: bob logs in (the special-use folders and INBOX's uidlist are made).
  let server = await startServer(tree);
  let c = await RawImap.connect(server.port);
  await c.command('a', 'LOGIN bob bob-pass');
  assert.match(await c.command('b', 'SELECT INBOX'), /^\* 3 EXISTS/m);
  await c.command('c', 'LOGOUT');
  c.close();
  await server.stop();

  // Mail that came while the server was down, then the disk fills up; the server starts on the full disk.
  await deliver(bob, 'Subject: message 4\n\nbody 4\n');
  const filler = path.join(mnt, 'filler');
  const filled = fill(filler);
  t.diagnostic(`tmpfs filled with ${filled} bytes`);
  await assert.rejects(fs.writeFile(path.join(mnt, 'probe'), 'x'.repeat(5000)), { code: 'ENOSPC' });
  await fs.rm(path.join(mnt, 'probe'), { force: true });
  const before = await listTree(tree.dir);

  server = await startServer(tree);
  t.after(() => server.stop());
  c = await RawImap.connect(server.port);
  t.after(() => c.close());
  const outputs: string[] = [];
  const cmd = async (tag: string, text: string) => {
    const out = await c.command(tag, text);
    outputs.push(out);
    return out;
  };
  assert.match(await cmd('a', 'LOGIN bob bob-pass'), /^a OK/m);
  // The message delivered meanwhile gets its UID: the uidlist lock is taken without a file of content.
  const sel = await cmd('b', 'SELECT INBOX');
  assert.match(sel, /^b OK \[READ-WRITE\]/m);
  assert.match(sel, /^\* 4 EXISTS/m);
  assert.match(await cmd('c', 'STATUS Trash (MESSAGES UIDNEXT UIDVALIDITY)'), /^\* STATUS Trash \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+\)[\s\S]*^c OK/m);
  assert.match(await cmd('d', 'EXAMINE Trash'), /^d OK \[READ-ONLY\]/m);
  assert.match(await cmd('e', 'SELECT INBOX'), /^e OK/m);
  const fetched = await cmd('f', 'FETCH 1:* (UID RFC822.SIZE BODY.PEEK[])');
  for (let i = 1; i <= 4; i++) assert.match(fetched, new RegExp(`body ${i}`));
  assert.match(fetched, /^f OK/m);
  assert.match(await cmd('g', 'SEARCH BODY "body 2"'), /^\* SEARCH 2\r\n[\s\S]*^g OK/m);
  // A flag change is a rename: no new space needed.
  assert.match(await cmd('h', 'STORE 1 +FLAGS (\\Seen \\Flagged)'), /^\* 1 FETCH \(FLAGS \(\\Flagged \\Seen\)\)[\s\S]*^h OK/m);
  // A new keyword needs dovecot-keywords rewritten: NO, and the message keeps its flags.
  assert.match(await cmd('i', 'STORE 1 +FLAGS (NewKeyword)'), /^i NO \[OVERQUOTA\]/m);
  assert.match(await cmd('j', 'FETCH 1 FLAGS'), /^\* 1 FETCH \(FLAGS \(\\Flagged \\Seen\)\)/m);
  // APPEND: the literal is read to its end and the command answered NO [OVERQUOTA]; the session goes on.
  const big = `Subject: too big\r\n\r\n${'y'.repeat(200 * 1024)}\r\n`;
  c.send(`k APPEND INBOX {${Buffer.byteLength(big)}}\r\n`);
  await c.readUntil('+ ');
  c.send(big + '\r\n');
  const appended = await c.readUntil(/^k (OK|NO|BAD)[^\r]*\r\n/m);
  outputs.push(appended);
  assert.match(appended, /^k NO \[OVERQUOTA\]/m);
  // A small one fails the same way (the spool file cannot take its first page).
  const small = 'Subject: small\r\n\r\nhi\r\n';
  c.send(`l APPEND INBOX {${small.length}+}\r\n${small}\r\n`);
  const smallOut = await c.readUntil(/^l (OK|NO|BAD)[^\r]*\r\n/m);
  outputs.push(smallOut);
  assert.match(smallOut, /^l NO \[OVERQUOTA\]/m);
  assert.match(await cmd('m', 'CREATE Projects'), /^m NO \[OVERQUOTA\]/m);
  assert.doesNotMatch(await cmd('n', 'LIST "" "*"'), /Projects/);
  // A user's first login on the full disk: the special-use folders cannot be made, the rest works.
  const c2 = await RawImap.connect(server.port);
  t.after(() => c2.close());
  outputs.push(await c2.command('a', 'LOGIN alice alice-pass'));
  const aliceList = await c2.command('b', 'LIST "" "*"');
  outputs.push(aliceList);
  assert.match(aliceList, /^\* LIST \([^)]*\) "\." INBOX\r\n[\s\S]*^b OK/m);
  await c2.command('c', 'LOGOUT');
  // Deleting mail to make room works.
  assert.match(await cmd('o', 'STORE 2 +FLAGS.SILENT (\\Deleted)'), /^o OK/m);
  const expunged = await cmd('p', 'EXPUNGE');
  assert.match(expunged, /^\* 2 EXPUNGE[\s\S]*^p OK/m);
  assert.match(await cmd('q', 'NOOP'), /^q OK/m);
  for (const out of outputs) assert.doesNotMatch(out, /^\* BYE/m);

  // Nothing half-made: no spool file, no folder without cur/, no temp file of a uidlist or uidvalidity.
  // (A lock may be held for a moment by background work; the server's reusable lock template in tmp/
  // may have been written whenever a page was free: it lives as long as the server.)
  let after = await listTree(tree.dir);
  for (let i = 0; i < 40 && after.some((f) => f.endsWith('.lock')); i++) {
    await new Promise((r) => setTimeout(r, 50));
    after = await listTree(tree.dir);
  }
  after = after.filter((f) => !/\/tmp\/\.lock-template\.[^/]+$/.test(f));
  const added = after.filter((f) => !before.includes(f));
  // (CREATE's UIDVALIDITY was allocated: the marker file moved to its new name, the one marker there is.)
  assert.deepEqual(
    added.filter((f) => !/\/cur\/[^/]+$/.test(f) && !/\/dovecot-uidvalidity\.[0-9a-f]{8}$/.test(f)),
    [],
    'no new files but renamed messages',
  );
  for (const user of ['bob', 'alice']) assert.equal(after.filter((f) => f.startsWith(`mail/${user}/`) && /\/dovecot-uidvalidity\./.test(f)).length, 1, `one UIDVALIDITY marker for ${user}`);
  assert.equal(after.filter((f) => /\.tmp$|\.lock$|\.Projects/.test(f)).length, 0, after.filter((f) => /\.tmp$|\.lock$|\.Projects/.test(f)).join(' '));
  assert.deepEqual((await fs.readdir(path.join(bob, 'tmp'))).filter((f) => !f.startsWith('.lock-template.')), [], 'no spool file in tmp/');

  // Room again: the same commands succeed in the same session.
  await fs.rm(filler);
  assert.match(await cmd('r', 'CREATE Projects'), /^r OK/m);
  c.send(`s APPEND INBOX {${small.length}+}\r\n${small}\r\n`);
  assert.match(await c.readUntil(/^s (OK|NO|BAD)[^\r]*\r\n/m), /^s OK \[APPENDUID \d+ 5\]/m);
  assert.match(await cmd('t', 'STORE 1 +FLAGS (NewKeyword)'), /^t OK/m);
  const warnings = warningLines(server.stdout());
  t.diagnostic(`${warnings.length} warning lines: ${warnings.map((l) => (JSON.parse(l) as { msg: string }).msg).join('; ')}`);
  assert.ok(!warnings.some((l) => /unhandled|unexpected/.test(l)), warnings.join('\n'));
});

test('on a full disk a new message whose UID cannot be written waits unseen (the uidlist is left whole), and appears once there is room', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: the test mounts a small tmpfs to have a disk that is really full');
  const mnt = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-fulldisk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', mnt]);
  } catch (err) {
    await fs.rmdir(mnt);
    return t.skip(`cannot mount a tmpfs here (${(err as Error).message.trim()})`);
  }
  t.after(async () => {
    await run('umount', ['-l', mnt]).catch(() => undefined);
    await fs.rmdir(mnt).catch(() => undefined);
  });
  const tree = await makeMailTree('tree-', mnt);
  const bob = tree.maildir('bob');
  for (let i = 1; i <= 3; i++) await deliver(bob, `Subject: message ${i}\n\nbody ${i}\n`);
  let server = await startServer(tree);
  let c = await RawImap.connect(server.port);
  await c.command('a', 'LOGIN bob bob-pass');
  assert.match(await c.command('b', 'SELECT INBOX'), /^\* 3 EXISTS/m);
  c.close();
  await server.stop();

  // The uidlist ends exactly at a page boundary (a record of an expunged message pads it), so the
  // next record needs a new block, which a full disk does not have.
  const uidlist = path.join(bob, 'dovecot-uidlist');
  const size = (await fs.stat(uidlist)).size;
  const prefix = '4 :';
  await fs.appendFile(uidlist, prefix + 'x'.repeat(4096 - size - prefix.length - 1) + '\n');
  assert.equal((await fs.stat(uidlist)).size, 4096);
  const listed = await fs.readFile(uidlist);
  await deliver(bob, 'Subject: message 5\n\nbody 5\n');
  const filler = path.join(mnt, 'filler');
  fill(filler);

  server = await startServer(tree, ['--rescan-seconds', '1']);
  t.after(() => server.stop());
  c = await RawImap.connect(server.port);
  t.after(() => c.close());
  await c.command('a', 'LOGIN bob bob-pass');
  const sel = await c.command('b', 'SELECT INBOX');
  assert.match(sel, /^b OK \[READ-WRITE\]/m);
  assert.match(sel, /^\* 3 EXISTS/m, 'the new message is not shown without a UID on disk');
  assert.match(sel, /^\* OK \[UIDNEXT 5\]/m);
  assert.match(await c.command('c', 'FETCH 1:* (UID)'), /^\* 3 FETCH \(UID 3\)[\s\S]*^c OK/m);
  assert.deepEqual(await fs.readFile(uidlist), listed, 'the uidlist is as it was: no torn record');
  assert.match(server.stdout(), /disk full: new messages get their UIDs once there is room/);

  await fs.rm(filler);
  // The periodic check (every second here) gives it its UID; an IDLE-less client hears of it at its next NOOP.
  let out = '';
  for (let i = 0; i < 40 && !/\* 4 EXISTS/.test(out); i++) {
    await new Promise((r) => setTimeout(r, 100));
    out += await c.command('n' + i, 'NOOP');
  }
  assert.match(out, /^\* 4 EXISTS/m);
  assert.match(await c.command('d', 'FETCH 4 (UID BODY.PEEK[TEXT])'), /^\* 4 FETCH \(UID 5 BODY\[TEXT\] \{8\}\r\nbody 5\r\n\)/m);
  assert.match((await fs.readFile(uidlist, 'utf8')).split('\n').at(-2) ?? '', /^5 /, 'UID 5 is on disk');
});
