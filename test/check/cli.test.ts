// Runs the real `maildir-imapd check` on a broken setup and reads its report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');
const hasPostconf = spawnSync('postconf', ['-h', 'mail_version']).error === undefined;
const root = process.getuid!() === 0;

test('check on a broken setup: every problem with its fix, exit 1; fixed: all good, exit 0', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'check-cli-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const key = (n: string) => execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, `${n}.key`), '-out', path.join(dir, `${n}.crt`), '-days', '90', '-subj', `/CN=${n}`], { stdio: 'ignore' });
  key('one');
  key('two');
  await fs.writeFile(path.join(dir, 'users'), 'bob:{PLAIN}bob-pass\nalice:{MD5-CRYPT}$1$x$y\nnocolon\n');
  for (const s of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, 'mail', 'bob', 'Maildir', s), { recursive: true });
  // A private Postfix config like /work/shared/peers/postfix-up.sh writes: bob is delivered elsewhere.
  const pf = path.join(dir, 'pf');
  await fs.mkdir(pf);
  await fs.writeFile(path.join(pf, 'vmailbox'), 'bob@localdomain elsewhere/bob/\n');
  await fs.writeFile(path.join(pf, 'master.cf'), '');
  const uid = root ? 65534 : process.getuid!();
  await fs.writeFile(path.join(pf, 'main.cf'), `compatibility_level = 3.6\nvirtual_mailbox_domains = localdomain\nvirtual_mailbox_base = ${path.join(dir, 'mail')}\nvirtual_mailbox_maps = texthash:${pf}/vmailbox\nvirtual_uid_maps = static:${uid}\nvirtual_gid_maps = static:${uid}\n`);
  const config = path.join(dir, 'config.toml');
  await fs.writeFile(config, `[imap]\nlisten = "127.0.0.1:10143"\n[tls]\ncert = "${dir}/one.crt"\nkey = "${dir}/two.key"\n[auth]\nusers = "${dir}/users"\n[mail]\nmaildir = "${dir}/mail/%n/Maildir"\n`);
  const userArgs = root ? ['--user', 'nobody'] : [];
  if (root) await fs.chmod(dir, 0o711);
  const run = (...extra: string[]) => spawnSync(process.execPath, [CLI, 'check', '--config', config, ...userArgs, '--postconf-dir', pf, ...extra], { encoding: 'utf8' });

  const r = run();
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const out = r.stdout;
  assert.match(out, new RegExp(`^ERROR  users .*users:3: expected name:\\{SCHEME\\}password\\n {7}fix: {6}write the line as`, 'm'));
  assert.match(out, /^ERROR  users .*users:2: password scheme \{MD5-CRYPT\} is not supported, so this user cannot log in$/m);
  assert.match(out, new RegExp(`^ERROR  maildirs  user alice: Maildir ${dir}/mail/alice/Maildir does not exist$`, 'm'));
  assert.match(out, new RegExp(`^ERROR  tls       tls.key ${dir}/two.key does not belong to the certificate in ${dir}/one.crt$`, 'm'));
  if (root) assert.match(out, new RegExp(`^ERROR  maildirs  user bob: ${dir}/mail/bob/Maildir belongs to uid 0, not to nobody \\(uid 65534\\) who serves the mail\\n {7}fix: {6}chown -R nobody: `, 'm'));
  if (hasPostconf) {
    assert.match(out, new RegExp(`^ERROR  postfix   user bob: Postfix delivers bob@localdomain into ${dir}/mail/elsewhere/bob/ .*but maildir-imapd serves ${dir}/mail/bob/Maildir$`, 'm'));
    assert.match(out, /^ERROR  postfix   user alice: Postfix \S+ has no virtual_mailbox_maps entry for alice@localdomain/m);
  }
  assert.match(out, /\n\d+ problems \(\d+ errors, 0 warnings\): fix them as shown, then run maildir-imapd check again\.\n$/);

  // Fix everything; check says so and exits 0.
  await fs.writeFile(path.join(dir, 'users'), 'bob:{PLAIN}bob-pass\n');
  await fs.writeFile(path.join(pf, 'vmailbox'), 'bob@localdomain bob/Maildir/\n');
  await fs.writeFile(config, (await fs.readFile(config, 'utf8')).replace('two.key', 'one.key'));
  if (root) execFileSync('chown', ['-R', 'nobody:', path.join(dir, 'mail')]);
  const ok = run();
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /\nAll good: \d+ checks passed\. /);
  if (hasPostconf) assert.match(ok.stdout, /^ok     postfix   Postfix \S+ \(virtual\) delivers into the Maildirs we serve for 1 user$/m);

  // A config that does not load stops there.
  const bad = spawnSync(process.execPath, [CLI, 'check', '--config', path.join(dir, 'nope.toml')], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /^ERROR  config    cannot read config file .*nope\.toml/m);
});
