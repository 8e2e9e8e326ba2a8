// LIST/LSUB patterns (RFC 3501 §6.3.8): `*` matches anything, `%` anything
// but the hierarchy separator. Matched by simulating the pattern as an NFA,
// one pass over the name with a set of live positions, so the cost is at most
// name length × pattern length whatever the client sends. A regex with `.*`
// per wildcard backtracks: `LIST "" "<60 × *>Z"` took 15 s of CPU per name.

const STAR = -1;
const PERCENT = -2;

/** Longest pattern accepted (code points, after reference + pattern are joined). */
export const MAX_PATTERN_LENGTH = 1024;

export class ListPattern {
  /** Code points, or STAR / PERCENT. A run of wildcards is one: `*%*` is `*`, `%%` is `%`. */
  private readonly tokens: number[];
  private readonly sep: number;
  private live: Uint8Array;
  private next: Uint8Array;

  constructor(pattern: string, separator: string) {
    this.sep = separator.codePointAt(0)!;
    const tokens: number[] = [];
    for (const ch of pattern) {
      const t = ch === '*' ? STAR : ch === '%' ? PERCENT : ch.codePointAt(0)!;
      const last = tokens.length ? tokens[tokens.length - 1] : 0;
      if (t < 0 && last < 0) {
        if (t === STAR) tokens[tokens.length - 1] = STAR;
        continue;
      }
      tokens.push(t);
    }
    this.tokens = tokens;
    this.live = new Uint8Array(tokens.length + 1);
    this.next = new Uint8Array(tokens.length + 1);
  }

  matches(name: string): boolean {
    const { tokens, sep } = this;
    const n = tokens.length;
    let live = this.live;
    let next = this.next;
    live.fill(0);
    live[0] = 1;
    this.closure(live);
    for (const ch of name) {
      const c = ch.codePointAt(0)!;
      next.fill(0);
      let any = false;
      for (let i = 0; i < n; i++) {
        if (!live[i]) continue;
        const t = tokens[i];
        if (t === STAR || (t === PERCENT && c !== sep)) next[i] = 1;
        else if (t === c) next[i + 1] = 1;
        else continue;
        any = true;
      }
      if (!any) return false;
      this.closure(next);
      [live, next] = [next, live];
    }
    return live[n] === 1;
  }

  /** A wildcard also matches nothing: a live wildcard makes the position after it live. */
  private closure(set: Uint8Array): void {
    const { tokens } = this;
    for (let i = 0; i < tokens.length; i++) if (set[i] && tokens[i] < 0) set[i + 1] = 1;
  }
}
