// The admin requests on the in-memory store: the request parser refuses bad
// lines with a reason; who/kick work on the sessions given; expunge tells
// the folder's listeners; quota and reindex answer; store refusals become
// AdminErrors (the operator's answer, not a server fault).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdminError, parseRequest } from '../../src/admin/protocol.js';
import { runAdmin, type AdminDeps, type AdminSession } from '../../src/admin/actions.js';
import { formatResult } from '../../src/admin/format.js';
import type { UserEntry } from '../../src/auth/passwd-file.js';
import { DEFAULT_SPECIAL_USE, type MailboxListener } from '../../src/mail/api.js';
import { MemoryMail } from '../support/memory-store.js';

const bob: UserEntry = { name: 'bob', scheme: 'PLAIN', secret: 'x', uid: null, gid: null, home: null, quota: {} };

function deps(sessions: AdminSession[] | null): { deps: AdminDeps; mail: MemoryMail } {
  const mail = new MemoryMail({ specialUse: DEFAULT_SPECIAL_USE, createSpecialFolders: true });
  return {
    mail,
    deps: {
      lookup: (n) => (n === 'bob' ? bob : undefined),
      storeOf: () => mail.userStore('/m/bob', { storage: 1000, messages: null }),
      sessions: sessions ? () => sessions : null,
      batch: 2,
    },
  };
}

test('parseRequest: every command and its arguments checked; anything else is an AdminError with the reason', () => {
  assert.deepEqual(parseRequest('{"cmd":"expunge","user":"bob","folder":"Trash","beforeMs":5,"dryRun":true}'), { cmd: 'expunge', user: 'bob', folder: 'Trash', beforeMs: 5, dryRun: true });
  assert.deepEqual(parseRequest('{"cmd":"reindex","user":"bob"}'), { cmd: 'reindex', user: 'bob', folder: null });
  const bad: Array<[string, RegExp]> = [
    ['nonsense', /not a JSON object/],
    ['[1]', /not a JSON object/],
    ['{"cmd":"kick"}', /user must be a non-empty string/],
    ['{"cmd":"expunge","user":"bob","folder":"T","beforeMs":"x"}', /beforeMs must be a number/],
    ['{"cmd":"rm -rf"}', /unknown command/],
  ];
  for (const [line, re] of bad) assert.throws(() => parseRequest(line), (err: Error) => err instanceof AdminError && re.test(err.message), line);
});

test('who lists sessions (user, IP, folder, IDLE); kick says BYE to the user\'s sessions only', async () => {
  const byes: string[] = [];
  const session = (id: string, user: UserEntry | null, folder: string | null, idling: boolean): AdminSession => ({
    id,
    user,
    remoteAddress: '192.0.2.7',
    since: Date.UTC(2026, 0, 1),
    loggedInAt: user ? Date.UTC(2026, 0, 1, 0, 0, 5) : null,
    idling,
    view: folder ? { mailbox: { name: folder } } : null,
    bye: (reason) => byes.push(`${id}: ${reason}`),
  });
  const { deps: d } = deps([session('c1', bob, 'Trash', true), session('c2', null, null, false)]);
  const who = await runAdmin({ cmd: 'who' }, d);
  const lines = formatResult('who', who).split('\n');
  assert.deepEqual(lines.map((l) => l.split(/\s{2,}/)), [
    ['USER', 'IP', 'SINCE', 'FOLDER', 'IDLE'],
    ['bob', '192.0.2.7', '2026-01-01T00:00:05.000Z', 'Trash', 'yes'],
    ['(not logged in)', '192.0.2.7', '2026-01-01T00:00:00.000Z', '-', 'no'],
    [''],
  ]);
  assert.deepEqual(await runAdmin({ cmd: 'kick', user: 'bob' }, d), { user: 'bob', kicked: 1 });
  assert.deepEqual(byes, ['c1: Disconnected by the administrator']);
  await assert.rejects(runAdmin({ cmd: 'kick', user: 'eve' }, d), /no user eve in the users file/);
  const { deps: offline } = deps(null);
  await assert.rejects(runAdmin({ cmd: 'who' }, offline), /no running server/);
});

test('expunge: a dry run lists, the real one removes and the folder\'s sessions hear it; no such folder is an AdminError', async () => {
  const { deps: d, mail } = deps(null);
  const trash = (await mail.userStore('/m/bob').mailbox('Trash'))!;
  for (const s of ['a', 'b', 'c']) trash.add(`Subject: ${s}\n\nx\n`);
  trash.age(1, 10_000);
  trash.age(2, 10_000);
  const heard: number[] = [];
  await trash.attach({ readOnly: false, init() {}, onAdded() {}, onExpunged: (m) => heard.push(...m.map((x) => x.uid)), onFlags() {}, claimRecent() {}, onRenumbered() {} } satisfies MailboxListener);
  const before = Date.now() - 5_000;
  const dry = (await runAdmin({ cmd: 'expunge', user: 'bob', folder: 'Trash', beforeMs: before, dryRun: true }, d)) as { expunged: number; listed: Array<{ uid: number }> };
  assert.deepEqual([dry.expunged, dry.listed.map((l) => l.uid), trash.count], [2, [1, 2], 3]);
  const real = (await runAdmin({ cmd: 'expunge', user: 'bob', folder: 'Trash', beforeMs: before, dryRun: false }, d)) as { expunged: number; examined: number };
  assert.deepEqual([real.examined, real.expunged, trash.count, heard], [3, 2, 1, [1, 2]]);
  await assert.rejects(runAdmin({ cmd: 'expunge', user: 'bob', folder: 'Nope', beforeMs: before, dryRun: false }, d), (err: Error) => err instanceof AdminError && /bob has no folder Nope/.test(err.message));
});

test('quota reports usage against the limits; reindex names each folder, or refuses one that does not exist', async () => {
  const { deps: d, mail } = deps(null);
  const inbox = (await mail.userStore('/m/bob').mailbox('INBOX'))!;
  inbox.add('Subject: q\n\n12345\n');
  const q = await runAdmin({ cmd: 'quota', user: 'bob', recalc: false }, d);
  assert.deepEqual(q, { user: 'bob', storageLimit: 1000, messageLimit: null, bytes: 21, messages: 1, tracked: true });
  assert.equal(formatResult('quota', q), 'bob: storage 21 bytes of 1000 bytes (2%), messages 1 of no limit\n');
  const r = (await runAdmin({ cmd: 'reindex', user: 'bob', folder: null }, d)) as { folders: Array<{ folder: string; messages: number }> };
  assert.deepEqual(r.folders[0], { folder: 'INBOX', messages: 1 });
  await assert.rejects(runAdmin({ cmd: 'reindex', user: 'bob', folder: 'Nope' }, d), (err: Error) => err instanceof AdminError && /Nope/.test(err.message));
});
