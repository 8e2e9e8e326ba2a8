// IMAP command input (RFC 3501 §4, §9; literals RFC 7888), in two layers kept
// apart so each stays simple:
//  1. CommandFramer (framer.ts): socket bytes -> complete commands (text lines
//     + literals), within the memory limits.
//  2. parseCommand (here): one framed command -> tag, name and a token tree.
//     Commands interpret the tokens themselves (a sequence set and a mailbox
//     name are both just atoms/strings here).
import { isValidTag, type CommandPart, type FramedCommand, type LiteralSink } from './framer.js';

const LF = 0x0a;
const CR = 0x0d;

// The framer's API is re-exported: callers import the input side from one place.
export * from './framer.js';

export type Token =
  /** Atoms include NIL, numbers, flags (\Seen, \*), sequence sets, wildcards and FETCH items like BODY[1]<0.10>. */
  | { type: 'atom'; value: string }
  /** A quoted string (unescaped) or a literal. */
  /** `binary`: a literal8 (RFC 3516 `~{n}`). */
  | { type: 'string'; value: Buffer; literal: boolean; binary?: boolean; sink?: LiteralSink }
  | { type: 'list'; items: Token[] };

export interface ParsedCommand {
  tag: string;
  /** Upper-cased. `UID FETCH` is name UID with first arg atom FETCH. */
  name: string;
  args: Token[];
}

export class ParseError extends Error {
  constructor(
    readonly tag: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'ParseError';
  }
}


function isCtl(c: number): boolean {
  return c < 0x20 || c === 0x7f;
}

/** Lenient atom char: anything but SP ( ) { " and CTLs ('*', '%', '\', '[' and ']' are fine). */
function isAtomChar(c: number): boolean {
  return !(c === 0x20 || c === 0x28 || c === 0x29 || c === 0x7b || c === 0x22 || isCtl(c));
}

const COMMAND_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Where the tokenizer is, relative to the last thing it read. */
type State =
  | 'sep' //   after a token: expect SP, ')' or the end
  | 'space' // after SP: expect a token (or a tolerated trailing space at the very end)
  | 'open'; // after '(': expect a token or ')'

type Peek = { kind: 'char'; c: number } | { kind: 'literal'; data: Buffer; binary?: boolean; sink?: LiteralSink } | { kind: 'end' };

class Tokenizer {
  private pi = 0; // index into parts
  private pos = 0; // offset in the current text part
  tag: string | null = null;

  constructor(private readonly parts: CommandPart[]) {}

  fail(message: string): never {
    throw new ParseError(this.tag, message);
  }

  /** Current text part, or null when positioned at a literal / the end. */
  private text(): string | null {
    while (this.pi < this.parts.length) {
      const p = this.parts[this.pi]!;
      if (p.kind === 'literal') return null;
      if (this.pos < p.text.length) return p.text;
      this.pi++;
      this.pos = 0;
    }
    return null;
  }

  peek(): Peek {
    const t = this.text();
    if (t !== null) return { kind: 'char', c: t.charCodeAt(this.pos) };
    const p = this.parts[this.pi];
    return p && p.kind === 'literal' ? { kind: 'literal', data: p.data, binary: p.binary, sink: p.sink } : { kind: 'end' };
  }

  advance(): void {
    if (this.text() !== null) this.pos++;
    else if (this.pi < this.parts.length) {
      this.pi++;
      this.pos = 0;
    }
  }

  /** Characters up to SP or the end of the current text part. */
  readWord(): string {
    const t = this.text();
    if (t === null) return '';
    const sp = t.indexOf(' ', this.pos);
    const end = sp === -1 ? t.length : sp;
    const word = t.slice(this.pos, end);
    this.pos = end;
    return word;
  }

