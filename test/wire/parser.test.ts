import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CommandFramer,
  DEFAULT_LIMITS,
  ParseError,
  isAtom,
  parseCommand,
  tokenToString,
  type CommandPart,
  type FrameError,
  type FramedCommand,
  type ParserLimits,
  type Token,
} from '../../src/wire/parser.js';

type Event =
  | { ev: 'command'; cmd: FramedCommand }
  | { ev: 'continuation' }
  | { ev: 'error'; err: FrameError };

function makeFramer(limits?: Partial<ParserLimits>): { framer: CommandFramer; events: Event[] } {
  const events: Event[] = [];
  const framer = new CommandFramer(
    {
      onCommand: (cmd) => events.push({ ev: 'command', cmd }),
      onContinuation: () => events.push({ ev: 'continuation' }),
      onError: (err) => events.push({ ev: 'error', err }),
    },
    limits,
  );
  return { framer, events };
}

function frameAll(input: string | Buffer, chunks?: number[], limits?: Partial<ParserLimits>): Event[] {
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const { framer, events } = makeFramer(limits);
  if (!chunks) {
    framer.push(buf);
    return events;
  }
  let pos = 0;
  for (const end of [...chunks, buf.length]) {
    framer.push(buf.subarray(pos, end));
    pos = end;
  }
  return events;
}

const text = (t: string): CommandPart => ({ kind: 'text', text: t });
const lit = (s: string, nonSync = false): CommandPart => ({ kind: 'literal', data: Buffer.from(s), nonSync });
const cmd = (...parts: CommandPart[]): FramedCommand => ({ parts, bytes: 0 });
const commands = (events: Event[]): FramedCommand[] =>
  events.flatMap((e) => (e.ev === 'command' ? [e.cmd] : []));
const errors = (events: Event[]): FrameError[] => events.flatMap((e) => (e.ev === 'error' ? [e.err] : []));

const LOGIN = 'a1 LOGIN {3}\r\nbob {8+}\r\nbob-pass\r\na2 NOOP\r\n';

