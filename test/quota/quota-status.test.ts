// The quota policy service's protocol (Postfix's policy delegation): name=value
// lines, an empty line, `action=…` and an empty line back, several requests
// per connection, size= taken into account, unknown recipients DUNNO, +detail
// resolved as LMTP does, and a connection that sends garbage or too much closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pino from 'pino';
import { QuotaStatusService } from '../../src/lmtp/quota-status.js';
import { MemoryUser } from '../support/memory-store.js';
import { DEFAULT_SPECIAL_USE } from '../../src/mail/api.js';

async function service(t: test.TestContext) {
  const users = new Map([['bob@example.org', { name: 'bob@example.org' }], ['alice', { name: 'alice' }]]);
  const bob = new MemoryUser(DEFAULT_SPECIAL_USE, false);
  bob.limits = { storage: 10_000, messages: 5 };
  (await bob.mailbox('INBOX'))!.add('Subject: x\r\n\r\n' + 'y'.repeat(5000) + '\r\n');
  const alice = new MemoryUser(DEFAULT_SPECIAL_USE, false);
  const svc = new QuotaStatusService<{ name: string }>({
    log: pino({ level: 'silent' }),
    users: { lookup: (l) => users.get(l) ?? users.get(l.toLowerCase()) },
    storeFor: (u) => (u.name === 'alice' ? alice : bob),
    recipientDelimiter: '+',
    socket: { user: null, group: null, mode: 0o660 },
    overquota: '552 5.2.2 Mailbox full',
  });
  const l = await svc.listen('127.0.0.1:0');
  svc.open();
  t.after(() => svc.close());
  return { port: (l.address as net.AddressInfo).port, bob };
}

/** Sends raw bytes; collects what comes back until `count` answers (or the close). */
function talk(port: number, text: string, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => {
      out += d.toString();
      if (out.split('\n\n').length - 1 >= count) s.end();
    });
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy());
  });
}

const req = (attrs: Record<string, string>) => Object.entries({ request: 'smtpd_access_policy', protocol_state: 'RCPT', ...attrs }).map(([k, v]) => `${k}=${v}\n`).join('') + '\n';

test('policy protocol: DUNNO while it fits, the overquota action once size= would not; many requests on one connection', async (t) => {
  const { port } = await service(t);
  const out = await talk(
    port,
    req({ recipient: 'bob@example.org', size: '1000' }) +
      req({ recipient: 'BOB@example.org', size: '6000' }) +
      req({ recipient: 'bob+lists@example.org', size: '0' }) +
      req({ recipient: 'alice@elsewhere.org', size: '99999999' }) +
      req({ recipient: 'nobody@example.org', size: '1' }) +
      req({ sender: 'x@y' }),
    6,
  );
  assert.equal(out, 'action=DUNNO\n\naction=552 5.2.2 Mailbox full\n\naction=DUNNO\n\naction=DUNNO\n\naction=DUNNO\n\naction=DUNNO\n\n');
});

test('policy protocol: a full mailbox is refused whatever the size; the message limit counts one more', async (t) => {
  const { port, bob } = await service(t);
  bob.limits = { storage: null, messages: 1 };
  assert.equal(await talk(port, req({ recipient: 'bob@example.org' }), 1), 'action=552 5.2.2 Mailbox full\n\n');
  bob.limits = { storage: 5016, messages: null }; // exactly what INBOX holds
  assert.equal(await talk(port, req({ recipient: 'bob@example.org', size: '0' }), 1), 'action=DUNNO\n\n', 'at the limit, a message of unknown size is let through (LMTP checks it)');
  bob.limits = { storage: 4000, messages: null };
  assert.equal(await talk(port, req({ recipient: 'bob@example.org' }), 1), 'action=552 5.2.2 Mailbox full\n\n');
});

test('policy protocol: a line without = or an endless line closes the connection', async (t) => {
  const { port } = await service(t);
  assert.equal(await talk(port, 'garbage\n\n', 1), '');
  assert.equal(await talk(port, 'recipient=' + 'a'.repeat(20000), 1), '');
  assert.equal(await talk(port, req({ recipient: 'bob@example.org' }), 1), 'action=DUNNO\n\n', 'the service goes on');
});
