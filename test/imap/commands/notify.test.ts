// NOTIFY (RFC 5465), in-process on the in-memory store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';
import { MAX_WATCHED_FOLDERS } from '../../../src/imap/notify/watch.js';

test('NOTIFY: advertised after login (RFC 5465 §3)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  assert.match(await c.run('CAPABILITY'), /^\* CAPABILITY .* NOTIFY( |\r\n)/m);
});

test('NOTIFY: argument errors are BAD, unsupported events NO [BADEVENT (supported…)] (RFC 5465 §3.1, §5, §8)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const cases: Array<[string, RegExp]> = [
    ['NOTIFY', /^T BAD /m],
    ['NOTIFY FOO', /^T BAD /m],
    ['NOTIFY SET', /^T BAD /m],
    ['NOTIFY SET STATUS', /^T BAD /m],
    ['NOTIFY NONE extra', /^T BAD /m],
    ['NOTIFY SET (selected (MessageNew))', /^T BAD .*MessageExpunge/m], // §5: together
    ['NOTIFY SET (selected (MessageExpunge))', /^T BAD /m],
    ['NOTIFY SET (selected (FlagChange))', /^T BAD .*FlagChange/m],
    ['NOTIFY SET (personal (MessageNew (UID) MessageExpunge))', /^T BAD .*SELECTED/m], // §5.1: fetch-att only for SELECTED
    ['NOTIFY SET (selected (MessageNew (BODY[]) MessageExpunge))', /^T BAD .*PEEK/m],
    ['NOTIFY SET (selected (MessageNew (NOSUCHITEM) MessageExpunge))', /^T BAD /m],
    ['NOTIFY SET (bogus (MessageNew MessageExpunge))', /^T BAD .*filter/m],
    ['NOTIFY SET (subtree (MessageNew MessageExpunge))', /^T BAD /m],
    ['NOTIFY SET (mailboxes () (MessageNew MessageExpunge))', /^T BAD /m],
    ['NOTIFY SET (selected ()) ', /^T BAD /m],
    ['NOTIFY SET (selected NONE) (selected-delayed NONE)', /^T BAD /m],
    ['NOTIFY SET (selected (MailboxName))', /^T BAD .*message events/m], // §6.1
    ['NOTIFY SET (selected-delayed (MessageNew MessageExpunge SubscriptionChange))', /^T BAD /m],
    ['NOTIFY SET (selected (MessageNew MessageExpunge AnnotationChange))', /^T NO \[BADEVENT \(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange\)\] /m],
    ['NOTIFY SET (personal (MailboxMetadataChange))', /^T NO \[BADEVENT \(/m],
  ];
  for (const [cmd, want] of cases) assert.match(await c.run(cmd), want, cmd);
  assert.equal((await c.run('NOOP')).trim(), 'T OK NOOP completed', 'the session is fine after all that');
});

test('NOTIFY: a non-existent folder is accepted; NONE and events NONE are OK (RFC 5465 §3, §6)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  assert.match(await c.run('NOTIFY SET (mailboxes Nonexistent (MessageNew MessageExpunge))'), /^T OK /m);
  assert.match(await c.run('NOTIFY SET (personal NONE)'), /^T OK /m);
  assert.match(await c.run('NOTIFY NONE'), /^T OK /m);
});

test('NOTIFY SET STATUS: a STATUS line per watched folder, the selected one aside (RFC 5465 §3)', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Other');
  await h.deliver('Subject: a\r\n\r\nx\r\n', 'Other');
  const c = await h.session();
  const out = await c.run('NOTIFY SET STATUS (selected (MessageNew MessageExpunge)) (personal (MessageNew MessageExpunge))');
  assert.match(out, /^\* STATUS Other \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)\r\n/m);
  assert.doesNotMatch(out, /STATUS INBOX/, 'INBOX is selected: its own responses cover it');
  assert.match(out, /^T OK /m);
  // §3.1: with FlagChange, HIGHESTMODSEQ (this server has CONDSTORE) even before the client enables it.
  assert.match(await c.run('NOTIFY SET STATUS (mailboxes Other (MessageNew MessageExpunge FlagChange))'), /^\* STATUS Other \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1 HIGHESTMODSEQ \d+\)\r\n/m);
  assert.match(await c.run('ENABLE CONDSTORE'), /^T OK /m);
  assert.match(await c.run('NOTIFY SET STATUS (mailboxes Other (MessageNew MessageExpunge))'), /^\* STATUS Other \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1 HIGHESTMODSEQ \d+\)\r\n/m);
});