describe('CommandFramer', () => {
  it('frames a command with a sync and a non-sync literal', () => {
    const events = frameAll(LOGIN);
    assert.deepEqual(events, [
      { ev: 'continuation' },
      {
        ev: 'command',
        cmd: { parts: [text('a1 LOGIN '), lit('bob'), text(' '), lit('bob-pass', true), text('')], bytes: 34 },
      },
      { ev: 'command', cmd: { parts: [text('a2 NOOP')], bytes: 9 } },
    ]);
  });

  it('asks for continuation before the literal bytes are needed, once per sync literal', () => {
    const { framer, events } = makeFramer();
    framer.push(Buffer.from('a1 LOGIN {3}\r'));
    assert.equal(events.length, 0, 'no continuation before the marker line is complete');
    framer.push(Buffer.from('\n'));
    assert.deepEqual(events, [{ ev: 'continuation' }]);
    framer.push(Buffer.from('bob {8+}\r\n'));
    assert.equal(events.length, 1, 'no continuation for a non-sync literal');
    framer.push(Buffer.from('bob-pass {0}\r\n'));
    assert.equal(events.length, 2, 'even an empty sync literal needs a continuation');
    framer.push(Buffer.from('\r\n'));
    assert.equal(events.filter((e) => e.ev === 'continuation').length, 2);
    const [c] = commands(events);
    assert.deepEqual(c!.parts, [text('a1 LOGIN '), lit('bob'), text(' '), lit('bob-pass', true), text(' '), lit(''), text('')]);
  });

  it('gives identical results for every split point and byte-by-byte', () => {
    const input = LOGIN + 'a3 APPEND INBOX (\\Seen) {5}\r\nab\r\nc\r\n';
    const expected = frameAll(input);
    assert.equal(commands(expected).length, 3);
    for (let i = 0; i <= input.length; i++) {
      assert.deepEqual(frameAll(input, [i]), expected, `split at ${i}`);
      for (let j = i; j <= input.length; j += 7) {
        assert.deepEqual(frameAll(input, [i, j]), expected, `split at ${i},${j}`);
      }
    }
    const bytes = Array.from({ length: input.length }, (_, i) => i);
    assert.deepEqual(frameAll(input, bytes), expected, 'byte by byte');
  });

  it('recovers from errors identically for every split point', () => {
    const limits = { maxLineBytes: 40, maxLiteralBytes: 10 };
    const input =
      'a1 X ' + 'y'.repeat(60) + ' {5+}\r\nhello\r\n' + // over-long line announcing a literal
      'a2 APPEND INBOX {20+}\r\n' + 'z'.repeat(20) + ' {2+}\r\nzz\r\n' + // refused non-sync literal
      'a3 APPEND INBOX {20}\r\n' + // refused sync literal: client sends nothing more
      'a4 NOOP\r\n';
    const expected = frameAll(input, undefined, limits);
    assert.deepEqual(expected, [
      { ev: 'error', err: { kind: 'line-too-long', tag: 'a1' } },
      { ev: 'error', err: { kind: 'literal-too-large', tag: 'a2', size: 20 } },
      { ev: 'error', err: { kind: 'literal-too-large', tag: 'a3', size: 20 } },
      { ev: 'command', cmd: { parts: [text('a4 NOOP')], bytes: 9 } },
    ]);
    for (let i = 0; i <= input.length; i++) {
      assert.deepEqual(frameAll(input, [i], limits), expected, `split at ${i}`);
    }
    const bytes = Array.from({ length: input.length }, (_, i) => i);
    assert.deepEqual(frameAll(input, bytes, limits), expected, 'byte by byte');
  });

  it('delivers several commands from one chunk, e.g. DONE + next command', () => {
    const events = frameAll('DONE\r\nA2 NOOP\r\nA3 CHECK\nA4 LOGOUT\r\n');
    assert.deepEqual(
      commands(events).map((c) => c.parts),
      [[text('DONE')], [text('A2 NOOP')], [text('A3 CHECK')], [text('A4 LOGOUT')]],
    );
  });

  it('ignores empty lines between commands but keeps an empty line after a literal', () => {
    const events = frameAll('\r\n\r\na1 NOOP\r\n\na2 X {1}\r\nz\r\n');
    assert.deepEqual(
      commands(events).map((c) => c.parts),
      [[text('a1 NOOP')], [text('a2 X '), lit('z'), text('')]],
    );
  });

  it('keeps literal bytes raw (CRLF, NUL, braces) and decodes text as UTF-8', () => {
    const data = Buffer.from('x\r\n{3}\r\n\0y');
    const input = Buffer.concat([Buffer.from(`a1 APPEND "Entwürfe" {${data.length}+}\r\n`), data, Buffer.from('\r\n')]);
    const [c] = commands(frameAll(input));
    assert.deepEqual(c!.parts, [text('a1 APPEND "Entwürfe" '), { kind: 'literal', data, nonSync: true }, text('')]);
  });

  it('does not treat malformed markers as literals', () => {
    for (const line of ['a1 X {}', 'a1 X {+}', 'a1 X {1a}', 'a1 X 3}', 'a1 X {99999999999}', 'a1 X {4294967296}']) {
      const events = frameAll(line + '\r\n');
      assert.deepEqual(events, [{ ev: 'command', cmd: { parts: [text(line)], bytes: line.length + 2 } }], line);
    }
  });

  it('does not re-scan a large literal arriving in many small chunks', () => {
    const size = 4 * 1024 * 1024;
    const { framer, events } = makeFramer({ maxLiteralBytes: size });
    framer.push(Buffer.from(`a1 APPEND INBOX {${size}+}\r\n`));
    const piece = Buffer.alloc(64, 0x61);
    const start = process.hrtime.bigint();
    for (let i = 0; i < size / piece.length; i++) framer.push(piece);
    framer.push(Buffer.from('\r\n'));
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const [c] = commands(events);
    const part = c!.parts[1]!;
    assert.equal(part.kind, 'literal');
    assert.equal(part.kind === 'literal' && part.data.length, size);
    assert.ok(ms < 2000, `took ${ms} ms`);
  });

  it('reports line-too-long after the CRLF, then parses the next command', () => {
    const long = 'a1 SEARCH ' + 'x'.repeat(200);
    for (const chunks of [undefined, [50], [50, 150, 211]]) {
      const { framer, events } = makeFramer({ maxLineBytes: 100 });
      const input = Buffer.from(long + '\r\na2 NOOP\r\n');
      let pos = 0;
      for (const end of [...(chunks ?? []), input.length]) {
        framer.push(input.subarray(pos, end));
        pos = end;
        assert.ok(framer.bufferedBytes <= 101, 'never buffers more than maxLineBytes');
      }
      assert.deepEqual(events, [
        { ev: 'error', err: { kind: 'line-too-long', tag: 'a1' } },
        { ev: 'command', cmd: { parts: [text('a2 NOOP')], bytes: 9 } },
      ]);
    }
  });

  it('reports line-too-long only once the line ends, and gives tag null when unknown', () => {
    const { framer, events } = makeFramer({ maxLineBytes: 10 });
    framer.push(Buffer.from('x'.repeat(50)));
    assert.equal(events.length, 0);
    framer.push(Buffer.from('\r\n'));
    assert.deepEqual(events, [{ ev: 'error', err: { kind: 'line-too-long', tag: null } }]);
  });

  it('skips a non-sync literal announced by an over-long line', () => {
    const events = frameAll('a1 X ' + 'y'.repeat(100) + ' {5+}\r\nhello\r\na2 NOOP\r\n', undefined, { maxLineBytes: 50 });
    assert.deepEqual(events, [
      { ev: 'error', err: { kind: 'line-too-long', tag: 'a1' } },
      { ev: 'command', cmd: { parts: [text('a2 NOOP')], bytes: 9 } },
    ]);
  });

  it('refuses a too-large sync literal without a continuation', () => {
    const events = frameAll('a1 APPEND INBOX {100}\r\na2 NOOP\r\n', undefined, { maxLiteralBytes: 10 });
    assert.deepEqual(events, [
      { ev: 'error', err: { kind: 'literal-too-large', tag: 'a1', size: 100 } },
      { ev: 'command', cmd: { parts: [text('a2 NOOP')], bytes: 9 } },
    ]);
  });

  it('skips a refused non-sync literal without buffering it, then the rest of its command', () => {
    const size = 200_000;
    const { framer, events } = makeFramer({ maxLiteralBytes: 1000 });
    framer.push(Buffer.from(`a1 APPEND INBOX {${size}+}\r\n`));
    assert.deepEqual(errors(events), [{ kind: 'literal-too-large', tag: 'a1', size }]);
    const piece = Buffer.alloc(1000, 0x62);
    for (let i = 0; i < size / piece.length; i++) {
      framer.push(piece);
      assert.equal(framer.bufferedBytes, 0);
    }
    // The rest of the refused command, including another non-sync literal, is dropped too.
    framer.push(Buffer.from(' trailing {3+}\r\n{1}\r\n'));
    framer.push(Buffer.from('a2 NOOP\r\n'));
    assert.deepEqual(events.slice(1), [{ ev: 'command', cmd: { parts: [text('a2 NOOP')], bytes: 9 } }]);
    assert.equal(events.some((e) => e.ev === 'continuation'), false);
  });

  it('is fatal when a refused non-sync literal is too large to skip', () => {
    const { framer, events } = makeFramer({ maxLiteralBytes: 10, maxDiscardBytes: 1000 });
    framer.push(Buffer.from('a1 APPEND INBOX {5000+}\r\n' + 'x'.repeat(100)));
    framer.push(Buffer.from('\r\na2 NOOP\r\n'));
    assert.equal(events.length, 1);
    const [err] = errors(events);
    assert.equal(err!.kind, 'fatal');
    assert.equal(framer.bufferedBytes, 0);
  });

  it('enforces maxLiterals and maxCommandBytes', () => {
    let events = frameAll('a1 X {1}\r\na {1}\r\nb {1}\r\nc\r\na2 NOOP\r\n', undefined, { maxLiterals: 2 });
    assert.deepEqual(events, [
      { ev: 'continuation' },
      { ev: 'continuation' },
      { ev: 'error', err: { kind: 'too-many-literals', tag: 'a1' } },
      // The client never sends the refused literal; "c" arrives as a line of its own.
      { ev: 'command', cmd: { parts: [text('c')], bytes: 3 } },
      { ev: 'command', cmd: { parts: [text('a2 NOOP')], bytes: 9 } },
    ]);

    events = frameAll('a1 X {40+}\r\n' + 'z'.repeat(40) + '\r\na2 NOOP\r\n', undefined, { maxCommandBytes: 30 });
    assert.deepEqual(events, [
      { ev: 'error', err: { kind: 'command-too-large', tag: 'a1' } },
      { ev: 'command', cmd: { parts: [text('a2 NOOP')], bytes: 9 } },
    ]);
  });

  it('applies setLimits to later literals', () => {
    const { framer, events } = makeFramer({ maxLiteralBytes: 4 });
    framer.push(Buffer.from('a1 APPEND INBOX {6}\r\n'));
    assert.equal(errors(events)[0]?.kind, 'literal-too-large');
    framer.setLimits({ maxLiteralBytes: 10 });
    framer.push(Buffer.from('a2 APPEND INBOX {6}\r\nabcdef\r\n'));
    assert.equal(commands(events).length, 1);
    assert.equal(DEFAULT_LIMITS.maxLiteralBytes, 1024 * 1024);
  });

  it('ignores everything after a fatal error', () => {
    const { framer, events } = makeFramer({ maxDiscardBytes: 0, maxLiteralBytes: 0 });
    framer.push(Buffer.from('a1 X {1+}\r\n'));
    framer.push(Buffer.from('a2 NOOP\r\n'));
    assert.deepEqual(events.map((e) => e.ev), ['error']);
  });
});

