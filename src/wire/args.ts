// Reading command arguments from tokens, with clear BAD replies when they are wrong.
import { BadError } from './errors.js';
import type { Token } from './parser.js';

export class ArgReader {
  private i = 0;
  constructor(
    private readonly args: Token[],
    private readonly what: string,
  ) {}

  private next(kind: string): Token {
    const t = this.args[this.i++];
    if (!t) throw new BadError(`${this.what}: missing ${kind}`);
    return t;
  }

  /** astring: atom, quoted string or literal. */
  astring(kind = 'argument'): string {
    const t = this.next(kind);
    if (t.type === 'list') throw new BadError(`${this.what}: expected ${kind}, got a list`);
    return t.type === 'atom' ? t.value : t.value.toString('utf8');
  }

  atom(kind = 'argument'): string {
    const t = this.next(kind);
    if (t.type !== 'atom') throw new BadError(`${this.what}: expected ${kind}`);
    return t.value;
  }

  list(kind = 'list'): Token[] {
    const t = this.next(kind);
    if (t.type !== 'list') throw new BadError(`${this.what}: expected a parenthesised ${kind}`);
    return t.items;
  }

  /** The next token, whatever it is, or undefined at the end. */
  peek(): Token | undefined {
    return this.args[this.i];
  }

  any(kind = 'argument'): Token {
    return this.next(kind);
  }

  get done(): boolean {
    return this.i >= this.args.length;
  }

  end(): void {
    if (!this.done) throw new BadError(`${this.what}: unexpected extra arguments`);
  }
}

/** A list of flag atoms: (\Seen $Forwarded) or a single flag. */
export function flagList(t: Token, what: string): string[] {
  const items = t.type === 'list' ? t.items : [t];
  return items.map((f) => {
    if (f.type !== 'atom' || !/^\\?[!#$&'+\-.0-9:<=>?@A-Z^_`a-z|~;,]+$/.test(f.value))
      throw new BadError(`${what}: invalid flag`);
    return f.value;
  });
}
