// A real Postfix asks our quota policy service at RCPT time
// (`smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:PORT`,
// as the Dovecot guides wire quota-status): once bob's mailbox is full, or
// would be with the SIZE= the client announced, his RCPT is refused with
// 552 5.2.2 before the message is taken; alice (room left) and a recipient
// we do not know (DUNNO: Postfix decides) are accepted in the same session.
// Delivery itself is over our LMTP, which enforces the same quota.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeMailTree, startServer, freePort } from '../support/server.js';
import { postfixAvailable, startPostfix, sendMail } from '../support/postfix.js';

/** One SMTP dialogue; returns the final reply line of each step (greeting first). */
function smtp(port: number, steps: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      const lines = buf.split('\r\n');
      const last = lines.length >= 2 ? lines[lines.length - 2] : '';
      if (!/^\d{3} /.test(last)) return;
      buf = '';
      replies.push(last);
      const next = steps[replies.length - 1];
      if (next === undefined) s.end();
      else s.write(next + '\r\n');
    });
    s.on('close', () => resolve(replies));
    s.on('error', reject);
    s.setTimeout(30_000, () => s.destroy(new Error('SMTP timed out')));
  });
}

test('Postfix check_policy_service: a full mailbox is refused at RCPT with 552 5.2.2, others accepted', { skip: !postfixAvailable() && !process.env.CI && 'needs root and Debian postfix (CI installs it)' }, async (t) => {
  const tree = await makeMailTree();
  // bob: 10 KiB; alice: no limit. (Extra fields after the shell field, as Dovecot's passwd-file.)
  await fs.writeFile(tree.usersFile, 'bob:{PLAIN}bob-pass::::::userdb_quota_rule=*:storage=10K\nalice:{PLAIN}alice-pass\n');
  const lmtpPort = await freePort();
  const policyPort = await freePort();
  const server = await startServer(tree, ['--lmtp-listen', `127.0.0.1:${lmtpPort}`, '--quota-status-listen', `127.0.0.1:${policyPort}`]);
  const postfix = await startPostfix({
    mailRoot: path.join(tree.dir, 'mail'),
    stateDir: path.join(tree.dir, 'postfix'),
    users: ['bob', 'alice', 'ghost'],
    virtualTransport: `lmtp:inet:127.0.0.1:${lmtpPort}`,
  });
  t.after(async () => {
    await postfix.stop();
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  await postfix.postconf({ smtpd_recipient_restrictions: `check_policy_service inet:127.0.0.1:${policyPort}` });
  const body = (n: number) => `From: carol@example.org\nTo: bob@localdomain\nSubject: ${n}\n\n${'x'.repeat(70)}\n`.repeat(1) + `${'y'.repeat(76)}\n`.repeat(50);

  // Room: two ~4 KB messages go through (policy DUNNO, LMTP 250).
  for (const n of [1, 2]) await sendMail(postfix.port, 'carol@example.org', 'bob@localdomain', body(n));
  const maildirsize = path.join(tree.maildir('bob'), 'maildirsize');
  const usage = async () => {
    const text = await fs.readFile(maildirsize, 'utf8').catch(() => '');
    return text.split('\n').slice(1).filter(Boolean).reduce((n, l) => n + Number(l.split(/\s+/)[0]), 0);
  };
  const until = Date.now() + 15_000;
  while ((await usage()) < 8000 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const used = await usage();
  assert.ok(used > 8000 && used < 10240, `bob uses ${used} of 10240 bytes`);

  // SIZE= announced: bob cannot take 4000 more bytes → refused at RCPT; alice can; ghost is Postfix's business.
  const withSize = await smtp(postfix.port, ['EHLO test.localhost', 'MAIL FROM:<carol@example.org> SIZE=4000', 'RCPT TO:<bob@localdomain>', 'RCPT TO:<alice@localdomain>', 'RCPT TO:<ghost@localdomain>', 'QUIT']);
  assert.match(withSize[3], /^552 5\.2\.2 <bob@localdomain>: Recipient address rejected: Mailbox full$/, withSize.join('\n'));
  assert.match(withSize[4], /^250 /, 'alice has no limit');
  assert.match(withSize[5], /^250 /, 'an unknown user is DUNNO: Postfix decides');
  // Without SIZE= bob is not full yet: accepted (the LMTP delivery then enforces the quota itself).
  const noSize = await smtp(postfix.port, ['EHLO test.localhost', 'MAIL FROM:<carol@example.org>', 'RCPT TO:<bob@localdomain>', 'QUIT']);
  assert.match(noSize[3], /^250 /, noSize.join('\n'));

  // Over the limit for good (mail put there by someone else, seen at the next recalculation): refused with any size.
  await fs.writeFile(maildirsize, `10240S\n${used + 5000} 3\n`);
  const full = await smtp(postfix.port, ['EHLO test.localhost', 'MAIL FROM:<carol@example.org>', 'RCPT TO:<bob@localdomain>', 'RCPT TO:<alice@localdomain>', 'QUIT']);
  assert.match(full[3], /^552 5\.2\.2 .*Mailbox full$/, full.join('\n'));
  assert.match(full[4], /^250 /);
  const log = await postfix.log();
  assert.match(log, /NOQUEUE: reject: RCPT from .*552 5\.2\.2 <bob@localdomain>: Recipient address rejected: Mailbox full/);
  assert.match(server.stdout(), /quota-status: mailbox full/);
});
