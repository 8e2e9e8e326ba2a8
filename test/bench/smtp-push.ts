// The chain a user feels: SMTP "250" after DATA → Postfix virtual(8) writes
// the file → "* N EXISTS" at a client idling over implicit TLS; then the
// same with Postfix handing the message to our LMTP (virtual_transport =
// lmtp:inet:…), where the push does not wait for a file event. Postfix is
// a private instance (test/support/postfix.ts); Dovecot, when measured,
// runs the same chain over plain IMAP (its TLS would only add cost).
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer, freePort } from '../support/server.js';
import { startPostfix, sendMail, postfixAvailable } from '../support/postfix.js';
import { IdleClient } from './idle-client.js';
import { summarize, type Summary } from './stats.js';

export interface ChainResult {
  server: string;
  transport: string;
  summary: Summary;
  misses: number;
  samples: number[];
}

function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  return { cert, key };
}

async function measure(client: IdleClient, smtpPort: number, count: number, timeoutMs: number): Promise<{ samples: number[]; misses: number }> {
  const samples: number[] = [];
  let misses = 0;
  for (let i = 0; i < count; i++) {
    client.takeExists();
    const { acceptedAt } = await sendMail(smtpPort, 'bench@example.org', 'bob@localdomain', `From: bench@example.org\nTo: bob@localdomain\nSubject: chain ${i}\n\nbody ${i}\n`);
    const ev = await client.nextExists(timeoutMs);
    if (!ev) misses++;
    else samples.push(ev.t - acceptedAt);
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
  }
  return { samples, misses };
}

/** Runs the chain against maildir-imapd over TLS, and against Dovecot if `dovecot` is given. */
export async function benchSmtpChain(
  count: number,
  dovecot: { count: number; start: (o: { mailRoot: string; stateDir: string; lmtp?: boolean }) => Promise<{ port: number; lmtpPort?: number; stop(): unknown }> } | null,
  log: (msg: string) => void,
): Promise<ChainResult[] | string> {
  if (!postfixAvailable()) return 'skipped: needs root and Debian postfix';
  const out: ChainResult[] = [];
  const tree = await makeMailTree('mimapd-chain-');
  await fs.chmod(tree.dir, 0o711);
  const { cert, key } = selfSignedCert(tree.dir);
  const postfix = await startPostfix({ mailRoot: path.join(tree.dir, 'mail'), stateDir: path.join(tree.dir, 'postfix'), users: ['bob', 'alice'] });
  try {
    const tlsPort = 10000 + Math.floor(Math.random() * 900);
    const lmtpPort = await freePort();
    const server = await startServer(tree, ['--tls-listen', `127.0.0.1:${tlsPort}`, '--tls-cert', cert, '--tls-key', key, '--lmtp-listen', `127.0.0.1:${lmtpPort}`]);
    try {
      const client = await IdleClient.connectTls(tlsPort);
      await client.command('a', 'LOGIN bob bob-pass');
      await client.command('b', 'SELECT INBOX');
      await client.idle('c');
      log(`maildir-imapd: SMTP 250 -> virtual(8) -> EXISTS over TLS, ${count} deliveries`);
      const r = await measure(client, postfix.port, count, 5000);
      out.push({ server: 'maildir-imapd', transport: 'IMAPS (TLS), virtual(8)', summary: summarize(r.samples), misses: r.misses, samples: r.samples });
      await postfix.postconf({ virtual_transport: `lmtp:inet:127.0.0.1:${lmtpPort}` });
      log(`maildir-imapd: SMTP 250 -> LMTP -> EXISTS over TLS, ${count} deliveries`);
      const l = await measure(client, postfix.port, count, 5000);
      out.push({ server: 'maildir-imapd', transport: 'IMAPS (TLS), LMTP', summary: summarize(l.samples), misses: l.misses, samples: l.samples });
      await postfix.postconf({ virtual_transport: 'virtual' });
      await client.logout();
    } finally {
      await server.stop();
    }
    if (dovecot) {
      // Dovecot's own LMTP (Debian's dovecot-lmtpd) when installed: the delivery path the anchors use.
      const peer = await dovecot.start({ mailRoot: path.join(tree.dir, 'mail'), stateDir: path.join(tree.dir, 'dovecot'), lmtp: true });
      try {
        const client = await IdleClient.connect(peer.port);
        await client.command('a', 'LOGIN bob bob-pass');
        await client.command('b', 'SELECT INBOX');
        await client.idle('c');
        log(`dovecot: SMTP 250 -> EXISTS over plain IMAP, ${dovecot.count} deliveries`);
        const r = await measure(client, postfix.port, dovecot.count, 5000);
        out.push({ server: 'dovecot', transport: 'IMAP (plain), virtual(8)', summary: summarize(r.samples), misses: r.misses, samples: r.samples });
        if (peer.lmtpPort) {
          await postfix.postconf({ virtual_transport: `lmtp:inet:127.0.0.1:${peer.lmtpPort}` });
          log(`dovecot: SMTP 250 -> Dovecot LMTP -> EXISTS over plain IMAP, ${dovecot.count} deliveries`);
          const l = await measure(client, postfix.port, dovecot.count, 5000);
          out.push({ server: 'dovecot', transport: 'IMAP (plain), Dovecot LMTP', summary: summarize(l.samples), misses: l.misses, samples: l.samples });
          await postfix.postconf({ virtual_transport: 'virtual' });
        } else log('dovecot: no dovecot-lmtpd installed; its LMTP row is left out');
        await client.logout();
      } finally {
        await peer.stop();
      }
    }
  } finally {
    await postfix.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  }
  return out;
}
