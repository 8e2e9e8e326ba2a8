// The per-IP failure penalty (2 s doubling to 15 s, cleared by a success,
// forgotten after a while) on a fake clock, and the per-user-IP connection cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailurePenalty, clientIp } from '../../src/auth/penalty.js';
import { LoginLimits, UserIpLimit } from '../../src/auth/limits.js';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('the delay is 2 s, doubling per failure, at most 15 s', () => {
  const c = clock();
  const p = new FailurePenalty({ now: c.now });
  const delays = [1, 2, 3, 4, 5, 6].map(() => {
    const d = p.fail('198.51.100.7');
    c.advance(d);
    return d;
  });
  assert.deepEqual(delays, [2000, 4000, 8000, 15000, 15000, 15000]);
});

test('another connection from the IP waits out the running penalty; other IPs do not', () => {
  const c = clock();
  const p = new FailurePenalty({ now: c.now });
  p.fail('198.51.100.7');
  p.fail('198.51.100.7');
  assert.equal(p.pending('198.51.100.7'), 4000);
  c.advance(1500);
  assert.equal(p.pending('198.51.100.7'), 2500);
  assert.equal(p.pending('203.0.113.1'), 0);
  c.advance(2500);
  assert.equal(p.pending('198.51.100.7'), 0);
});

test('a success clears the penalty of its own name\'s failures; failures are forgotten 10 minutes after the last', () => {
  const c = clock();
  const p = new FailurePenalty({ now: c.now });
  p.fail('a', 'bob');
  p.fail('a', 'bob');
  p.succeed('a', 'Bob');
  assert.equal(p.fail('a'), 2000);
  c.advance(9 * 60_000);
  assert.equal(p.fail('a'), 4000, 'still remembered after 9 minutes');
  c.advance(10 * 60_000);
  assert.equal(p.failures('a'), 0);
  assert.equal(p.fail('a'), 2000);
});

test('memory is bounded: stale and excess IPs are dropped', () => {
  const c = clock();
  const p = new FailurePenalty({ now: c.now, maxEntries: 100 });
  for (let i = 0; i < 1000; i++) p.fail(`10.0.${i >> 8}.${i & 255}`);
  assert.ok(p.size <= 100, `size ${p.size}`);
  c.advance(11 * 60_000);
  p.fail('x');
  assert.equal(p.size, 1);
});

test('a shortened first delay keeps Dovecot proportions (the test hook)', () => {
  const p = new FailurePenalty(LoginLimits.penaltyFrom(100));
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => p.delayFor(n)), [100, 200, 400, 750, 750]);
});

