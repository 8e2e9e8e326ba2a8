// UIDs are 32-bit (RFC 3501 §2.3.1.1; issue "Hostile input, faults and
// races", C.12): when the next UID would pass 4294967295 the folder is
// renumbered from 1 under a new, greater UIDVALIDITY, and logged; a session
// with it selected is told to select it again. 4294967296 is never sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { serveTree, deliver } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';

const MAX = 4294967295;

test('a uidlist whose next UID is at the limit: the next delivery renumbers the folder under a new UIDVALIDITY', async (t) => {
  const names = ['1700000001.M1P1.host', '1700000002.M2P1.host'];
  const { tree, server } = await serveTree(t, async (tree) => {
    const bob = tree.maildir('bob');
    await fs.writeFile(path.join(bob, 'cur', `${names[0]}:2,S`), 'Subject: one\n\nfirst\n');
    await fs.writeFile(path.join(bob, 'cur', `${names[1]}:2,`), 'Subject: two\n\nsecond\n');
    await fs.writeFile(path.join(bob, 'dovecot-uidlist'), `3 V1000 N${MAX} G0123\n${MAX - 2} :${names[0]}\n${MAX - 1} :${names[1]}\n`);
  });
  const bob = tree.maildir('bob');
  const a = await RawImap.connect(server.port);
  t.after(() => a.close());
  await a.command('a', 'LOGIN bob bob-pass');
  const sel = await a.command('b', 'SELECT INBOX');
  assert.match(sel, /\[UIDVALIDITY 1000\]/);
  assert.match(sel, new RegExp(`\\[UIDNEXT ${MAX}\\]`));
  assert.match(await a.command('c', 'UID FETCH 1:* (FLAGS)'), new RegExp(`UID ${MAX - 1}`));
  a.send('d IDLE\r\n');
  await a.readUntil('+ idling');

  await deliver(bob, 'Subject: three\n\nthird\n');
  // The idling session cannot be given new UIDs: it is told to select the folder again.
  const bye = await a.readUntil(/\* BYE [^\r]*\r\n/);
  assert.match(bye, /\* BYE [^\r]*UIDVALIDITY/);
  assert.doesNotMatch(bye, /4294967296/);

  const b = await RawImap.connect(server.port);
  t.after(() => b.close());
  await b.command('a', 'LOGIN bob bob-pass');
  const again = await b.command('b', 'SELECT INBOX');
  const validity = Number(/\[UIDVALIDITY (\d+)\]/.exec(again)?.[1]);
  assert.ok(validity > 1000 && validity <= MAX, `new UIDVALIDITY ${validity}`);
  assert.match(again, /^\* 3 EXISTS/m);
  assert.match(again, /\[UIDNEXT 4\]/);
  const uids = await b.command('c', 'FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  assert.match(uids, /^\* 1 FETCH \(UID 1 BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{[0-9]+\}\r\nSubject: one/m);
  assert.match(uids, /^\* 2 FETCH \(UID 2 [^\r]*\r\nSubject: two/m);
  assert.match(uids, /^\* 3 FETCH \(UID 3 [^\r]*\r\nSubject: three/m);
  assert.match(await b.command('d', 'FETCH 1 FLAGS'), /\* 1 FETCH \(FLAGS \(\\Seen\)\)/, 'flags survive');
  // The next UID is 4, and APPEND says so under the new UIDVALIDITY.
  const four = 'Subject: four\r\n\r\nx\r\n';
  b.send(`e APPEND INBOX {${four.length}+}\r\n${four}\r\n`);
  assert.match(await b.readUntil(/^e (OK|NO|BAD)[^\r]*\r\n/m), new RegExp(`^e OK \\[APPENDUID ${validity} 4\\]`, 'm'));
  const onDisk = (await fs.readFile(path.join(bob, 'dovecot-uidlist'), 'utf8')).split('\n');
  assert.match(onDisk[0], new RegExp(`^3 V${validity} N\\d+ `)); // N is a lower bound, not rewritten per append
  assert.deepEqual(onDisk.slice(1, -1).map((l) => Number(l.split(' ')[0])), [1, 2, 3, 4]);
  const logged = server.stdout().split('\n').filter((l) => l.includes('renumbered from 1 under a new UIDVALIDITY'));
  assert.equal(logged.length, 1);
  assert.equal((JSON.parse(logged[0]) as { from: number }).from, 1000);
  assert.equal((JSON.parse(logged[0]) as { to: number }).to, validity);
});