  /**
   * An atom. With `sections` (FETCH's items), the bracket rule: `[` … `]`
   * swallows spaces, parens and quoted strings (BODY[HEADER.FIELDS (A B)]).
   * Elsewhere `[` is an ATOM-CHAR like any other (RFC 3501 §9).
   */
  readAtom(sections: boolean): string {
    const t = this.text()!;
    const start = this.pos;
    let i = this.pos;
    while (i < t.length) {
      const c = t.charCodeAt(i);
      if (c === 0x5b /* [ */ && sections) {
        i = this.skipBracket(t, i + 1);
      } else if (isAtomChar(c)) {
        i++;
      } else {
        break;
      }
    }
    this.pos = i;
    return t.slice(start, i);
  }

  /** From just after '[' to just after its ']'. */
  private skipBracket(t: string, i: number): number {
    for (;;) {
      if (i >= t.length) {
        const next = this.parts[this.pi + 1];
        this.fail(next?.kind === 'literal' ? 'Literal not allowed inside [...]' : 'Missing "]"');
      }
      const c = t.charCodeAt(i);
      if (c === 0x5d /* ] */) return i + 1;
      if (c === 0x5b) this.fail('Nested "[" not allowed');
      if (c === 0x22 /* " */) {
        i = this.scanQuoted(t, i).end; // kept verbatim, but must be well-formed
      } else if (isCtl(c)) {
        this.fail('Invalid character inside [...]');
      } else {
        i++;
      }
    }
  }

  readQuoted(): Buffer {
    const t = this.text()!;
    const { value, end } = this.scanQuoted(t, this.pos);
    this.pos = end;
    return Buffer.from(value, 'utf8');
  }

  /** `t[i]` is the opening quote. Returns the unescaped value and the offset after the closing quote. */
  private scanQuoted(t: string, i: number): { value: string; end: number } {
    let value = '';
    let runStart = i + 1;
    for (let j = i + 1; j < t.length; j++) {
      const c = t.charCodeAt(j);
      if (c === 0x22) return { value: value + t.slice(runStart, j), end: j + 1 };
      if (c === 0x5c /* \ */) {
        const n = t.charCodeAt(j + 1);
        if (n !== 0x22 && n !== 0x5c) this.fail('Invalid escape in quoted string (only \\" and \\\\ allowed)');
        value += t.slice(runStart, j);
        runStart = j + 1; // keep the escaped char, drop the backslash
        j++;
      } else if (c === 0 || c === CR || c === LF) {
        this.fail('NUL, CR and LF are not allowed in a quoted string');
      }
    }
    return this.fail('Unterminated quoted string');
  }
}

/**
 * Tokenize one framed command. Throws ParseError; its `tag` is null when the
 * tag itself was missing or invalid (answer with `* BAD`).
 */
