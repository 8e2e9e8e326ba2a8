// RFC 5256 §2.1 base subject extraction, for SORT (SUBJECT) and THREAD.
// The subject must already have its encoded words decoded (step 1's first part).

export interface BaseSubject {
  /** The base subject; compare with `asciiUpper` (i;ascii-casemap). */
  base: string;
  /** A subj-refwd leader, a "(fwd)" trailer or a "[fwd: …]" wrapper was removed (RFC 5256 §2.2 step 5). */
  replyOrFwd: boolean;
}

/** i;ascii-casemap: ASCII letters upper-cased, everything else as is. */
export function asciiUpper(s: string): string {
  // ASCII only (most subjects): the native upper-casing is the same and ~10x faster than the replace.
  return NON_ASCII.test(s) ? s.replace(/[a-z]+/g, (m) => m.toUpperCase()) : s.toUpperCase();
}
const NON_ASCII = /[^\x00-\x7f]/;

const isWsp = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** subj-blob = "[" *BLOBCHAR "]" *WSP; returns its end, or -1. */
function blobAt(s: string, i: number): number {
  if (s[i] !== '[') return -1;
  let j = i + 1;
  while (j < s.length && s[j] !== ']') {
    if (s[j] === '[') return -1;
    j++;
  }
  if (j >= s.length) return -1;
  j++;
  while (isWsp(s[j])) j++;
  return j;
}

/** subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; returns its end, or -1. */
function refwdAt(s: string, i: number): number {
  const m = /^(?:re|fwd?)[ \t]*/i.exec(s.slice(i, i + 16));
  if (!m) return -1;
  let j = i + m[0].length;
  const b = blobAt(s, j);
  if (b >= 0) j = b;
  return s[j] === ':' ? j + 1 : -1;
}

/** subj-leader = (*subj-blob subj-refwd) / WSP: the leader's end and whether it held a refwd, or null. */
function leaderAt(s: string): { end: number; refwd: boolean } | null {
  if (isWsp(s[0])) return { end: 1, refwd: false };
  let i = 0;
  for (;;) {
    const r = refwdAt(s, i);
    if (r >= 0) return { end: r, refwd: true };
    const b = blobAt(s, i);
    if (b < 0) return null;
    i = b;
  }
}

export function baseSubject(subject: string): BaseSubject {
  // (1) tabs and line breaks to spaces, runs of spaces to one
  let s = subject.replace(/\r?\n/g, '').replace(/[\t\r\n]/g, ' ').replace(/ {2,}/g, ' ');
  let replyOrFwd = false;
  for (;;) {
    // (2) subj-trailer = "(fwd)" / WSP, as often as it matches
    for (;;) {
      if (isWsp(s[s.length - 1])) s = s.slice(0, -1);
      else if (s.length >= 5 && s.slice(-5).toLowerCase() === '(fwd)') {
        s = s.slice(0, -5);
        replyOrFwd = true;
      } else break;
    }
    // (5) repeat (3) and (4) until neither matches
    for (;;) {
      // (3) subj-leader
      const l = leaderAt(s);
      if (l) {
        s = s.slice(l.end);
        if (l.refwd) replyOrFwd = true;
        continue;
      }
      // (4) a subj-blob prefix, if what remains is a non-empty subj-base
      const b = blobAt(s, 0);
      if (b > 0 && s.slice(b).trim() !== '') {
        s = s.slice(b);
        continue;
      }
      break;
    }
    // (6) "[fwd:" … "]": unwrap and start over at (2)
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === '[fwd:' && s[s.length - 1] === ']') {
      s = s.slice(5, -1);
      replyOrFwd = true;
      continue;
    }
    return { base: s, replyOrFwd };
  }
}
