// RFC 5228 §8 grammar: the lexer and the parser that turns a script's text
// into a syntax tree. Every node carries the line it starts on, so compile
// errors (and ManageSieve's PUTSCRIPT/CHECKSCRIPT replies) can name it.
// Nothing here knows which commands exist: that is validate.ts.

export interface SieveError {
  line: number;
  message: string;
}

export type Argument =
  | { kind: 'tag'; name: string; line: number }
  | { kind: 'number'; value: number; line: number }
  | { kind: 'string'; value: string; line: number }
  | { kind: 'list'; values: string[]; line: number };

export interface TestNode {
  name: string;
  line: number;
  args: Argument[];
  tests: TestNode[];
  /** Whether the tests were written as a parenthesised list (allof/anyof) rather than one test. */
  testList: boolean;
}

export interface CommandNode {
  name: string;
  line: number;
  args: Argument[];
  tests: TestNode[];
  testList: boolean;
  /** The `{ … }` block, or null when the command ended with ";". */
  block: CommandNode[] | null;
}

export interface ParseLimits {
  /** Bytes of script text. */
  maxScriptSize: number;
  /** Blocks and tests nested inside each other. */
  maxNesting: number;
  /** Items in one string list. */
  maxListItems: number;
}

type Token =
  | { t: 'id'; v: string; line: number }
  | { t: 'tag'; v: string; line: number }
  | { t: 'num'; v: number; line: number }
  | { t: 'str'; v: string; line: number }
  | { t: 'punct'; v: string; line: number }
  | { t: 'eof'; line: number };

/** A compile error; thrown inside the parser and turned into a result by compile. */
export class SieveSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const ID_START = /[A-Za-z_]/;
const ID_CHAR = /[A-Za-z0-9_]/;
/** Numbers are held as JS numbers: past 2^53 they would stop being exact. */
const MAX_NUMBER = Number.MAX_SAFE_INTEGER;

class Lexer {
  private i = 0;
  line = 1;
  constructor(private readonly s: string) {}

  next(): Token {
    this.skipSpace();
    const s = this.s;
    const line = this.line;
    if (this.i >= s.length) return { t: 'eof', line };
    const c = s[this.i];
    if ('[](){},;'.includes(c)) {
      this.i++;
      return { t: 'punct', v: c, line };
    }
    if (c === '"') return { t: 'str', v: this.quoted(), line };
    if (c === ':') {
      this.i++;
      if (!ID_START.test(s[this.i] ?? '')) throw new SieveSyntaxError(line, "expected a tag name after ':'");
      return { t: 'tag', v: this.identifier().toLowerCase(), line };
    }
    if (c >= '0' && c <= '9') return { t: 'num', v: this.number(), line };
    if (ID_START.test(c)) {
      const id = this.identifier();
      if (id.toLowerCase() === 'text' && s[this.i] === ':') {
        this.i++;
        return { t: 'str', v: this.multiline(), line };
      }
      return { t: 'id', v: id.toLowerCase(), line };
    }
    throw new SieveSyntaxError(line, `unexpected character ${JSON.stringify(c)}`);
  }

  private skipSpace(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === '\n') {
        this.line++;
        this.i++;
      } else if (c === ' ' || c === '\t' || c === '\r') this.i++;
      else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else if (c === '/' && s[this.i + 1] === '*') {
        const start = this.line;
        const end = s.indexOf('*/', this.i + 2);
        if (end < 0) throw new SieveSyntaxError(start, 'unterminated comment');
        this.countLines(this.i, end);
        this.i = end + 2;
      } else return;
    }
  }

  private countLines(from: number, to: number): void {
    for (let k = this.s.indexOf('\n', from); k >= 0 && k < to; k = this.s.indexOf('\n', k + 1)) this.line++;
  }

  private identifier(): string {
    const start = this.i;
    while (this.i < this.s.length && ID_CHAR.test(this.s[this.i])) this.i++;
    return this.s.slice(start, this.i);
  }

  private number(): number {
    const start = this.i;
    while (this.i < this.s.length && this.s[this.i] >= '0' && this.s[this.i] <= '9') this.i++;
    let n = Number(this.s.slice(start, this.i));
    const q = (this.s[this.i] ?? '').toUpperCase();
    if (q === 'K' || q === 'M' || q === 'G') {
      n *= q === 'K' ? 1024 : q === 'M' ? 1024 ** 2 : 1024 ** 3;
      this.i++;
    }
    if (!(n <= MAX_NUMBER)) throw new SieveSyntaxError(this.line, `number ${this.s.slice(start, this.i)} is too large`);
    if (ID_CHAR.test(this.s[this.i] ?? '')) throw new SieveSyntaxError(this.line, `invalid number ${JSON.stringify(this.s.slice(start, this.i + 1))}`);
    return n;
  }

  /** A quoted string: \" and \\ are escapes, any other \x is x (RFC 5228 §2.4.2). */
  private quoted(): string {
    const s = this.s;
    const startLine = this.line;
    let out = '';
    let run = ++this.i;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === '"') {
        out += s.slice(run, this.i);
        this.i++;
        return out;
      }
      if (c === '\\') {
        out += s.slice(run, this.i);
        this.i++;
        if (this.i >= s.length) break;
        if (s[this.i] === '\n') this.line++;
        out += s[this.i];
        run = ++this.i;
        continue;
      }
      if (c === '\n') this.line++;
      this.i++;
    }
    throw new SieveSyntaxError(startLine, 'unterminated string');
  }

  /** `text:` … lines … `.`: dot-stuffed lines, CRLF or LF; the value has CRLF line ends. */
  private multiline(): string {
    const s = this.s;
    const startLine = this.line;
    while (s[this.i] === ' ' || s[this.i] === '\t') this.i++;
    if (s[this.i] === '#') while (this.i < s.length && s[this.i] !== '\n') this.i++;
    if (s[this.i] === '\r') this.i++;
    if (s[this.i] !== '\n') throw new SieveSyntaxError(startLine, "text: must be followed by a line break");
    this.i++;
    this.line++;
    const lines: string[] = [];
    while (this.i < s.length) {
      let eol = s.indexOf('\n', this.i);
      if (eol < 0) eol = s.length;
      let text = s.slice(this.i, eol);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      this.i = Math.min(eol + 1, s.length);
      if (eol < s.length) this.line++;
      if (text === '.') return lines.map((l) => l + '\r\n').join('');
      lines.push(text.startsWith('.') ? text.slice(1) : text);
    }
    throw new SieveSyntaxError(startLine, "unterminated multi-line string (missing a line with a single '.')");
  }
}