// ---------------------------------------------------------------------------

const atomT = (value: string): Token => ({ type: 'atom', value });
const str = (s: string, literal = false): Token => ({ type: 'string', value: Buffer.from(s), literal });
const list = (...items: Token[]): Token => ({ type: 'list', items });
const parseLine = (line: string) => parseCommand(cmd(text(line)));

function assertParseError(c: FramedCommand | string, tag: string | null, message?: RegExp): void {
  const framed = typeof c === 'string' ? cmd(text(c)) : c;
  assert.throws(
    () => parseCommand(framed),
    (e: unknown) => {
      assert.ok(e instanceof ParseError, `expected ParseError, got ${String(e)}`);
      assert.equal(e.tag, tag);
      if (message) assert.match(e.message, message);
      return true;
    },
  );
}

describe('CommandFramer.hold', () => {
  it('keeps the input after the held command until release, then frames it under the limits then in force', () => {
    const events: Event[] = [];
    const framer: CommandFramer = new CommandFramer(
      {
        onCommand: (cmd) => {
          events.push({ ev: 'command', cmd });
          framer.hold();
        },
        onContinuation: () => events.push({ ev: 'continuation' }),
        onError: (err) => events.push({ ev: 'error', err }),
      },
      { maxLiteralBytes: 10 },
    );
    const input = Buffer.from('a LOGIN x y\r\nb NOOP {20}\r\n');
    framer.push(input);
    input.fill(0); // the caller may reuse its chunk: what is held must be a copy
    assert.equal(commands(events).length, 1);
    assert.equal(framer.bufferedBytes, 13, 'the held rest counts as buffered');
    framer.setLimits({ maxLiteralBytes: 100 });
    framer.release();
    assert.deepEqual(events.slice(1), [{ ev: 'continuation' }]);
    framer.push(Buffer.from('x'.repeat(20) + '\r\n'));
    assert.equal((commands(events)[1].parts[1] as { data: Buffer }).data.length, 20);
  });
});

