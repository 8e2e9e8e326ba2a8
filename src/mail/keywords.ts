// dovecot-keywords: custom flag names ↔ the letters a–z used in file names.
//   0 $Forwarded
//   1 custom1
// Letter 'a' + index. Only 26 keywords fit in a Maildir file name.
import { promises as fs } from 'node:fs';
import { writeFileAtomically } from './atomic-write.js';
import path from 'node:path';
import { withDotlock } from './dotlock.js';

export const MAX_KEYWORDS = 26;
const LOCK = { staleMs: 120_000, timeoutMs: 30_000 };

export class KeywordTable {
  readonly file: string;
  private names: string[] = [];
  private stamp = '';

  constructor(dir: string) {
    this.file = path.join(dir, 'dovecot-keywords');
  }

  private async statStamp(): Promise<string> {
    try {
      const st = await fs.stat(this.file, { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      return 'missing';
    }
  }

  /** Re-reads the file if it changed; returns the names by index. */
  async load(): Promise<readonly string[]> {
    const stamp = await this.statStamp();
    if (stamp === this.stamp) return this.names;
    const names: string[] = [];
    const text = await fs.readFile(this.file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const m = /^(\d+) (.+)$/.exec(line);
      if (m && Number(m[1]) < MAX_KEYWORDS) names[Number(m[1])] = m[2];
    }
    this.names = names;
    this.stamp = stamp;
    return names;
  }

  /** The names currently known (no I/O). */
  get list(): readonly string[] {
    return this.names;
  }

  letterOf(name: string): string | null {
    const i = this.names.findIndex((n) => n !== undefined && n.toLowerCase() === name.toLowerCase());
    return i < 0 ? null : String.fromCharCode(97 + i);
  }

  nameOf(letter: string): string | null {
    return this.names[letter.charCodeAt(0) - 97] ?? null;
  }

  /** Letters for these names, adding missing names to the file. Null for a name that no longer fits. */
  async lettersFor(names: string[]): Promise<Array<string | null>> {
    await this.load();
    if (names.every((n) => this.letterOf(n) !== null)) return names.map((n) => this.letterOf(n));
    await withDotlock(this.file, LOCK, async () => {
      this.stamp = '';
      await this.load();
      let changed = false;
      for (const n of names) {
        if (this.letterOf(n) !== null) continue;
        let free = 0;
        while (free < MAX_KEYWORDS && this.names[free] !== undefined) free++;
        if (free >= MAX_KEYWORDS) continue;
        this.names[free] = n;
        changed = true;
      }
      if (!changed) return;
      const body = this.names.map((n, i) => (n === undefined ? '' : `${i} ${n}\n`)).join('');
      await writeFileAtomically(this.file, body);
      this.stamp = await this.statStamp();
    });
    return names.map((n) => this.letterOf(n));
  }
}
