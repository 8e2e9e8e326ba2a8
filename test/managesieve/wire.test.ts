// ManageSieve's wire format: quoted strings and their escapes, {n+} and {n}
// literals in the middle of a line, input in any split, and the limits
// (line, literal bytes, tokens) answered after the whole command is read so
// the next one starts in the right place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandReader, encodeString, reply, type ReadResult, type Token } from '../../src/managesieve/wire.js';

const LIMITS = { maxLineBytes: 100, maxLiteralBytes: 50, maxTokens: 6 };

function readAll(input: string | Buffer, chunk = Infinity, limits = LIMITS): ReadResult[] {
  const r = new CommandReader(limits);
  const buf = Buffer.from(input);
  const out: ReadResult[] = [];
  for (let i = 0; i < buf.length; i += chunk) {
    r.push(buf.subarray(i, Math.min(buf.length, i + chunk)));
    for (let c = r.next(); c; c = r.next()) out.push(c);
  }
  return out;
}

function show(t: Token): string | number {
  if (t.kind === 'string') return `${t.literal ? 'L' : 'Q'}:${t.value.toString()}`;
  return t.kind === 'number' ? t.value : `A:${t.value}`;
}

const shown = (rs: ReadResult[]) => rs.map((r) => (r.ok ? r.tokens.map(show) : { error: r.error }));

test('atoms, numbers, quoted strings with \\" and \\\\, literals {n+} and {n}, in one piece and byte by byte', () => {
  const input = 'HAVESPACE "my \\"big\\" \\\\script" 12345\r\nPUTSCRIPT {3+}\r\nfoo {12}\r\nkeep;\r\nstop;\r\n\r\nnoop\n';
  const expected = [['A:HAVESPACE', 'Q:my "big" \\script', 12345], ['A:PUTSCRIPT', 'L:foo', 'L:keep;\r\nstop;'], [], ['A:noop']];
  assert.deepEqual(shown(readAll(input)), expected);
  assert.deepEqual(shown(readAll(input, 1)), expected);
  assert.deepEqual(shown(readAll(input, 7)), expected);
});

test('an empty literal and a literal that holds CRLF and a brace at its end', () => {
  assert.deepEqual(shown(readAll('CHECKSCRIPT {0+}\r\n\r\nX {5+}\r\n{1+}\r\r\n')), [['A:CHECKSCRIPT', 'L:'], ['A:X', 'L:{1+}\r']]);
});

test('a literal larger than the limit is counted and dropped, not kept; the next command is read from the right place', () => {
  const big = 'x'.repeat(10_000);
  const r = new CommandReader(LIMITS);
  r.push(Buffer.from(`PUTSCRIPT "a" {${big.length}+}\r\n`));
  assert.equal(r.next(), null);
  for (let i = 0; i < big.length; i += 1000) {
    r.push(Buffer.from(big.slice(i, i + 1000)));
    assert.equal(r.next(), null);
    assert.ok(r.bufferedBytes < 2000, 'nothing of the literal is held');
  }
  r.push(Buffer.from('\r\nNOOP\r\n'));
  const first = r.next()!;
  assert.equal(first.ok, false);
  assert.deepEqual(!first.ok && first.error, { kind: 'too-big', max: 50, size: 10_000 });
  assert.equal(show(first.tokens[0]), 'A:PUTSCRIPT', 'the command name is kept for the reply');
  assert.deepEqual(shown([r.next()!]), [['A:NOOP']]);
});

test('all literals of one command count together toward the limit', () => {
  const rs = readAll(`X {30+}\r\n${'a'.repeat(30)} {30+}\r\n${'b'.repeat(30)}\r\nNOOP\r\n`);
  assert.equal(rs.length, 2);
  assert.equal(rs[0].ok, false);
  assert.deepEqual(shown([rs[1]]), [['A:NOOP']]);
});

test('an overlong line is dropped to its end, also when it ends with a literal', () => {
  const long = 'A'.repeat(500);
  const rs = readAll(`${long}\r\nX "${long}" {5+}\r\nhello\r\nNOOP\r\n`, 13);
  assert.equal(rs.length, 3);
  assert.equal(rs[0].ok, false);
  assert.match(!rs[0].ok && rs[0].error.kind === 'syntax' ? rs[0].error.message : '', /Line too long/);
  assert.equal(rs[1].ok, false, 'the literal after the long line is skipped, not run as a command');
  assert.deepEqual(shown([rs[2]]), [['A:NOOP']]);
});

test('an overlong line without LF is not held: the reader keeps at most the limit', () => {
  const r = new CommandReader(LIMITS);
  for (let i = 0; i < 1000; i++) {
    r.push(Buffer.alloc(1000, 0x41));
    assert.equal(r.next(), null);
    assert.ok(r.bufferedBytes <= 1000);
  }
  r.push(Buffer.from('\r\nNOOP\r\n'));
  assert.equal(r.next()!.ok, false);
  assert.equal(r.next()!.ok, true);
});

test('syntax errors: unterminated quote, bad escape, NUL, braces mid-line, huge numbers, too many tokens; a literal after the error is still skipped', () => {
  const cases = ['X "abc\r\n', 'X "a\\nb"\r\n', 'X "a\0b"\r\n', 'X {5+} Y\r\n', 'X 99999999999\r\n', 'A B C D E F G\r\n', 'X (a)\r\n'];
  for (const c of cases) {
    const rs = readAll(c + 'NOOP\r\n');
    assert.equal(rs.length, 2, JSON.stringify(c));
    assert.equal(rs[0].ok, false, JSON.stringify(c));
    assert.equal(rs[0].ok === false && rs[0].error.kind, 'syntax', JSON.stringify(c));
    assert.deepEqual(shown([rs[1]]), [['A:NOOP']]);
  }
  const afterError = readAll('X "bad\\q" {5+}\r\nNOOP\r\nNOOP\r\n');
  assert.equal(afterError.length, 2, 'the 5 octets "NOOP\\r" are the literal, dropped');
  assert.equal(afterError[0].ok, false);
  assert.deepEqual(shown([afterError[1]]), [['A:NOOP']]);
  assert.equal(readAll('X "' + 'q'.repeat(1025) + '"\r\n', Infinity, { ...LIMITS, maxLineBytes: 2000 })[0].ok, false, 'quoted strings are at most 1024 octets');
});

test('reset() drops what is buffered (STARTTLS)', () => {
  const r = new CommandReader(LIMITS);
  r.push(Buffer.from('NOOP\r\nLOGOUT\r\nPUTSCRIPT "a" {5+}\r\nke'));
  assert.deepEqual(shown([r.next()!]), [['A:NOOP']]);
  r.reset();
  assert.equal(r.next(), null);
  r.push(Buffer.from('CAPABILITY\r\n'));
  assert.deepEqual(shown([r.next()!]), [['A:CAPABILITY']]);
});

test('server strings: quoted when short and on one line, a {n} literal otherwise; replies with codes', () => {
  assert.equal(encodeString('a "b" \\c'), '"a \\"b\\" \\\\c"');
  assert.deepEqual(encodeString('line 1\r\nline 2'), Buffer.from('{14}\r\nline 1\r\nline 2'));
  assert.deepEqual(encodeString('x'.repeat(1025)).slice(0, 7).toString(), '{1025}\r');
  assert.equal(reply('NO', 'QUOTA/MAXSIZE', 'Too big.').toString(), 'NO (QUOTA/MAXSIZE) "Too big."\r\n');
  assert.equal(reply('OK', null, null).toString(), 'OK\r\n');
  assert.equal(reply('NO', null, 'é').toString(), 'NO "é"\r\n');
});
