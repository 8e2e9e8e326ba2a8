import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupUser, resolveServiceIdentity } from '../../src/privileges.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nvmail:x:999:995::/var/mail:/usr/sbin/nologin\n';
const GROUP = 'root:x:0:\nvmail:x:995:\nmail:x:8:\n';

test('service identity: names resolve from passwd/group text; root and unknown names are refused naming the key', () => {
  assert.deepEqual(lookupUser('999', PASSWD), { name: 'vmail', uid: 999, gid: 995, home: '/var/mail' });
  assert.deepEqual(resolveServiceIdentity({ user: 'vmail', group: null, source: 'c.toml' }, PASSWD, GROUP), { uid: 999, gid: 995, user: 'vmail', group: 'vmail' });
  assert.equal(resolveServiceIdentity({ user: 'vmail', group: 'mail', source: 'c.toml' }, PASSWD, GROUP).gid, 8);
  assert.throws(() => resolveServiceIdentity({ user: null, group: null, source: 'c.toml' }, PASSWD, GROUP), /c\.toml: service\.user is not set/);
  assert.throws(() => resolveServiceIdentity({ user: 'root', group: null, source: 'c.toml' }, PASSWD, GROUP), /service\.user = "root" is root; mail is never served as root/);
  assert.throws(() => resolveServiceIdentity({ user: 'nobody2', group: null, source: 'c.toml' }, PASSWD, GROUP), /service\.user = "nobody2": no such user/);
  assert.throws(() => resolveServiceIdentity({ user: 'vmail', group: 'wheel9', source: 'c.toml' }, PASSWD, GROUP), /service\.group = "wheel9": no such group/);
});
