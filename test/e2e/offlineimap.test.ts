// offlineimap (Debian's offlineimap3) against the real server process: a
// one-shot pull of INBOX, Sent and Archive.2024 into a local Maildir,
// byte-exact; then a second run carries flag changes made on the server (and
// one made locally) and a message appended on the server.
//
// What offlineimap stores: the message as fetched (BODY.PEEK[]) with CRLF
// turned into LF, nothing added (it adds X-OfflineIMAP only to messages it
// uploads to a server without UIDPLUS). Local folders are flat, named as on
// the server with its "." separator: "Archive.2024".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeMailTree, startServer, type RunningServer } from '../support/server.js';
import { findTool, runTool, readLocalFolder, localFolders, serverFolder, withImap, toLf, maildirLetters, seedSyncCorpus, bySubject, type ToolRun } from '../support/sync-clients.js';

const OFFLINEIMAP = findTool('/usr/bin/offlineimap', '/usr/local/bin/offlineimap');
const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/seed-notify.eml');

async function offlineimap(conf: string, home: string): Promise<ToolRun> {
  // -o one shot, -u basic plain log lines. (`-d imap` shows the protocol when debugging; it also forces one thread.)
  const r = await runTool(OFFLINEIMAP!, ['-c', conf, '-o', '-u', 'basic'], { timeoutMs: 90_000, env: { ...process.env, HOME: home } });
  const out = `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  assert.equal(r.code, 0, `offlineimap exited ${r.code}\n${out}`);
  const complaints = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /\b(error|warning|abort(ed|ing)?)\b|traceback|exception:/i.test(l));
  assert.deepEqual(complaints, [], out);
  return r;
}

test('offlineimap: one-shot pull of INBOX, Sent and Archive.2024 byte-exact, then flags changed on either side and a new server message sync', { skip: OFFLINEIMAP ? false : 'offlineimap not installed' }, async (t) => {
  const tree = await makeMailTree('mimapd-oimap-');
  let server: RunningServer | undefined;
  let work: string | undefined;
  t.after(async () => {
    await server?.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  const md = tree.maildir('bob');
  const delivered = await seedSyncCorpus(md, FIXTURE, 'S');

  work = await fs.mkdtemp(path.join(os.tmpdir(), 'offlineimap-'));
  server = await startServer(tree);
  const port = server.port;
  const local = path.join(work, 'Mail');
  const meta = path.join(work, 'meta');
  await fs.mkdir(local);
  await fs.mkdir(meta);
  const conf = path.join(work, 'offlineimaprc');
  await fs.writeFile(
    conf,
    [
      '[general]',
      'accounts = test',
      `metadata = ${meta}`,
      '',
      '[Account test]',
      'localrepository = Local',
      'remoterepository = Remote',
      '',
      '[Repository Local]',
      'type = Maildir',
      `localfolders = ${local}`,
      '',
      '[Repository Remote]',
      'type = IMAP',
      'remotehost = 127.0.0.1',
      `remoteport = ${port}`,
      'remoteuser = bob',
      'remotepass = bob-pass',
      'ssl = no',
      'starttls = no',
      '',
    ].join('\n'),
  );

  // ---- 1. The pull.
  await offlineimap(conf, work);
  assert.deepEqual(await localFolders(local), ['Archive', 'Archive.2024', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash'], 'local folders are named as on the server');
  for (const folder of ['INBOX', 'Sent', 'Archive.2024']) {
    const remote = await serverFolder(port, folder);
    const localMsgs = await readLocalFolder(path.join(local, folder));
    assert.equal(remote.length, delivered.get(folder)!.size, `${folder}: server count`);
    assert.equal(localMsgs.length, remote.length, `${folder}: local count`);
    const bySubj = bySubject(localMsgs, (m) => m.content);
    for (const [subject, r] of bySubject(remote, (m) => m.body)) {
      const onDisk = delivered.get(folder)!.get(subject)!;
      assert.ok(r.body.equals(Buffer.from(onDisk.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')), `${folder}/${subject}: BODY[] is the delivered file in CRLF`);
      const l = bySubj.get(subject);
      assert.ok(l, `${folder}/${subject}: pulled`);
      assert.ok(l.content.equals(toLf(r.body)), `${folder}/${subject}: local file is BODY[] with CRLF→LF, byte for byte`);
      assert.equal(l.flags, maildirLetters(r.flags), `${folder}/${subject}: flags`);
    }
  }
  assert.equal(bySubject(await readLocalFolder(path.join(local, 'Archive.2024')), (m) => m.content).get('archived seen')!.flags, 'RS');

  // ---- 2. Flags change on the server (and one locally); a message arrives on the server.
  const uidOf = async (folder: string, subject: string) => bySubject(await serverFolder(port, folder), (m) => m.body).get(subject)!.uid;
  const plainUid = await uidOf('INBOX', 'inbox plain');
  const seenUid = await uidOf('Archive.2024', 'archived seen');
  const appended = Buffer.from('From: g@example.org\r\nSubject: appended later\r\n\r\narrived between the runs\r\n');
  await withImap(port, async (c) => {
    let lock = await c.getMailboxLock('INBOX');
    try {
      assert.equal(await c.messageFlagsAdd(String(plainUid), ['\\Flagged', '\\Seen'], { uid: true }), true);
    } finally {
      lock.release();
    }
    lock = await c.getMailboxLock('Archive.2024');
    try {
      assert.equal(await c.messageFlagsRemove(String(seenUid), ['\\Seen'], { uid: true }), true);
    } finally {
      lock.release();
    }
    assert.ok(await c.append('Sent', appended, ['\\Draft']));
  });
  // Locally, "sent two" is read: a MUA renames it into cur/ with :2,S.
  const sentTwo = bySubject(await readLocalFolder(path.join(local, 'Sent')), (m) => m.content).get('sent two')!;
  const base = path.basename(sentTwo.file).replace(/:2,[A-Za-z]*$/, '');
  await fs.rename(sentTwo.file, path.join(local, 'Sent', 'cur', `${base}:2,S`));

  // ---- 3. The second run.
  await offlineimap(conf, work);
  const inbox = bySubject(await readLocalFolder(path.join(local, 'INBOX')), (m) => m.content);
  assert.equal(inbox.get('inbox plain')!.flags, 'FS', 'server +\\Flagged \\Seen reached the local file name');
  assert.equal(inbox.get('inbox plain')!.sub, 'cur');
  const archive = bySubject(await readLocalFolder(path.join(local, 'Archive.2024')), (m) => m.content);
  assert.equal(archive.get('archived seen')!.flags, 'R', 'server -\\Seen reached the local file name');
  const sentServer = bySubject(await serverFolder(port, 'Sent'), (m) => m.body);
  assert.deepEqual(sentServer.get('sent two')!.flags, ['\\Seen'], 'local :2,S reached the server');
  const sentLocal = bySubject(await readLocalFolder(path.join(local, 'Sent')), (m) => m.content);
  assert.deepEqual([...sentLocal.keys()].sort(), ['appended later', 'sent one', 'sent two']);
  assert.ok(sentLocal.get('appended later')!.content.equals(toLf(appended)), 'the message appended on the server arrived byte-exact');
  assert.equal(sentLocal.get('appended later')!.flags, 'D');
  assert.equal(sentServer.size, 3, 'nothing was uploaded back as a duplicate');
});