export function parseCommand(cmd: FramedCommand, maxDepth = 16): ParsedCommand {
  const tk: Tokenizer = new Tokenizer(cmd.parts); // explicit type: lets `never`-returning tk.fail() narrow

  // tag SP name
  const first = tk.peek();
  if (first.kind !== 'char') throw new ParseError(null, first.kind === 'end' ? 'Empty command' : 'Missing tag');
  if (first.c === 0x20) throw new ParseError(null, 'Missing tag');
  const tag = tk.readWord();
  if (!isValidTag(tag)) throw new ParseError(null, 'Invalid characters in tag');
  tk.tag = tag;
  const afterTag = tk.peek();
  if (afterTag.kind === 'end') tk.fail('Missing command name');
  if (afterTag.kind !== 'char' || afterTag.c !== 0x20) tk.fail('Missing space after tag');
  tk.advance();
  const nameStart = tk.peek();
  if (nameStart.kind === 'end') tk.fail('Missing command name');
  if (nameStart.kind === 'char' && nameStart.c === 0x20) tk.fail('Unexpected extra space after tag');
  if (nameStart.kind !== 'char') tk.fail('Command name must be an atom');
  const name = tk.readWord();
  if (!COMMAND_NAME.test(name)) tk.fail('Invalid command name');

  // Arguments: an explicit stack instead of recursion, so depth is just stack.length - 1.
  const args: Token[] = [];
  const stack: Token[][] = [args];
  let state: State = 'sep';
  const top = (): Token[] => stack[stack.length - 1]!;

  for (;;) {
    const p = tk.peek();

    if (p.kind === 'end') {
      if (stack.length > 1) tk.fail('Missing ")"');
      // 'space' here is a trailing space before CRLF: tolerated.
      break;
    }

    if (state === 'sep') {
      if (p.kind === 'literal') tk.fail('Missing space before literal');
      if (p.c === 0x20) {
        tk.advance();
        state = 'space';
      } else if (p.c === 0x29 /* ) */) {
        closeList();
      } else if (isCtl(p.c)) {
        tk.fail(`Invalid control character 0x${p.c.toString(16).padStart(2, '0')}`);
      } else {
        tk.fail(`Missing space between arguments (unexpected "${String.fromCharCode(p.c)}")`);
      }
      continue;
    }

    // state is 'space' or 'open': a token may start here.
    if (p.kind === 'literal') {
      // RFC 3516 §9: literal8 is append-data (and REPLACE's, RFC 8508) only; elsewhere it is a syntax error.
      if (p.binary && !takesLiteral8(name, args)) tk.fail('A literal8 (~{n}) is allowed only for APPEND or REPLACE data');
      tk.advance();
      const tok: Token = { type: 'string', value: p.data, literal: true };
      if (p.binary) tok.binary = true;
      if (p.sink) tok.sink = p.sink;
      top().push(tok);
      state = 'sep';
      continue;
    }
    const c = p.c;
    if (c === 0x20) {
      tk.fail('Unexpected extra space');
    } else if (c === 0x28 /* ( */) {
      if (stack.length > maxDepth) tk.fail(`Lists nested more than ${maxDepth} deep`);
      tk.advance();
      const items: Token[] = [];
      top().push({ type: 'list', items });
      stack.push(items);
      state = 'open';
    } else if (c === 0x29 /* ) */) {
      if (state === 'space') tk.fail('Unexpected space before ")"');
      closeList(); // empty list
    } else if (c === 0x22 /* " */) {
      top().push({ type: 'string', value: tk.readQuoted(), literal: false });
      state = 'sep';
    } else if (c === 0x7b /* { */) {
      tk.fail('Invalid literal (a literal marker must end the line)');
    } else if (isCtl(c)) {
      tk.fail(`Invalid control character 0x${c.toString(16).padStart(2, '0')}`);
    } else {
      // Only FETCH's items have section syntax; UID FETCH's first argument is the atom FETCH.
      const sections = name.toUpperCase() === 'FETCH' || (name.toUpperCase() === 'UID' && isAtom(args[0], 'FETCH'));
      top().push({ type: 'atom', value: tk.readAtom(sections) });
      state = 'sep';
    }
  }

  return { tag, name: name.toUpperCase(), args };

  function closeList(): void {
    if (stack.length === 1) tk.fail('Unexpected ")"');
    tk.advance();
    stack.pop();
    state = 'sep';
  }
}

function takesLiteral8(name: string, args: Token[]): boolean {
  const up = name.toUpperCase();
  return up === 'APPEND' || up === 'REPLACE' || (up === 'UID' && isAtom(args[0], 'REPLACE'));
}

/** Atom or string as a JS string (strings decoded as UTF-8); lists give null. */
export function tokenToString(t: Token): string | null {
  if (t.type === 'atom') return t.value;
  if (t.type === 'string') return t.value.toString('utf8');
  return null;
}

/** True when `t` is an atom equal to `value`, ignoring case. */
export function isAtom(t: Token | undefined, value: string): boolean {
  return t !== undefined && t.type === 'atom' && t.value.toUpperCase() === value.toUpperCase();
}