class Parser {
  private tok: Token;
  private depth = 0;
  constructor(
    private readonly lx: Lexer,
    private readonly limits: ParseLimits,
  ) {
    this.tok = lx.next();
  }

  private advance(): Token {
    const t = this.tok;
    this.tok = this.lx.next();
    return t;
  }
  private isPunct(v: string): boolean {
    return this.tok.t === 'punct' && this.tok.v === v;
  }
  private describe(t: Token): string {
    switch (t.t) {
      case 'eof':
        return 'end of script';
      case 'id':
        return `identifier '${t.v}'`;
      case 'tag':
        return `tag ':${t.v}'`;
      case 'num':
        return `number ${t.v}`;
      case 'str':
        return 'string';
      default:
        return `'${t.v}'`;
    }
  }
  private expectPunct(v: string, what: string): void {
    if (!this.isPunct(v)) throw new SieveSyntaxError(this.tok.line, `expected ${what} but found ${this.describe(this.tok)}`);
    this.advance();
  }
  private enter(line: number): void {
    if (++this.depth > this.limits.maxNesting) throw new SieveSyntaxError(line, `nesting deeper than ${this.limits.maxNesting} levels`);
  }

  script(): CommandNode[] {
    const out = this.commands();
    if (this.tok.t !== 'eof') throw new SieveSyntaxError(this.tok.line, `unexpected ${this.describe(this.tok)}`);
    return out;
  }

  private commands(): CommandNode[] {
    const out: CommandNode[] = [];
    while (this.tok.t === 'id') out.push(this.command());
    return out;
  }

  private command(): CommandNode {
    const id = this.advance() as { t: 'id'; v: string; line: number };
    const { args, tests, testList } = this.arguments();
    let block: CommandNode[] | null = null;
    if (this.isPunct(';')) this.advance();
    else if (this.isPunct('{')) {
      this.enter(this.tok.line);
      this.advance();
      block = this.commands();
      this.expectPunct('}', "'}' to end the block");
      this.depth--;
    } else throw new SieveSyntaxError(this.tok.line, `expected ';' or '{' after command '${id.v}' but found ${this.describe(this.tok)}`);
    return { name: id.v, line: id.line, args, tests, testList, block };
  }

  private arguments(): { args: Argument[]; tests: TestNode[]; testList: boolean } {
    const args: Argument[] = [];
    for (;;) {
      const t = this.tok;
      if (t.t === 'tag') args.push({ kind: 'tag', name: t.v, line: t.line });
      else if (t.t === 'num') args.push({ kind: 'number', value: t.v, line: t.line });
      else if (t.t === 'str') args.push({ kind: 'string', value: t.v, line: t.line });
      else if (this.isPunct('[')) {
        args.push(this.stringList());
        continue;
      } else break;
      this.advance();
    }
    if (this.tok.t === 'id') return { args, tests: [this.test()], testList: false };
    if (this.isPunct('(')) {
      this.enter(this.tok.line);
      this.advance();
      const tests = [this.test()];
      while (this.isPunct(',')) {
        this.advance();
        tests.push(this.test());
      }
      this.expectPunct(')', "')' or ',' in the test list");
      this.depth--;
      return { args, tests, testList: true };
    }
    return { args, tests: [], testList: false };
  }

  private test(): TestNode {
    if (this.tok.t !== 'id') throw new SieveSyntaxError(this.tok.line, `expected a test but found ${this.describe(this.tok)}`);
    const id = this.advance() as { t: 'id'; v: string; line: number };
    this.enter(id.line);
    const { args, tests, testList } = this.arguments();
    this.depth--;
    return { name: id.v, line: id.line, args, tests, testList };
  }

  private stringList(): Argument {
    const line = this.tok.line;
    this.advance();
    const values: string[] = [];
    for (;;) {
      const t = this.tok;
      if (t.t !== 'str') throw new SieveSyntaxError(t.line, `expected a string in the string list but found ${this.describe(t)}`);
      if (values.length >= this.limits.maxListItems) throw new SieveSyntaxError(t.line, `string list longer than ${this.limits.maxListItems} items`);
      values.push(t.v);
      this.advance();
      if (this.isPunct(',')) {
        this.advance();
        continue;
      }
      this.expectPunct(']', "',' or ']' in the string list");
      return { kind: 'list', values, line };
    }
  }
}

/** Parses a script into its commands; throws SieveSyntaxError at the first error. */
export function parseScript(text: string, limits: ParseLimits): CommandNode[] {
  return new Parser(new Lexer(text), limits).script();
}
