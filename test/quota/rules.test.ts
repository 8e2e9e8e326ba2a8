// Quota limits as Dovecot's passwd-file and config spell them, and our config keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseQuotaRule, parseQuotaSize, QuotaRuleError } from '../../src/auth/quota-rules.js';
import { parseUsersFile, UsersFileError } from '../../src/auth/passwd-file.js';
import { ConfigError, loadConfig } from '../../src/config.js';

test('sizes: B/K/M/G/T are powers of 1024, only the first letter counts, a bare storage= number is KiB (Dovecot)', () => {
  assert.equal(parseQuotaSize('1G'), 1024 ** 3);
  assert.equal(parseQuotaSize('1g'), 1024 ** 3);
  assert.equal(parseQuotaSize('1GB'), 1024 ** 3);
  assert.equal(parseQuotaSize('10K'), 10240);
  assert.equal(parseQuotaSize('3M'), 3 * 1024 ** 2);
  assert.equal(parseQuotaSize('2T'), 2 * 1024 ** 4);
  assert.equal(parseQuotaSize('100B', 1024), 100);
  assert.equal(parseQuotaSize('100', 1024), 102400, 'storage=100 is 100 KiB');
  assert.equal(parseQuotaSize('100', 1), 100, 'bytes=100 is 100 bytes');
  for (const bad of ['', 'G', '1X', '-5M', '1.5G', '10%']) assert.throws(() => parseQuotaSize(bad), QuotaRuleError, bad);
});

test('rules: *:storage=, *:bytes=, *:messages=, several limits in one rule, 0 is no limit, folder rules left out', () => {
  assert.deepEqual(parseQuotaRule('*:storage=1G'), { storage: 1024 ** 3 });
  assert.deepEqual(parseQuotaRule('*:storage=10240'), { storage: 10240 * 1024 });
  assert.deepEqual(parseQuotaRule('*:bytes=5000'), { storage: 5000 });
  assert.deepEqual(parseQuotaRule('*:messages=1000'), { messages: 1000 });
  assert.deepEqual(parseQuotaRule('*:storage=500M:messages=20'), { storage: 500 * 1024 ** 2, messages: 20 });
  assert.deepEqual(parseQuotaRule('*:storage=0'), { storage: null });
  assert.deepEqual(parseQuotaRule('?:storage=1M'), { storage: 1024 ** 2 });
  assert.equal(parseQuotaRule('Trash:storage=+100M'), null);
  assert.equal(parseQuotaRule('*:backend=1000S'), null);
  for (const bad of ['storage=1G', '*:size=1G', '*:storage=lots', '*:messages=1K', '*:']) assert.throws(() => parseQuotaRule(bad), QuotaRuleError, bad);
});

test('users file: userdb_quota_rule / quota_rule extra fields after the shell field; a bad rule names its line', () => {
  const users = parseUsersFile(
    [
      'bob:{PLAIN}x:1000:1000::/home/bob::userdb_quota_rule=*:storage=10K userdb_quota_rule2=*:messages=3',
      'alice:{PLAIN}x::::::quota_rule=*:storage=1G userdb_mail=maildir:~/M',
      'carol:{PLAIN}x',
      'dave:{PLAIN}x::::::userdb_quota_rule=*:storage=1G userdb_quota_rule2=Trash:storage=+100M',
      'erin:{PLAIN}x::::::userdb_quota_rule=*:storage=0',
    ].join('\n'),
    'users',
  );
  assert.deepEqual(users.get('bob')!.quota, { storage: 10240, messages: 3 });
  assert.equal(users.get('bob')!.home, '/home/bob');
  assert.deepEqual(users.get('alice')!.quota, { storage: 1024 ** 3 });
  assert.deepEqual(users.get('carol')!.quota, {});
  assert.deepEqual(users.get('dave')!.quota, { storage: 1024 ** 3 }, 'a folder rule is left out');
  assert.deepEqual(users.get('erin')!.quota, { storage: null }, 'storage=0: no limit, whatever the default');
  assert.throws(() => parseUsersFile('a:{PLAIN}x\nbob:{PLAIN}x::::::userdb_quota_rule=*:storage=much', 'users'), (err: Error) => err instanceof UsersFileError && /users:2: .*much/.test(err.message));
});

test('config: [quota] default_storage / default_messages and [quota_status] keys', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-quota-cfg-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config.toml');
  await fs.writeFile(
    file,
    '[imap]\nlisten = "127.0.0.1:143"\n[auth]\nusers = "/u"\n[mail]\nmaildir = "/m/%u"\n[quota]\ndefault_storage = "2G"\ndefault_messages = 5000\n[quota_status]\nlisten = ["127.0.0.1:10993", "unix:/run/q.sock"]\noverquota = "552 5.2.2 Over quota"\n',
  );
  const cfg = await loadConfig({}, file);
  assert.equal(cfg.quotaDefaultStorage, 2 * 1024 ** 3);
  assert.equal(cfg.quotaDefaultMessages, 5000);
  assert.deepEqual(cfg.quotaStatusListen, ['127.0.0.1:10993', 'unix:/run/q.sock']);
  assert.equal(cfg.quotaStatusOverquota, '552 5.2.2 Over quota');
  const base = { listen: ['127.0.0.1:143'], users: '/u', maildir: '/m' };
  assert.equal((await loadConfig(base, null)).quotaDefaultStorage, null, 'no default: unlimited');
  assert.equal((await loadConfig({ ...base, 'quota-default-storage': '1024' }, null)).quotaDefaultStorage, 1024 * 1024, 'a bare number is KiB');
  assert.equal((await loadConfig({ ...base, 'quota-default-storage': '0' }, null)).quotaDefaultStorage, null);
  await assert.rejects(loadConfig({ ...base, 'quota-default-storage': '1Q' }, null), (err: Error) => err instanceof ConfigError && /--quota-default-storage must be a size/.test(err.message));
  await assert.rejects(loadConfig({ ...base, 'quota-status-listen': ['nowhere'] }, null), ConfigError);
  await assert.rejects(loadConfig({ ...base, 'quota-status-overquota': 'bad\naction' }, null), ConfigError);
});
