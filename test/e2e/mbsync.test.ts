// mbsync (isync) against the real server process: a full two-way sync of
// INBOX, Sent and Archive.2024 into a local Maildir, byte-exact; then flags,
// deletions, new messages and a new folder travelling both ways; then a third
// run that finds nothing left to do.
//
// What mbsync stores: the message as fetched with CRLF turned into LF, plus one
// `X-TUID: <12 chars>` header it inserts right before the blank line that ends
// the header (isync's copy_msg_convert does that for every message it copies,
// in both directions). So "byte-identical" here means: the local file is the
// server's BODY[] with CRLF → LF and that one line added, nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeMailTree, startServer, type MailTree, type RunningServer } from '../support/server.js';
import { findTool, runTool, readLocalFolder, localFolders, serverFolder, withImap, toLf, headerOf, maildirLetters, seedSyncCorpus, bySubject, type ToolRun, type LocalMessage, type ServerMessage } from '../support/sync-clients.js';

const MBSYNC = findTool('/usr/bin/mbsync', '/usr/local/bin/mbsync');
const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/seed-notify.eml');

/**
 * What mbsync writes when it copies `original` (either direction): the LF form
 * plus one X-TUID line before the header's end. `copy` is compared in LF form.
 */
function assertMbsyncCopy(copy: Buffer, original: Buffer, what: string): void {
  const lf = toLf(original).toString('latin1');
  const got = toLf(copy).toString('latin1');
  const tuid = /^X-TUID: ([A-Za-z0-9+/]{12})\n/m.exec(got);
  assert.ok(tuid, `${what}: mbsync's X-TUID header is missing`);
  const cut = lf.indexOf('\n\n');
  assert.ok(cut >= 0, `${what}: no header/body separator`);
  const expected = lf.slice(0, cut + 1) + `X-TUID: ${tuid[1]}\n` + lf.slice(cut + 1);
  assert.equal(got.length, expected.length, `${what}: length`);
  assert.ok(got === expected, `${what}: local copy differs from BODY[] (CRLF→LF, plus X-TUID)`);
}

interface Env {
  tree: MailTree;
  server: RunningServer;
  local: string;
  conf: string;
  /** The bytes delivered to the server, by folder and Subject. */
  delivered: Map<string, Map<string, Buffer>>;
}

async function setup(t: test.TestContext): Promise<Env> {
  const tree = await makeMailTree('mimapd-mbsync-');
  let server: RunningServer | undefined;
  let local: string | undefined;
  t.after(async () => {
    await server?.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
    if (local) await fs.rm(local, { recursive: true, force: true });
  });
  const md = tree.maildir('bob');
  // All delivered before the server starts (it then hands the tree to vmail when root).
  const delivered = await seedSyncCorpus(md, FIXTURE);

  local = await fs.mkdtemp(path.join(os.tmpdir(), 'mbsync-local-'));
  server = await startServer(tree);
  const conf = path.join(local, 'mbsyncrc');
  const mail = path.join(local, 'Mail');
  await fs.mkdir(mail);
  await fs.writeFile(
    conf,
    [
      'IMAPAccount test',
      'Host 127.0.0.1',
      `Port ${server.port}`,
      'User bob',
      'Pass bob-pass',
      'SSLType None',
      'AuthMechs LOGIN',
      '',
      'IMAPStore remote',
      'Account test',
      '',
      'MaildirStore local',
      `Path ${mail}/`,
      `Inbox ${mail}/INBOX`,
      'SubFolders Verbatim',
      '',
      'Channel test',
      'Far :remote:',
      'Near :local:',
      'Patterns *',
      'Create Both',
      'Expunge Both',
      'SyncState *',
      '',
    ].join('\n'),
  );
  return { tree, server, local: mail, conf, delivered };
}