test('NOTIFY: new mail, expunge and flag changes in another folder arrive as STATUS between commands, without a command (RFC 5465 §5.2–5.4)', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Other');
  const c = await h.session();
  await c.run('NOTIFY SET (selected (MessageNew MessageExpunge)) (mailboxes Other (MessageNew MessageExpunge FlagChange))');
  await h.deliver('Subject: a\r\n\r\nx\r\n', 'Other');
  assert.match(await c.readUntil('\r\n', 5000), /^\* STATUS Other \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)\r\n$/);
  const other = await h.session('Other');
  await other.run('STORE 1 +FLAGS (\\Seen)');
  assert.match(await c.readUntil('\r\n', 5000), /^\* STATUS Other \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 0\)\r\n$/);
  await other.run('STORE 1 +FLAGS (\\Deleted)');
  await c.readUntil('\r\n', 5000);
  await other.run('EXPUNGE');
  assert.match(await c.readUntil('\r\n', 5000), /^\* STATUS Other \(MESSAGES 0 UIDNEXT 2 /);
  // The watch does not claim \Recent: the folder's message stayed new for the session that selected it.
  assert.match(await other.run('NOOP'), /^T OK /m);
});

test('NOTIFY: a folder no filter takes, and the selected folder, get no STATUS', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Other');
  await h.mkfolder('Quiet');
  const c = await h.session();
  await c.run('NOTIFY SET (selected (MessageNew MessageExpunge)) (mailboxes Other (MessageNew MessageExpunge))');
  await h.deliver('Subject: q\r\n\r\nx\r\n', 'Quiet');
  await h.deliver('Subject: i\r\n\r\nx\r\n', 'INBOX');
  const out = await c.readUntil('\r\n', 5000);
  assert.equal(out, '* 1 EXISTS\r\n', 'the selected folder is pushed as EXISTS, with no command');
  const rest = await c.run('NOOP');
  assert.doesNotMatch(rest, /STATUS/);
});

test('NOTIFY SELECTED: MessageNew with a fetch-att list sends FETCH after EXISTS, without a command (RFC 5465 §5.1)', async (t) => {
  const h = await harness(t);
  const c = await h.session();
  await c.run('NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange))');
  await h.deliver('Subject: n\r\n\r\nx\r\n');
  const out = await c.readUntil(/FETCH [^\r]*\r\n/, 5000);
  assert.match(out, /\* 1 EXISTS\r\n\* 1 RECENT\r\n\* 1 FETCH \(UID 1 FLAGS \(\\Recent\)\)\r\n$/);
  assert.match(await c.run('NOOP'), /^T OK /m);
});

test('NOTIFY SELECTED-DELAYED: EXPUNGE waits for a command; SELECTED sends it at once (RFC 5465 §5.3)', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: a\r\n\r\nx\r\n');
  await h.deliver('Subject: b\r\n\r\nx\r\n');
  const c = await h.session();
  const other = await h.session();
  await c.run('NOTIFY SET (selected-delayed (MessageNew MessageExpunge))');
  await other.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await other.run('EXPUNGE');
  await assert.rejects(c.readUntil('EXPUNGE', 300), 'held back between commands');
  assert.match(await c.run('NOOP'), /^\* 1 EXPUNGE\r\n/m);
  await c.run('NOTIFY SET (selected (MessageNew MessageExpunge))');
  await other.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await other.run('EXPUNGE');
  assert.match(await c.readUntil('EXPUNGE\r\n', 5000), /\* 1 EXPUNGE\r\n$/);
});

test('NOTIFY: MailboxName and SubscriptionChange as LIST (RFC 5465 §5.4, §5.5); events reach IDLE', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const other = await h.session(null);
  await c.run('NOTIFY SET (personal (MailboxName SubscriptionChange))');
  c.send('I1 IDLE\r\n');
  await c.readUntil('\r\n');
  await other.run('CREATE Fresh');
  assert.equal(await c.readUntil('\r\n', 5000), '* LIST () "." Fresh\r\n');
  await other.run('RENAME Fresh Renamed');
  assert.equal(await c.readUntil('\r\n', 5000), '* LIST () "." Renamed ("OLDNAME" (Fresh))\r\n');
  await other.run('SUBSCRIBE Renamed');
  assert.equal(await c.readUntil('\r\n', 5000), '* LIST (\\Subscribed) "." Renamed\r\n');
  await other.run('UNSUBSCRIBE Renamed');
  assert.equal(await c.readUntil('\r\n', 5000), '* LIST () "." Renamed\r\n');
  await other.run('DELETE Renamed');
  assert.equal(await c.readUntil('\r\n', 5000), '* LIST (\\NonExistent) "." Renamed\r\n');
  c.send('DONE\r\n');
  assert.match(await c.readUntil(/I1 [^\r]*\r\n/), /I1 OK /);
  await c.run('NOTIFY NONE');
  await other.run('CREATE Silent');
  assert.doesNotMatch(await c.run('NOOP'), /LIST/, 'NOTIFY NONE stops it');
});

