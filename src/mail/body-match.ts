// SEARCH BODY/TEXT on a message too big to read whole: the file is read in
// chunks, turned into CRLF, split and decoded as a stream (body-stream.ts),
// folded, and every needle is looked for with the last (needle length − 1)
// characters of the text carried over to the next piece. Runs in a worker
// (body-match-pool.ts), reading synchronously: it blocks no one there.
import { READ_MESSAGE } from './message-file.js';
import fs from 'node:fs';
import { toCrlf } from './crlf.js';
import { fold } from './facts.js';
import { BodyTextStream } from './body-stream.js';

/**
 * Small pieces keep every string and buffer of a step in V8's young
 * generation, where a scavenge frees it at once: with 1 MB reads and 256 K
 * folds each step made megabytes of large objects that only a full
 * collection frees, and a thread held 20-45 MB more for a 200 MB message
 * (twice as slow, too).
 */
export const bodyMatchOptions = {
  /** Bytes read at a time. */
  chunk: 64 * 1024,
  /** Text folded at a time (characters); it is cut only where folding cannot depend on what follows. */
  foldBatch: 32 * 1024,
};

/**
 * fold() of a string given in pieces, given out in pieces: NFC and lower case
 * look across characters (a combining mark joins the letter before it; Σ is
 * ς at a word's end), so text is cut only before a character that neither
 * joins what comes before nor decides how it is lower-cased.
 */
export class StreamFolder {
  private pending = '';
  constructor(private readonly out: (folded: string) => void) {}

  write(s: string): void {
    this.pending += s;
    if (this.pending.length < bodyMatchOptions.foldBatch) return;
    const p = this.pending;
    let cut = -1;
    for (let i = p.length - 1; i > 0 && i >= p.length - s.length - 1; i--) {
      if (cutsBefore(p.charCodeAt(i))) {
        cut = i;
        break;
      }
    }
    // No place to cut in a whole batch more (text without a space or digit): cut anyway, rather than hold it all.
    if (cut < 0 && p.length >= 4 * bodyMatchOptions.foldBatch) cut = p.length;
    if (cut <= 0) return;
    this.out(fold(p.slice(0, cut)));
    this.pending = p.slice(cut);
  }

  end(): void {
    if (this.pending) this.out(fold(this.pending));
    this.pending = '';
  }
}

const NEUTRAL = /^[^\p{M}\p{Cased}\p{Case_Ignorable}\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff]$/u;

/** Whether folding is the same for text cut just before this UTF-16 unit. */
function cutsBefore(c: number): boolean {
  if (c < 0x80) return !((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x27 || c === 0x2e || c === 0x3a || c === 0x5e || c === 0x60);
  if (c >= 0xd800 && c <= 0xdfff) return false;
  return NEUTRAL.test(String.fromCharCode(c));
}

/** Looks for needles in folded text given in pieces. */
export class NeedleMatcher {
  readonly found: boolean[];
  private left: number;
  private carry = '';
  private readonly keep: number;
  constructor(private readonly needles: readonly string[]) {
    this.found = needles.map((n) => n === '');
    this.left = this.found.filter((f) => !f).length;
    this.keep = Math.max(0, ...needles.map((n) => n.length - 1));
  }
  get done(): boolean {
    return this.left === 0;
  }
  write(s: string): void {
    if (this.done || !s) return;
    const text = this.carry + s;
    for (let i = 0; i < this.needles.length; i++) {
      if (!this.found[i] && text.includes(this.needles[i])) {
        this.found[i] = true;
        this.left--;
      }
    }
    this.carry = this.keep ? text.slice(-this.keep) : '';
  }
}

/** Which of `needles` (folded) the body text of the message in `file` contains. Stops reading once all are found. */
export function matchBodyFile(file: string, needles: readonly string[]): boolean[] {
  const matcher = new NeedleMatcher(needles);
  if (matcher.done) return matcher.found;
  const folder = new StreamFolder((s) => matcher.write(s));
  const body = new BodyTextStream((s) => folder.write(s));
  const fd = fs.openSync(file, READ_MESSAGE);
  try {
    const buf = Buffer.allocUnsafe(bodyMatchOptions.chunk);
    let prevCR = false;
    for (let pos = 0; !matcher.done; ) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      pos += n;
      const raw = buf.subarray(0, n);
      // toCrlf copies only when it converts; the stream keeps nothing of `buf` past this call
      body.write(toCrlf(raw, prevCR));
      prevCR = raw[n - 1] === 0x0d;
    }
  } finally {
    fs.closeSync(fd);
  }
  if (!matcher.done) {
    body.end();
    folder.end();
  }
  return matcher.found;
}