describe('parseCommand', () => {
  it('parses tag, upper-cased name and no args', () => {
    assert.deepEqual(parseLine('a1 noop'), { tag: 'a1', name: 'NOOP', args: [] });
    assert.deepEqual(parseLine('a1 NOOP '), { tag: 'a1', name: 'NOOP', args: [] }, 'trailing space tolerated');
  });

  it('parses UID FETCH with a sequence set and a list', () => {
    assert.deepEqual(parseLine('A003 UID FETCH 1:*,5 (FLAGS UID)'), {
      tag: 'A003',
      name: 'UID',
      args: [atomT('FETCH'), atomT('1:*,5'), list(atomT('FLAGS'), atomT('UID'))],
    });
  });

  it('keeps FETCH section specs with spaces, parens and partials as one atom', () => {
    const r = parseLine('a1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To Cc)]<0.2048> BODY[1.2.MIME] RFC822.SIZE)');
    assert.deepEqual(r.args, [
      atomT('1'),
      list(atomT('BODY.PEEK[HEADER.FIELDS (From To Cc)]<0.2048>'), atomT('BODY[1.2.MIME]'), atomT('RFC822.SIZE')),
    ]);
    assert.deepEqual(parseLine('a1 FETCH 1 BODY[HEADER.FIELDS ("X-A\\"b" To)]').args[1], atomT('BODY[HEADER.FIELDS ("X-A\\"b" To)]'));
    assert.deepEqual(parseLine('a1 FETCH 1 BODY[]').args[1], atomT('BODY[]'));
  });

  it("gives '[' no meaning outside FETCH: it is an ATOM-CHAR, ']' an ASTRING-CHAR (RFC 3501 §9)", () => {
    const odd = "!#$&'+,-.0123456789:;<=>?@^_`|[}";
    assert.deepEqual(parseLine(`a1 SELECT ${odd}`).args, [atomT(odd)]);
    assert.deepEqual(parseLine('a1 LIST "" [x').args, [str(''), atomT('[x')]);
    assert.deepEqual(parseLine('a1 CREATE a[b c]').args, [atomT('a[b'), atomT('c]')], 'no bracket swallows the space');
    assert.deepEqual(parseLine('a1 UID FETCH 1 BODY[HEADER.FIELDS (A B)]').args[2], atomT('BODY[HEADER.FIELDS (A B)]'), 'UID FETCH keeps sections');
  });

  it('rejects bad brackets', () => {
    assertParseError('a1 FETCH 1 BODY[1[2]]', 'a1', /Nested/);
    assertParseError('a1 FETCH 1 (BODY[HEADER', 'a1', /Missing "\]"/);
    assertParseError(cmd(text('a1 FETCH 1 BODY[HEADER.FIELDS ('), lit('From'), text(')]')), 'a1', /Literal not allowed/);
  });

  it('parses flags, \\*, NIL, wildcards and empty lists', () => {
    const r = parseLine('a1 STORE 1 +FLAGS (\\Seen \\* $Junk) NIL * % "" ()');
    assert.deepEqual(r.args, [
      atomT('1'),
      atomT('+FLAGS'),
      list(atomT('\\Seen'), atomT('\\*'), atomT('$Junk')),
      atomT('NIL'),
      atomT('*'),
      atomT('%'),
      str(''),
      list(),
    ]);
  });

  it('unescapes quoted strings and keeps UTF-8', () => {
    const r = parseLine('a1 LOGIN "b\\"o\\\\b" "pässwörd"');
    assert.deepEqual(r.args, [str('b"o\\b'), str('pässwörd')]);
  });

  it('rejects bad quoted strings', () => {
    assertParseError('a1 LOGIN "bob', 'a1', /Unterminated quoted string/);
    assertParseError('a1 LOGIN "b\\ob" x', 'a1', /Invalid escape/);
    assertParseError('a1 LOGIN "b\0b" x', 'a1', /NUL/);
    assertParseError('a1 LOGIN "b\rb" x', 'a1', /CR/);
  });

  it('turns literals into string tokens and continues after them', () => {
    const r = parseCommand(cmd(text('A1 LOGIN '), lit('bob'), text(' '), lit('bob-pass', true), text('')));
    assert.deepEqual(r, { tag: 'A1', name: 'LOGIN', args: [str('bob', true), str('bob-pass', true)] });
    const withNul = parseCommand(cmd(text('A2 APPEND INBOX ('), lit('a\0b'), text(' x)')));
    assert.deepEqual(withNul.args, [atomT('INBOX'), list(str('a\0b', true), atomT('x'))]);
  });

  it('parses what the framer produces', () => {
    const parsed = commands(frameAll(LOGIN)).map((c) => parseCommand(c));
    assert.deepEqual(parsed, [
      { tag: 'a1', name: 'LOGIN', args: [str('bob', true), str('bob-pass', true)] },
      { tag: 'a2', name: 'NOOP', args: [] },
    ]);
  });

  it('limits list nesting', () => {
    const ok = 'a1 X ' + '('.repeat(16) + ')'.repeat(16);
    assert.equal(parseLine(ok).args.length, 1);
    assertParseError('a1 X ' + '('.repeat(17) + ')'.repeat(17), 'a1', /nested/);
    assert.throws(() => parseCommand(cmd(text('a1 X ((()))')), 2), ParseError);
  });

  it('rejects unbalanced parentheses and bad separators', () => {
    assertParseError('a1 X (a b', 'a1', /Missing "\)"/);
    assertParseError('a1 X a)', 'a1', /Unexpected "\)"/);
    assertParseError('a1 X (a) (b )', 'a1', /space before/);
    assertParseError('a1 X ( a)', 'a1', /extra space/);
    assertParseError('a1 X a  b', 'a1', /extra space/);
    assertParseError('a1  NOOP', 'a1', /extra space/);
    assertParseError('a1 X (a)(b)', 'a1', /Missing space/);
    assertParseError('a1 X "a"b', 'a1', /Missing space/);
    assertParseError(cmd(text('a1 X foo'), lit('bar'), text('')), 'a1', /space before literal/);
    assertParseError('a1 X {3}', 'a1', /literal/);
    assertParseError('a1 X a\x01b', 'a1', /control character/);
  });

  it('rejects bad tags with tag null', () => {
    assertParseError('', null, /Empty/);
    assertParseError(' a1 NOOP', null, /Missing tag/);
    assertParseError('a+1 NOOP', null, /tag/);
    assertParseError('a*1 NOOP', null, /tag/);
    assertParseError('(a NOOP', null, /tag/);
    assertParseError(cmd(lit('a1'), text(' NOOP')), null, /tag/);
    assertParseError('a1', 'a1', /Missing command name/);
    assertParseError('a1 ', 'a1', /Missing command name/);
    assertParseError('a1 NO(OP', 'a1', /Invalid command name/);
    assert.equal(parseLine('a]1 NOOP').tag, 'a]1');
  });

  it('has token helpers', () => {
    assert.equal(tokenToString(atomT('INBOX')), 'INBOX');
    assert.equal(tokenToString(str('Entwürfe')), 'Entwürfe');
    assert.equal(tokenToString(list()), null);
    assert.equal(isAtom(atomT('nil'), 'NIL'), true);
    assert.equal(isAtom(str('NIL'), 'NIL'), false);
    assert.equal(isAtom(undefined, 'NIL'), false);
  });
});

