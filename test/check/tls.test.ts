import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { checkTls } from '../../src/check/tls.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'check-tls-'));
function selfSigned(name: string, days: number): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', String(days), '-subj', `/CN=${name}.example.org`], { stdio: 'ignore' });
  return { cert, key };
}
const a = selfSigned('a', 30);
const b = selfSigned('b', 30);
const read = (p: string) => ({ path: p, text: readFileSync(p, 'utf8') });
const validTo = new Date(new X509Certificate(readFileSync(a.cert)).validTo);

test.after(() => fs.rm(dir, { recursive: true, force: true }));

test('TLS: matching, valid cert and key pass', () => {
  const res = checkTls(read(a.cert), read(a.key), new Date(), 'vmail');
  assert.deepEqual(res.problems, []);
  assert.match(res.passed[0], /^certificate .*a\.crt \(CN=a\.example\.org\) matches its key, valid for (29|30) more days$/);
});

test('TLS: key of another certificate, unreadable and garbage files', () => {
  const res = checkTls(read(a.cert), read(b.key), new Date(), 'vmail');
  assert.deepEqual(res.problems.map((p) => p.message), [`tls.key ${b.key} does not belong to the certificate in ${a.cert}`]);
  const res2 = checkTls({ path: '/nope.crt', error: 'ENOENT' }, { path: a.cert, text: readFileSync(a.cert, 'utf8') }, new Date(), 'vmail');
  assert.deepEqual(res2.problems.map((p) => p.message.replace(/: not a PEM private key: .*/, ': not a PEM private key')), ['tls.cert /nope.crt: cannot read: ENOENT', `tls.key ${a.cert}: not a PEM private key`]);
  assert.match(res2.problems[0].fix, /setfacl -m u:vmail:r \/nope\.crt/);
});

test('TLS: warns under 14 days, error once expired', () => {
  const soon = checkTls(read(a.cert), read(a.key), new Date(validTo.getTime() - 5 * 86_400_000 - 1000), 'vmail');
  assert.deepEqual(soon.problems.map((p) => [p.severity, p.message]), [['warn', `tls.cert ${a.cert} expires in 5 days (${validTo.toISOString()})`]]);
  const late = checkTls(read(a.cert), read(a.key), new Date(validTo.getTime() + 1000), 'vmail');
  assert.deepEqual(late.problems.map((p) => [p.severity, p.message]), [['error', `tls.cert ${a.cert} (CN=a.example.org) expired on ${validTo.toISOString()}`]]);
  assert.match(late.problems[0].fix, /certbot renew/);
});
