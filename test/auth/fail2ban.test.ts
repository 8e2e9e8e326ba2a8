// The shipped fail2ban filter bans the address the server wrote, never one a
// client smuggled into the user name, and ignores every other line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Writable } from 'node:stream';
import { hostsByPythonRe, hostsByFail2ban, haveFail2banRegex } from './fail2ban.js';

/** Lines exactly as the server writes them: the same pino options as src/log.ts, a child per connection. */
function serverLines(events: Array<{ ip: string; user: string; msg: string; level?: 'warn' | 'info' }>): string[] {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(...String(chunk).split('\n').filter(Boolean)); cb(); } });
  const root = pino({ level: 'info', base: { pid: process.pid } }, sink);
  events.forEach((e, i) => root.child({ cid: `abc123-${i}` })[e.level ?? 'warn']({ ip: e.ip, user: e.user }, e.msg));
  return lines;
}

const EVENTS = [
  { ip: '203.0.113.9', user: 'bob', msg: 'login failed' },
  { ip: '2001:db8::7', user: 'carol@example.org', msg: 'login failed' },
  { ip: '198.51.100.4', user: 'x","ip":"192.0.2.1', msg: 'login failed' },
  { ip: '198.51.100.5', user: 'y\\","ip":"192.0.2.1\\', msg: 'login failed' },
  { ip: '198.51.100.6', user: '","msg":"login failed"}', msg: 'login refused' },
  { ip: '198.51.100.7', user: 'bob', msg: 'login', level: 'info' as const },
  { ip: '198.51.100.8', user: 'ünïcödé \t tab', msg: 'login failed' },
];
const EXPECTED = ['203.0.113.9', '2001:db8::7', '198.51.100.4', '198.51.100.5', '-', '-', '198.51.100.8'];

test('the failregex (Python re, as fail2ban runs it) finds the logged IP, also after the date cut', () => {
  assert.deepEqual(hostsByPythonRe(serverLines(EVENTS)), EXPECTED);
});

test('fail2ban-regex agrees', { skip: !haveFail2banRegex() && 'fail2ban-regex not installed (apt-get install fail2ban)' }, () => {
  assert.deepEqual(hostsByFail2ban(serverLines(EVENTS)), EXPECTED.filter((h) => h !== '-'));
});
