// The two services Postfix asks on every submission and every delivery,
// ours beside Dovecot's in the same run, each over one kept-open connection
// as Postfix keeps it:
//   - SMTP AUTH: Postfix's smtpd asks `smtpd_sasl_type = dovecot`'s socket
//     (the Dovecot auth protocol): AUTH PLAIN with the initial response → OK.
//   - quota-status: `check_policy_service` at RCPT time (Postfix's policy
//     protocol): one request with recipient= and size= → action=DUNNO.
//
//   node dist/test/bench/services.js [--n=2000] [--no-dovecot]
//
// Raw samples go to bench-results/services.json.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeMailTree, startServer, freePort } from '../support/server.js';
import { dovecotAvailable, startDovecot } from '../support/dovecot.js';
import { summarize, fmtMs, table, type Summary } from './stats.js';

function opt(name: string, def: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
}
const N = opt('n', 2000);
const WARMUP = 50;

/** A line-oriented client over TCP: send, then wait for a reply that `done` accepts. */
class LineClient {
  private buf = '';
  private waiter: (() => void) | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d) => {
      this.buf += d.toString('utf8');
      this.waiter?.();
    });
  }

  static connect(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new LineClient(s)));
      s.on('error', reject);
    });
  }

  /** Sends `text` (unless empty) and resolves with everything up to and including the reply `end` finds. */
  ask(text: string, end: (buf: string) => number, timeoutMs = 10_000): Promise<string> {
    if (text) this.socket.write(text);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms; have ${JSON.stringify(this.buf.slice(0, 200))}`)), timeoutMs);
      const check = () => {
        const at = end(this.buf);
        if (at < 0) return;
        clearTimeout(timer);
        this.waiter = null;
        const reply = this.buf.slice(0, at);
        this.buf = this.buf.slice(at);
        resolve(reply);
      };
      this.waiter = check;
      check();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** End of the first line starting with `prefix` (after its LF), or -1. */
const lineStarting = (prefix: string) => (buf: string) => {
  const at = buf.startsWith(prefix) ? 0 : buf.indexOf(`\n${prefix}`) + 1;
  if (at <= 0 && !buf.startsWith(prefix)) return -1;
  const nl = buf.indexOf('\n', at);
  return nl < 0 ? -1 : nl + 1;
};

/** N AUTH PLAIN round trips over one auth-protocol connection; the ms of each. */
async function benchSasl(port: number, user: string, pass: string): Promise<number[]> {
  const c = await LineClient.connect(port);
  try {
    await c.ask(`VERSION\t1\t2\nCPID\t${process.pid}\n`, lineStarting('DONE'));
    const resp = Buffer.from(`\0${user}\0${pass}`).toString('base64');
    const samples: number[] = [];
    for (let i = 1; i <= N + WARMUP; i++) {
      const t0 = performance.now();
      const reply = await c.ask(`AUTH\t${i}\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.1\tresp=${resp}\n`, (b) => b.indexOf('\n') + 1 || -1);
      const t = performance.now() - t0;
      if (!reply.startsWith(`OK\t${i}\t`)) throw new Error(`AUTH ${i}: ${reply.trim()}`);
      if (i > WARMUP) samples.push(t);
    }
    return samples;
  } finally {
    c.close();
  }
}

/** N policy requests over one connection; the ms of each. */
async function benchPolicy(port: number, recipient: string): Promise<number[]> {
  const c = await LineClient.connect(port);
  try {
    const samples: number[] = [];
    for (let i = 1; i <= N + WARMUP; i++) {
      const req = `request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nsender=carol@example.org\nrecipient=${recipient}\nsize=${1000 + i}\nclient_address=127.0.0.1\n\n`;
      const t0 = performance.now();
      const reply = await c.ask(req, (b) => (b.indexOf('\n\n') >= 0 ? b.indexOf('\n\n') + 2 : -1));
      const t = performance.now() - t0;
      if (!/^action=(DUNNO|OK)/i.test(reply)) throw new Error(`policy ${i}: ${reply.trim()}`);
      if (i > WARMUP) samples.push(t);
    }
    return samples;
  } finally {
    c.close();
  }
}

interface Row {
  service: string;
  server: string;
  summary: Summary;
  samples: number[];
}

/** Dovecot's auth and quota-status listeners, as a stock install's guides set them up. */
function dovecotServices(authPort: number, policyPort: number): string {
  return `
mail_plugins = quota
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=1G
  quota_status_success = DUNNO
  quota_status_nouser = DUNNO
  quota_status_overquota = "552 5.2.2 Mailbox is full"
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = ${authPort}
  }
}
service quota-status {
  executable = quota-status -p postfix
  inet_listener {
    address = 127.0.0.1
    port = ${policyPort}
  }
  client_limit = 1
}
`;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const tree = await makeMailTree('mimapd-services-');
  // bob has a quota, so the policy service really looks at his usage.
  fs.writeFileSync(tree.usersFile, 'bob:{PLAIN}bob-pass::::::userdb_quota_rule=*:storage=1G\nalice:{PLAIN}alice-pass\n');
  try {
    const saslPort = await freePort();
    const policyPort = await freePort();
    const server = await startServer(tree, ['--sasl-listen', `127.0.0.1:${saslPort}`, '--quota-status-listen', `127.0.0.1:${policyPort}`]);
    try {
      const s = await benchSasl(saslPort, 'bob', 'bob-pass');
      rows.push({ service: 'SASL AUTH PLAIN -> OK', server: 'maildir-imapd', summary: summarize(s), samples: s });
      const p = await benchPolicy(policyPort, 'bob@localdomain');
      rows.push({ service: 'quota-status RCPT -> DUNNO', server: 'maildir-imapd', summary: summarize(p), samples: p });
    } finally {
      await server.stop();
    }
    if (!process.argv.includes('--no-dovecot') && dovecotAvailable()) {
      const authPort = await freePort();
      const dvPolicyPort = await freePort();
      const peer = await startDovecot({ mailRoot: path.join(tree.dir, 'mail'), stateDir: path.join(tree.dir, 'dovecot'), extraConf: dovecotServices(authPort, dvPolicyPort) });
      try {
        const s = await benchSasl(authPort, 'bob', 'bob-pass');
        rows.push({ service: 'SASL AUTH PLAIN -> OK', server: 'dovecot', summary: summarize(s), samples: s });
        const p = await benchPolicy(dvPolicyPort, 'bob@localdomain');
        rows.push({ service: 'quota-status RCPT -> DUNNO', server: 'dovecot', summary: summarize(p), samples: p });
      } finally {
        await peer.stop();
      }
    }
  } finally {
    fs.rmSync(tree.dir, { recursive: true, force: true });
  }
  console.log(`\nPostfix's services, one connection each, ${N} requests after ${WARMUP} warm-up (ms)\n`);
  const out = [['service', 'server', 'n', 'min', 'p50', 'p95', 'max']];
  for (const r of rows) out.push([r.service, r.server, String(r.summary.n), fmtMs(r.summary.min), fmtMs(r.summary.p50), fmtMs(r.summary.p95), fmtMs(r.summary.max)]);
  console.log(table(out));
  for (const service of new Set(rows.map((r) => r.service))) {
    const ours = rows.find((r) => r.service === service && r.server === 'maildir-imapd');
    const theirs = rows.find((r) => r.service === service && r.server === 'dovecot');
    if (ours && theirs) console.log(`${service}: maildir-imapd p50 / Dovecot p50 = ${fmtMs(ours.summary.p50)} / ${fmtMs(theirs.summary.p50)} = ${(ours.summary.p50 / theirs.summary.p50).toFixed(2)}`);
  }
  fs.mkdirSync('bench-results', { recursive: true });
  fs.writeFileSync(path.resolve('bench-results', 'services.json'), JSON.stringify({ date: new Date().toISOString(), rows }, null, 2) + '\n');
}

// Inert under node --test (npm test compiles test/bench too).
if (!process.env.NODE_TEST_CONTEXT) await main();