describe('literal8 (RFC 3516 §4.4 / §9 literal8 = "~{" number ["+"] "}" CRLF *OCTET)', () => {
  it('frames ~{n} and ~{n+} as binary literals holding NUL; the parser keeps the mark on the token', () => {
    const input = Buffer.concat([Buffer.from('a1 APPEND INBOX ~{3}\r\n'), Buffer.from([0x61, 0x00, 0x62]), Buffer.from(' ~{2+}\r\n'), Buffer.from([0x00, 0x00]), Buffer.from(' {1}\r\nx\r\n')]);
    const events = frameAll(input);
    assert.deepEqual(events.map((e) => e.ev), ['continuation', 'continuation', 'command']);
    const [c] = commands(events);
    assert.deepEqual(c!.parts, [
      text('a1 APPEND INBOX '),
      { kind: 'literal', data: Buffer.from([0x61, 0x00, 0x62]), nonSync: false, binary: true },
      text(' '),
      { kind: 'literal', data: Buffer.from([0, 0]), nonSync: true, binary: true },
      text(' '),
      lit('x'),
      text(''),
    ]);
    const parsed = parseCommand(c!);
    assert.deepEqual(parsed.args.map((a) => a.type === 'string' && a.binary === true), [false, true, true, false]);
  });
});

describe('literal8 outside APPEND / REPLACE (RFC 3516 §9)', () => {
  it('is a syntax error', () => {
    const bin = { kind: 'literal', data: Buffer.from('bob'), nonSync: true, binary: true } as const;
    assertParseError(cmd(text('a1 LOGIN '), bin, text(' x')), 'a1', /literal8/);
    assertParseError(cmd(text('a2 UID FETCH '), bin, text(' FLAGS')), 'a2', /literal8/);
    assert.equal(parseCommand(cmd(text('a3 UID REPLACE 1 INBOX '), bin, text(''))).args.length, 4);
  });
});
