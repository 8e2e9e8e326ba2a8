// Connections not yet logged in: per-IP count and one input budget (preauth-guard.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PreauthGuard } from '../../src/imap/preauth-guard.js';

test('counts per address, frees a slot on release (once), and maps IPv4-mapped IPv6 to IPv4', () => {
  const g = new PreauthGuard({ maxPerIp: 2, budgetBytes: 1000 });
  const a = {}, b = {}, c = {};
  assert.ok(g.admit(a, '192.0.2.1'));
  assert.ok(g.admit(b, '::ffff:192.0.2.1'));
  assert.ok(!g.admit(c, '192.0.2.1'));
  assert.ok(g.admit(c, '192.0.2.2'));
  g.release(a);
  g.release(a);
  assert.equal(g.waiting('192.0.2.1'), 1);
  assert.ok(g.admit({}, '192.0.2.1'));
});

test('the input budget is shared by all connections and returned on release', () => {
  const g = new PreauthGuard({ maxPerIp: 10, budgetBytes: 1000 });
  const a = {}, b = {};
  g.admit(a, '192.0.2.1');
  g.admit(b, '192.0.2.3');
  assert.ok(g.account(a, 600));
  assert.ok(!g.account(b, 600));
  assert.ok(g.account(b, 300));
  g.release(a);
  assert.equal(g.bufferedBytes, 300);
  assert.ok(g.account(b, 1000));
  assert.ok(g.account({}, 5000), 'a logged-in connection is not counted');
});

test('addresses of one IPv6 /64 share their count', () => {
  const g = new PreauthGuard({ maxPerIp: 2, budgetBytes: 1000 });
  assert.ok(g.admit({}, '2001:db8:1:2::a'));
  assert.ok(g.admit({}, '2001:db8:1:2::b'));
  assert.ok(!g.admit({}, '2001:db8:1:2:ffff::1'), 'a third address in the same /64');
  assert.ok(g.admit({}, '2001:db8:1:3::a'), 'the next /64 is someone else');
});