test('NOTIFY: a folder created after SET is watched by a personal filter (RFC 5465 §6: filters are evaluated as folders come)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  await c.run('NOTIFY SET (personal (MessageNew MessageExpunge MailboxName))');
  const other = await h.session(null);
  await other.run('CREATE Later');
  assert.equal(await c.readUntil('\r\n', 5000), '* LIST () "." Later\r\n');
  await c.run('NOOP'); // lets the watch catch up with the new folder
  await h.deliver('Subject: l\r\n\r\nx\r\n', 'Later');
  assert.match(await c.readUntil('\r\n', 5000), /^\* STATUS Later \(MESSAGES 1 /);
});

test(`NOTIFY: more than ${MAX_WATCHED_FOLDERS} folders is NO [LIMIT]; a flood of unread LIST lines is NOTIFICATIONOVERFLOW (RFC 5465 §5.8)`, async (t) => {
  const h = await harness(t);
  for (let i = 0; i <= MAX_WATCHED_FOLDERS; i++) await h.mkfolder(`F${i}`);
  const c = await h.session(null);
  assert.match(await c.run('NOTIFY SET (personal (MessageNew MessageExpunge))'), /^T NO \[LIMIT\] /m);
  assert.match(await c.run('NOTIFY SET (subtree F1 (MessageNew MessageExpunge))'), /^T OK /m, 'F1, F10…: within the limit');

  // 1,100 folders made in one turn, before the session can be written to: the queue is what the limit bounds.
  await c.run('NOTIFY SET (personal (MailboxName))');
  await Promise.all(Array.from({ length: 1100 }, (_, i) => h.mail.create(`G${i}`)));
  const out = await c.readUntil(/NOTIFICATIONOVERFLOW\][^\r]*\r\n/, 10_000);
  assert.match(out, /\* OK \[NOTIFICATIONOVERFLOW\] /);
  await h.mail.create('AfterOverflow');
  assert.doesNotMatch(await c.run('NOOP'), /AfterOverflow/, 'NOTIFY is off after the overflow');
});

test('NOTIFY: every group that takes a folder adds its events (RFC 5465 §6 example)', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  const other = await h.session(null);
  await c.run('NOTIFY SET (mailboxes INBOX (MessageNew MessageExpunge)) (personal (SubscriptionChange))');
  await h.deliver('Subject: a\r\n\r\nx\r\n');
  assert.match(await c.readUntil('\r\n', 5000), /^\* STATUS INBOX \(MESSAGES 1 /);
  await other.run('UNSUBSCRIBE INBOX');
  await other.run('SUBSCRIBE INBOX');
  assert.equal(await c.readUntil('(\\Subscribed) "." INBOX\r\n', 5000), '* LIST (\\Subscribed) "." INBOX\r\n');
});

test('NOTIFY: the session\'s own CREATE, RENAME, SUBSCRIBE and DELETE are not echoed back (RFC 5465 §5), but followed', async (t) => {
  const h = await harness(t);
  const c = await h.session(null);
  await c.run('NOTIFY SET (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))');
  for (const cmd of ['CREATE Mine', 'SUBSCRIBE Mine', 'RENAME Mine Ours', 'UNSUBSCRIBE Ours']) assert.doesNotMatch(await c.run(cmd), /^\* LIST/m, cmd);
  // Its own new folder is watched all the same.
  await h.deliver('Subject: o\r\n\r\nx\r\n', 'Ours');
  assert.match(await c.readUntil('\r\n', 5000), /^\* STATUS Ours \(MESSAGES 1 /);
  assert.doesNotMatch(await c.run('DELETE Ours'), /^\* LIST/m);
});

test('NOTIFY: a RENAME with children is one LIST with OLDNAME; RENAME INBOX too (RFC 5465 §5.4)', async (t) => {
  const h = await harness(t);
  await h.mkfolder('Top');
  await h.mkfolder('Top.Child');
  const c = await h.session(null);
  const other = await h.session(null);
  await c.run('NOTIFY SET (personal (MessageNew MessageExpunge MailboxName))');
  await other.run('RENAME Top Moved');
  assert.equal(await c.readUntil('\r\n', 5000), '* LIST () "." Moved ("OLDNAME" (Top))\r\n');
  await c.run('NOOP'); // the watch has followed the rename by the end of a command
  await h.deliver('Subject: k\r\n\r\nx\r\n', 'Moved.Child');
  assert.match(await c.readUntil('\r\n', 5000), /^\* STATUS Moved\.Child \(MESSAGES 1 /, 'the child is watched under its new name');
  await other.run('RENAME INBOX Old');
  assert.equal(await c.readUntil('\r\n', 5000), '* LIST () "." Old ("OLDNAME" (INBOX))\r\n');
});

test('NOTIFY: not before login; a successful SET is also a NOOP for the selected folder (RFC 5465 §3.1)', async (t) => {
  const h = await harness(t);
  const pre = await h.connect();
  assert.match(await pre.run('NOTIFY NONE'), /^T BAD /m);
  const c = await h.session();
  await h.deliver('Subject: waiting\r\n\r\nx\r\n');
  assert.match(await c.run('NOTIFY SET (personal (MailboxName))'), /^\* 1 EXISTS\r\n(.*\r\n)*T OK /m);
});
