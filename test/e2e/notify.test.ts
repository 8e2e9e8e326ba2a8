// NOTIFY (RFC 5465) end to end: the real server process, two sessions, mail
// written into a folder's new/ as Postfix's virtual(8) does (the watcher's
// path), folders made by the other session; and the shape of the replies
// beside Dovecot's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serveTree, deliver } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';
import { dovecotAvailable } from '../support/dovecot.js';
import { differential, OTHER } from '../support/peer-diff.js';

test('NOTIFY: a delivery into a watched folder that is not selected is pushed as STATUS; CREATE and RENAME by another session as LIST (RFC 5465 §5.2, §5.4)', async (t) => {
  const { tree, server } = await serveTree(t);
  const a = await RawImap.connect(server.port);
  const b = await RawImap.connect(server.port);
  t.after(() => {
    a.close();
    b.close();
  });
  assert.match(await a.command('a1', 'LOGIN bob bob-pass'), /^a1 OK .*NOTIFY/m);
  assert.match(await b.command('b1', 'LOGIN bob bob-pass'), /^b1 OK/m);
  assert.match(await b.command('b2', 'CREATE Other'), /^b2 OK/m);
  assert.match(
    await a.command('a2', 'NOTIFY SET STATUS (mailboxes (INBOX Other) (MessageNew MessageExpunge FlagChange MailboxName)) (personal (MailboxName))'),
    /^\* STATUS Other \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0 HIGHESTMODSEQ \d+\)\r\n(.*\r\n)*a2 OK/m, // §3.1: FlagChange brings HIGHESTMODSEQ
  );

  // Written straight into .Other/new: only the folder's watcher can see it, and session a has nothing selected.
  await deliver(path.join(tree.maildir('bob'), '.Other'), 'Subject: pushed\r\n\r\nbody\r\n');
  assert.match(await a.readUntil('\r\n', 10_000), /^\* STATUS Other \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)\r\n$/);
  await deliver(tree.maildir('bob'), 'Subject: inbox\r\n\r\nbody\r\n');
  assert.match(await a.readUntil('\r\n', 10_000), /^\* STATUS INBOX \(MESSAGES 1 UIDNEXT 2 /);

  assert.match(await b.command('b3', 'CREATE Fresh'), /^b3 OK/m);
  assert.equal(await a.readUntil('\r\n', 10_000), '* LIST () "." Fresh\r\n');
  assert.match(await b.command('b4', 'RENAME Fresh Renamed'), /^b4 OK/m);
  assert.equal(await a.readUntil('\r\n', 10_000), '* LIST () "." Renamed ("OLDNAME" (Fresh))\r\n');

  // The watched folder stays attached: the server's sweep of idle folders must not lose a later delivery.
  await new Promise((r) => setTimeout(r, 300));
  await deliver(path.join(tree.maildir('bob'), '.Other'), 'Subject: second\r\n\r\nbody\r\n');
  assert.match(await a.readUntil('\r\n', 10_000), /^\* STATUS Other \(MESSAGES 2 UIDNEXT 3 /);
  assert.match(await a.command('a3', 'NOTIFY NONE'), /^a3 OK/m);
});

test('NOTIFY: replies shaped as Dovecot shapes them (differential)', { skip: !dovecotAvailable() && 'no Dovecot peer' }, async () => {
  let newMailStatus = 0;
  const normalise = (l: string) => {
    if (/^\* STATUS Other \(MESSAGES 1 /.test(l)) newMailStatus++;
    return l
      .replace(/\[APPENDUID \d+ /, '[APPENDUID V ')
      .replace(/ ?\[MAILBOXID \([0-9a-f]+\)\]/, '') // OBJECTID (RFC 8474): Dovecot 2.3 has none
      .replace(/\[BADEVENT[^\]]*\]/, '[BADEVENT]') // Dovecot lists the rejected event; RFC 5465 §8's list is the supported ones
      .replace(/^(\* STATUS .*)UIDVALIDITY \d+ /, '$1') // Dovecot leaves UIDVALIDITY out after the first
      .replace(/HIGHESTMODSEQ \d+/, 'HIGHESTMODSEQ N');
  };
  const diffs = await differential(
    async () => undefined,
    [
      'ENABLE CONDSTORE',
      'NOTIFY SET (selected (MessageNew MessageExpunge AnnotationChange))',
      'NOTIFY SET (selected (MessageNew))',
      'NOTIFY SET (selected (FlagChange))',
      'NOTIFY SET (personal (MessageNew (UID) MessageExpunge))',
      'NOTIFY SET (mailboxes Nonexistent (MessageNew MessageExpunge))',
      `${OTHER}CREATE Other`,
      'NOTIFY SET STATUS (mailboxes Other (MessageNew MessageExpunge FlagChange))',
      `${OTHER}APPEND Other {20+}\r\nSubject: x\r\n\r\nhello`,
      'NOOP',
      'NOTIFY NONE',
    ],
    normalise,
  );
  assert.deepEqual(diffs, []);
  assert.equal(newMailStatus, 2, 'both servers pushed the new mail in Other as STATUS by the NOOP');
});
