import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressesFor, checkPostfix, parsePostconf, type PostfixInput } from '../../src/check/postfix.js';
import type { UserEntry } from '../../src/auth/passwd-file.js';

const user = (name: string, home: string | null = null): UserEntry => ({ name, scheme: 'PLAIN', secret: 'x', uid: null, gid: null, home, quota: {} });
const service = { name: 'vmail', uid: 999, gid: 995 };

// What `postconf -x mail_version virtual_mailbox_domains …` prints for a postfix-up.sh style instance.
const VIRTUAL = `mail_version = 3.7.11
virtual_mailbox_domains = localdomain
virtual_mailbox_base = /srv/mail
virtual_mailbox_maps = texthash:/srv/pf/vmailbox
virtual_uid_maps = static:999
virtual_gid_maps = static:995
home_mailbox =
mailbox_command =
mailbox_transport =
`;

function input(over: Partial<PostfixInput>): PostfixInput {
  return { params: parsePostconf(VIRTUAL), users: [user('bob'), user('alice')], template: '/srv/mail/%n/Maildir', mapEntries: new Map(), systemHomes: new Map(), service, postconfCmd: 'postconf', ...over };
}

test('parsePostconf and the addresses of a user', () => {
  const p = parsePostconf(VIRTUAL);
  assert.equal(p.virtual_mailbox_base, '/srv/mail');
  assert.equal(p.home_mailbox, '');
  assert.deepEqual(addressesFor(user('bob'), p), ['bob@localdomain']);
  assert.deepEqual(addressesFor(user('bob@example.org'), p), ['bob@example.org']);
});

test('virtual: base + map entry is our Maildir → passes', () => {
  const res = checkPostfix(input({ mapEntries: new Map([['bob@localdomain', 'bob/Maildir/'], ['alice@localdomain', 'alice/Maildir/']]) }));
  assert.deepEqual(res.problems, []);
  assert.deepEqual(res.passed, ['Postfix 3.7.11 (virtual) delivers into the Maildirs we serve for 2 users']);
});

test('virtual: other directory, mbox entry, missing entry, other uid', () => {
  const params = parsePostconf(VIRTUAL.replace('static:999', 'static:5000'));
  const res = checkPostfix(input({ params, users: [user('bob'), user('alice'), user('carol')], mapEntries: new Map([['bob@localdomain', 'vhosts/bob/'], ['alice@localdomain', 'alice/mbox'], ['carol@localdomain', null]]) }));
  assert.deepEqual(
    res.problems.map((p) => p.message),
    [
      'user bob: Postfix delivers bob@localdomain into /srv/mail/vhosts/bob/ (virtual_mailbox_base /srv/mail + "vhosts/bob/"), but maildir-imapd serves /srv/mail/bob/Maildir',
      'user alice: texthash:/srv/pf/vmailbox maps alice@localdomain to "alice/mbox", which has no trailing slash: Postfix delivers mbox there, not Maildir',
      'user carol: Postfix 3.7.11 has no virtual_mailbox_maps entry for carol@localdomain: mail to them is rejected ("User unknown in virtual mailbox table")',
      'Postfix writes mail as uid 5000 (virtual_uid_maps) but maildir-imapd serves as vmail (uid 999): new mail would not be writable by us',
    ],
  );
  assert.equal(res.problems[0].fix, 'make mail.maildir resolve to the same place (e.g. mail.maildir = "/srv/mail/vhosts/%u"), or fix the map entry');
  assert.equal(res.problems[2].fix, 'add "carol@localdomain carol/Maildir/" to /srv/pf/vmailbox; then postfix reload');
});

test('local: home_mailbox = Maildir/ with the ~ template; mbox default is an error', () => {
  const params = parsePostconf('mail_version = 3.7.11\nvirtual_mailbox_domains =\nvirtual_mailbox_maps =\nhome_mailbox = Maildir/\n');
  const users = [user('bob', '/home/bob'), user('alice', '/home/alice')];
  const ok = checkPostfix(input({ params, users, template: '~/Maildir', systemHomes: new Map([['bob', '/home/bob'], ['alice', '/home/alice']]) }));
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.passed, ['Postfix 3.7.11 (local, home_mailbox = Maildir/) delivers into the Maildirs we serve for 2 users']);
  const bad = checkPostfix(input({ params: { ...params, home_mailbox: 'Mail/' }, users, template: '~/Maildir', systemHomes: new Map([['bob', '/home/bob']]) }));
  assert.deepEqual(bad.problems.map((p) => p.message), [
    'user bob: Postfix delivers into /home/bob/Mail/ (home /home/bob + home_mailbox Mail/), but maildir-imapd serves /home/bob/Maildir',
    "user alice: no system account alice, so Postfix's local(8) (home_mailbox) cannot deliver to them",
  ]);
  const mbox = checkPostfix(input({ params: parsePostconf('mail_version = 3.7.11\nhome_mailbox =\n'), postconfCmd: 'postconf -c /x' }));
  assert.equal(mbox.problems[0].message, 'Postfix 3.7.11 delivers to mbox files in /var/mail (no virtual_mailbox_maps, no home_mailbox), not into Maildirs');
  assert.match(mbox.problems[0].fix, /^postconf -c \/x -e home_mailbox=Maildir\//);
});

test('virtual over LMTP: the map only has to know the address (its paths and uid are not what writes the files)', () => {
  const params = parsePostconf(VIRTUAL.replace('static:999', 'static:5000') + 'virtual_transport = lmtp:inet:127.0.0.1:24\n');
  const res = checkPostfix(input({ params, users: [user('bob'), user('carol')], mapEntries: new Map([['bob@localdomain', 'vhosts/bob/'], ['carol@localdomain', null]]) }));
  assert.deepEqual(
    res.problems.map((p) => p.message),
    ['user carol: Postfix 3.7.11 has no virtual_mailbox_maps entry for carol@localdomain: mail to them is rejected ("User unknown in virtual mailbox table")'],
  );
  assert.deepEqual(res.passed, ['Postfix 3.7.11 knows the addresses of 1 user (delivery over LMTP: see the wiring check)']);
});