async function mbsync(env: Env): Promise<ToolRun> {
  // -V: verbose, so a failure shows what mbsync saw; the password never appears (it logs "LOGIN <user> <pass>").
  const r = await runTool(MBSYNC!, ['-c', env.conf, '-V', '-a'], { timeoutMs: 60_000 });
  const out = `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  assert.equal(r.code, 0, `mbsync exited ${r.code}\n${out}`);
  // The only complaint expected: LOGIN without TLS (we asked for SSLType None).
  const complaints = r.stderr
    .split('\n')
    .filter((l) => /error|warning|unexpected|bad|fail/i.test(l))
    .filter((l) => !/Password is being sent in the clear/.test(l));
  assert.deepEqual(complaints, [], out);
  return r;
}

/** Local folder (mbsync's name, '/'-separated) for a server folder. */
const localName = (folder: string) => folder.replace(/\./g, '/');

test('mbsync: two-way sync of INBOX, Sent and Archive.2024 — byte-exact pull, then flags, deletions, uploads and a new folder both ways', { skip: MBSYNC ? false : 'mbsync (isync) not installed' }, async (t) => {
  const env = await setup(t);
  const { server } = env;
  const folders = ['INBOX', 'Sent', 'Archive.2024'];

  // ---- 1. The first sync pulls everything.
  await mbsync(env);
  assert.deepEqual(await localFolders(env.local), ['Archive', 'Archive/2024', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash'], 'every server folder (the auto-created special-use ones too) exists locally');
  for (const folder of folders) {
    const remote = await serverFolder(server.port, folder);
    const local = await readLocalFolder(path.join(env.local, localName(folder)));
    const delivered = env.delivered.get(folder)!;
    assert.equal(remote.length, delivered.size, `${folder}: server count`);
    assert.equal(local.length, remote.length, `${folder}: local count`);
    const localBySubject = bySubject(local, (m) => m.content);
    for (const [subject, r] of bySubject(remote, (m) => m.body)) {
      // The server sends exactly what was delivered, in CRLF form...
      const onDisk = delivered.get(subject)!;
      assert.ok(r.body.equals(Buffer.from(onDisk.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')), `${folder}/${subject}: BODY[] is the delivered file in CRLF`);
      // ...and mbsync stores that, LF, plus its X-TUID line.
      const l = localBySubject.get(subject);
      assert.ok(l, `${folder}/${subject}: pulled`);
      assertMbsyncCopy(l.content, r.body, `${folder}/${subject}`);
      assert.equal(l.flags, maildirLetters(r.flags), `${folder}/${subject}: flags`);
    }
  }
  const archived = bySubject(await readLocalFolder(path.join(env.local, 'Archive/2024')), (m) => m.content);
  assert.equal(archived.get('archived seen')!.flags, 'RS', 'server flags \\Answered \\Seen arrive as R and S');

  // ---- 2. Changes on both sides.
  const inboxLocal = bySubject(await readLocalFolder(path.join(env.local, 'INBOX')), (m) => m.content);
  // a. Local flags: read and flag "inbox plain" (a MUA moves it to cur/ with :2,FS).
  const plain = inboxLocal.get('inbox plain')!;
  const base = path.basename(plain.file).replace(/:2,[A-Za-z]*$/, '');
  await fs.rename(plain.file, path.join(env.local, 'INBOX', 'cur', `${base}:2,FS`));
  // b. Local deletion: remove "notify".
  await fs.unlink(inboxLocal.get('notify')!.file);
  // c. Local new message in Sent.
  const written = Buffer.from('From: bob@example.org\nTo: erin@example.org\nSubject: written locally\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n\nsaved by the MUA\n');
  await fs.writeFile(path.join(env.local, 'Sent', 'new', '1704189600.M1P1.laptop'), written);
  // d. Local new folder with one message.
  const projDir = path.join(env.local, 'Projects', '2025');
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(projDir, sub), { recursive: true });
  const projMsg = Buffer.from('From: bob@example.org\nSubject: project note\n\nplans\n');
  await fs.writeFile(path.join(projDir, 'cur', '1704189601.M2P1.laptop:2,S'), projMsg);
  // e. Server: expunge "inbox big"; flag "archived" \Flagged.
  const inboxRemote = bySubject(await serverFolder(server.port, 'INBOX'), (m) => m.body);
  const bigUid = inboxRemote.get('inbox big')!.uid;
  const archivedUid = bySubject(await serverFolder(server.port, 'Archive.2024'), (m) => m.body).get('archived')!.uid;
  await withImap(server.port, async (c) => {
    let lock = await c.getMailboxLock('INBOX');
    try {
      assert.equal(await c.messageDelete(String(bigUid), { uid: true }), true);
    } finally {
      lock.release();
    }
    lock = await c.getMailboxLock('Archive.2024');
    try {
      assert.equal(await c.messageFlagsAdd(String(archivedUid), ['\\Flagged'], { uid: true }), true);
    } finally {
      lock.release();
    }
  });

  // ---- 3. The second sync carries every change across.
  await mbsync(env);
  const inboxAfter = bySubject(await serverFolder(server.port, 'INBOX'), (m) => m.body);
  assert.deepEqual([...inboxAfter.keys()].sort(), ['inbox crlf on disk', 'inbox plain'], 'server INBOX: "notify" deleted locally is expunged, "inbox big" stays expunged');
  assert.deepEqual(inboxAfter.get('inbox plain')!.flags, ['\\Flagged', '\\Seen'], 'local :2,FS reached the server');
  const localInbox = bySubject(await readLocalFolder(path.join(env.local, 'INBOX')), (m) => m.content);
  assert.deepEqual([...localInbox.keys()].sort(), ['inbox crlf on disk', 'inbox plain'], 'the server-side expunge removed the local copy');

  const archivedLocal = bySubject(await readLocalFolder(path.join(env.local, 'Archive/2024')), (m) => m.content);
  assert.equal(archivedLocal.get('archived')!.flags, 'F', 'server \\Flagged reached the local file name');

  const sentRemote = bySubject(await serverFolder(server.port, 'Sent'), (m) => m.body);
  assert.deepEqual([...sentRemote.keys()].sort(), ['sent one', 'sent two', 'written locally']);
  const sentLocal = bySubject(await readLocalFolder(path.join(env.local, 'Sent')), (m) => m.content);
  const up = sentRemote.get('written locally')!;
  // mbsync APPENDs the local file in CRLF with its X-TUID line added (the local file keeps none); the server keeps exactly that.
  assert.ok(sentLocal.get('written locally')!.content.equals(written), 'the local original is untouched');
  assertMbsyncCopy(up.body, written, 'uploaded Sent/written locally (server side)');

  const proj = await serverFolder(server.port, 'Projects.2025');
  assert.equal(proj.length, 1, 'the new local folder was created on the server with its message');
  assertMbsyncCopy(proj[0].body, projMsg, 'uploaded Projects/2025/project note (server side)');
  assert.deepEqual(proj[0].flags, ['\\Seen']);

  // ---- 4. A third sync has nothing to do: no duplicates, nothing lost.
  const snapshot = async () => {
    const out: Record<string, { server: string[]; local: string[] }> = {};
    for (const f of [...folders, 'Projects.2025']) {
      const remote: ServerMessage[] = await serverFolder(server.port, f);
      const local: LocalMessage[] = await readLocalFolder(path.join(env.local, localName(f)));
      out[f] = {
        server: remote.map((m) => `${headerOf(m.body, 'Subject')} ${m.flags.join(' ')}`).sort(),
        local: local.map((m) => `${headerOf(m.content, 'Subject')} ${m.flags}`).sort(),
      };
    }
    return out;
  };
  const before = await snapshot();
  for (const f of Object.keys(before)) assert.equal(before[f].server.length, before[f].local.length, `${f}: both sides hold the same messages`);
  await mbsync(env);
  assert.deepEqual(await snapshot(), before, 'a sync with no changes changes nothing');
});