test('IPv4-mapped IPv6 addresses are keyed and logged as IPv4', () => {
  assert.equal(clientIp('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(clientIp('2001:db8::1'), '2001:db8::1');
  assert.equal(clientIp(undefined), 'unknown');
});

test('the cap: N connections per user and IP, the next refused, a slot freed once on close', () => {
  const lim = new UserIpLimit(3);
  const conns = [{}, {}, {}, {}];
  assert.ok(lim.acquire(conns[0], 'bob', '192.0.2.1'));
  assert.ok(lim.acquire(conns[1], 'bob', '192.0.2.1'));
  assert.ok(lim.acquire(conns[2], 'bob', '192.0.2.1'));
  assert.equal(lim.acquire(conns[3], 'bob', '192.0.2.1'), false);
  assert.ok(lim.acquire(conns[3], 'bob', '192.0.2.2'), 'another IP has its own count');
  assert.ok(lim.acquire({}, 'alice', '192.0.2.1'), 'another user has its own count');
  lim.release(conns[0]);
  lim.release(conns[0]); // onClose may run twice: still one slot
  assert.equal(lim.count('bob', '192.0.2.1'), 2);
  assert.ok(lim.acquire({}, 'bob', '192.0.2.1'));
  assert.equal(lim.acquire({}, 'bob', '192.0.2.1'), false);
  for (const c of conns) lim.release(c);
  assert.equal(lim.count('bob', '192.0.2.2'), 0);
});

test('checks from one IP run one at a time, each after the penalty of the failures before it; other IPs are not held', async () => {
  const p = new FailurePenalty({ initialMs: 40, maxMs: 1000 });
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const t0 = Date.now();
  const guess = () =>
    p.serialize('198.51.100.9', 'bob', async () => {
      running++;
      most = Math.max(most, running);
      started.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      p.fail('198.51.100.9', 'bob');
    });
  const other = p.serialize('203.0.113.5', 'alice', async () => Date.now() - t0);
  await Promise.all([guess(), guess(), guess(), guess()]);
  assert.equal(most, 1, 'never two checks at once from one IP');
  // Penalties 40, 80, 160 ms after the first three failures.
  assert.ok(started[1] >= 40 && started[2] >= 40 + 80 && started[3] >= 40 + 80 + 160, started.join(' '));
  assert.ok((await other) < 40, 'another address waits for nobody');
});

test('per-address limits count an IPv6 /64 as one address, IPv4 addresses one by one', async () => {
  const { addressGroup } = await import('../../src/auth/penalty.js');
  assert.equal(addressGroup('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressGroup('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.equal(addressGroup('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressGroup('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressGroup('::1'), '0:0:0:0::/64');
  assert.notEqual(addressGroup('2001:db8:1:3::1'), addressGroup('2001:db8:1:2::1'));
  assert.equal(addressGroup('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(addressGroup('192.0.2.7'), '192.0.2.7');
  assert.equal(addressGroup(undefined), 'unknown');
});

test('a success from the IP as another user does not reset the escalation other connections\' guesses built', () => {
  const c = clock();
  const p = new FailurePenalty({ now: c.now });
  const ip = '198.51.100.7';
  // Guesses at alice's password, and between them the attacker logs into an account of their own.
  assert.equal(p.fail(ip, 'alice'), 2000);
  c.advance(2000);
  assert.equal(p.fail(ip, 'alice'), 4000);
  c.advance(4000);
  p.succeed(ip, 'mallory');
  assert.equal(p.failures(ip), 2, 'mallory\'s success forgives nothing of alice\'s guesses');
  assert.equal(p.fail(ip, 'alice'), 8000, 'the escalation goes on');
  c.advance(8000);
  // A user's own typos are forgiven by their success; the guesses at alice stay.
  assert.equal(p.fail(ip, 'bob'), 15000);
  c.advance(15000);
  p.succeed(ip, 'bob');
  assert.equal(p.failures(ip), 3);
  assert.equal(p.nameFailures('bob'), 0);
  // Only alice's own success (her password: nothing left to guess) clears the rest.
  p.succeed(ip, 'alice');
  assert.equal(p.failures(ip), 0);
  assert.equal(p.pending(ip), 0);
});

test('guesses at one user name from many IPs escalate that name\'s penalty; other names are not held', () => {
  const c = clock();
  const p = new FailurePenalty({ now: c.now });
  const delays: number[] = [];
  for (let i = 1; i <= 5; i++) {
    delays.push(p.fail(`203.0.113.${i}`, 'alice'));
    c.advance(100);
  }
  // Each IP failed once (2 s alone); the name has failed five times.
  assert.deepEqual(delays, [2000, 4000, 8000, 15000, 15000]);
  assert.equal(p.nameFailures('ALICE'), 5, 'counted without regard to case');
  assert.ok(p.pending('192.0.2.99', 'alice') > 14000, 'a fresh IP waits out alice\'s penalty');
  assert.equal(p.pending('192.0.2.99', 'bob'), 0, 'another name does not');
  assert.equal(p.pending('192.0.2.99'), 0);
});

test('checks for one name from several IPs wait out its penalty but never queue behind each other', async () => {
  const p = new FailurePenalty({ initialMs: 60, maxMs: 1000 });
  p.fail('203.0.113.1', 'alice'); // alice: 60 ms from now
  const t0 = Date.now();
  const starts = await Promise.all(['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((ip) => p.serialize(ip, 'alice', async () => Date.now() - t0)));
  for (const s of starts) assert.ok(s >= 50 && s < 200, starts.join(' '));
});

test('memory stays bounded with many user names', () => {
  const c = clock();
  const p = new FailurePenalty({ now: c.now, maxEntries: 100 });
  for (let i = 0; i < 1000; i++) p.fail('198.51.100.1', `user${i}`);
  assert.equal(p.nameFailures('user0'), 0, 'the stalest names are dropped');
  assert.equal(p.nameFailures('user999'), 1);
  assert.equal(p.failures('198.51.100.1'), 1000);
});
