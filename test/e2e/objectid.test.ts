// OBJECTID (RFC 8474) on the real server process over a Maildir: MAILBOXID is
// the dovecot-uidlist GUID (so a folder Dovecot made keeps its id), stable
// across RENAME and restart; EMAILID stable across restart, flag changes and COPY.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer } from '../support/server.js';
import { startDovecot, dovecotAvailable } from '../support/dovecot.js';
import { seedInOrder, runScript } from '../support/peer-diff.js';

const guidOf = async (dir: string) => /^3 .*\bG([0-9a-f]+)/.exec(await fs.readFile(path.join(dir, 'dovecot-uidlist'), 'utf8'))![1];

test('OBJECTID on a Maildir: MAILBOXID is the uidlist GUID and survives RENAME and a restart; EMAILID survives both, a flag change and COPY (RFC 8474 §4, §5)', { timeout: 60_000 }, async (t) => {
  const tree = await makeMailTree('mimapd-objectid-');
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  t.after(async () => {
    await server?.stop(); // before its files go
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  await seedInOrder(tree, ['Subject: one\n\nx\n', 'Subject: two\n\ny\n']);
  server = await startServer(tree);
  let r = [...(await runScript(server.port, ['CREATE Work', 'SELECT INBOX', 'FETCH 1:2 EMAILID', 'STORE 1 +FLAGS (\\Seen)', 'CAPABILITY'])).values()];
  await server.stop();
  server = null;
  assert.match(r[4], / OBJECTID\b/);
  const work = /MAILBOXID \(([0-9a-f]+)\)/.exec(r[0])![1];
  assert.equal(work, await guidOf(path.join(tree.maildir('bob'), '.Work')));
  const inbox = /MAILBOXID \(([0-9a-f]+)\)/.exec(r[1])![1];
  assert.equal(inbox, await guidOf(tree.maildir('bob')));
  const emailIds = r[2];
  assert.match(emailIds, /^\* 1 FETCH \(EMAILID \([A-Za-z0-9_-]+\)\)\n\* 2 FETCH \(EMAILID \([A-Za-z0-9_-]+\)\)\nT OK$/);

  server = await startServer(tree);
  r = [...(await runScript(server.port, ['RENAME Work Old', 'STATUS Old (MAILBOXID)', 'SELECT INBOX', 'FETCH 1:2 EMAILID', `SEARCH EMAILID ${/EMAILID \(([^)]+)\)\)\nT/.exec(emailIds)![1]}`, 'COPY 1:2 Old', 'SELECT Old', 'FETCH 1:2 EMAILID'])).values()];
  assert.equal(r[1], `* STATUS Old (MAILBOXID (${work}))\nT OK`, 'RENAME and a restart keep it');
  assert.match(r[2], new RegExp(`MAILBOXID \\(${inbox}\\)`));
  assert.equal(r[3], emailIds, 'EMAILID after a restart and a flag change (the file was renamed)');
  assert.equal(r[4], '* SEARCH 2\nT OK');
  assert.equal(r[7], emailIds, 'a COPY keeps them (the new uidlist records carry G)');
});

test('OBJECTID: a folder Dovecot made keeps its GUID as our MAILBOXID', { timeout: 90_000 }, async (t) => {
  if (!dovecotAvailable()) return t.skip('dovecot is not installed (apt-get install dovecot-imapd)');
  const tree = await makeMailTree('mimapd-objectid-dv-');
  await fs.chmod(tree.dir, 0o711);
  t.after(() => fs.rm(tree.dir, { recursive: true, force: true })); // the servers are stopped in the test
  const peer = await startDovecot({ mailRoot: path.join(tree.dir, 'mail'), stateDir: path.join(tree.dir, 'dovecot') });
  try {
    await runScript(peer.port, ['CREATE Made', 'SELECT Made', 'LOGOUT']);
  } finally {
    await peer.stop();
  }
  const guid = await guidOf(path.join(tree.maildir('bob'), '.Made'));
  const server = await startServer(tree);
  const r = [...(await runScript(server.port, ['STATUS Made (MAILBOXID)'])).values()];
  await server.stop();
  assert.equal(r[0], `* STATUS Made (MAILBOXID (${guid}))\nT OK`);
});
