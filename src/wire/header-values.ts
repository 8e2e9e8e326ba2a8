// Header field values as RFC 5322/2047 write them: encoded words, dates and
// message IDs. Pure functions, shared by the stored summaries, SEARCH and SORT.
import libmime from 'libmime';

/** RFC 2047 encoded words decoded; a value that fails to decode is kept as it is. */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

// ---------------------------------------------------------------------------
// Dates (RFC 2822 §3.3, with the obsolete zones of §4.3)

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONES: Record<string, number> = { UT: 0, GMT: 0, Z: 0, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420 };

/** `ms`: the instant in UTC; `day`: the calendar day as written, in days since the epoch. */
export function parseRfc2822Date(text: string): { ms: number; day: number } | null {
  const s = text.replace(/\([^)]*\)/g, ' ');
  const m = /^\s*(?:[A-Za-z]+\s*,?\s*)?(\d{1,2})\s*[-\s]\s*([A-Za-z]{3})[A-Za-z]*\s*[-\s]\s*(\d{2,4})\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\s*([+-]\d{4}|[A-Za-z]{1,5}))?/.exec(s);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2].toLowerCase());
  if (month < 0) return null;
  let year = Number(m[3]);
  if (m[3].length <= 2) year += year < 50 ? 2000 : 1900;
  else if (m[3].length === 3) year += 1900;
  const day = Number(m[1]);
  const [h, mi, sec] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60) return null;
  let offset = 0;
  const z = m[7];
  if (z) {
    if (z[0] === '+' || z[0] === '-') {
      const n = Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5));
      offset = z[0] === '-' ? -n : n;
    } else offset = ZONES[z.toUpperCase()] ?? 0;
  }
  const local = Date.UTC(year, month, day, h, mi, sec);
  return { ms: local - offset * 60_000, day: Math.floor(Date.UTC(year, month, day) / 86_400_000) };
}

/** The calendar day (server's local time zone) of an instant, in days since the epoch. */
export function localDay(d: Date): number {
  return Math.floor(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 86_400_000);
}

// ---------------------------------------------------------------------------
// Message-IDs (RFC 5322 msg-id; RFC 5256 §2.2: quoting normalised)

/**
 * Every valid `<id-left@id-right>` in a Message-ID / References / In-Reply-To
 * value, in order, normalised: comments and whitespace dropped, a quoted
 * id-left unquoted. Angle-bracketed text without "@" is not a msg-id.
 */
export function parseMsgIds(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = value.length;
  while (i < n) {
    const c = value[i];
    if (c === '(') {
      i = skipComment(value, i);
      continue;
    }
    if (c === '"') {
      i = skipQuoted(value, i).end;
      continue;
    }
    if (c !== '<') {
      i++;
      continue;
    }
    // inside <...>
    let j = i + 1;
    let id = '';
    let ok = true;
    while (j < n && value[j] !== '>') {
      const d = value[j];
      if (d === '<') {
        ok = false;
        break;
      }
      if (d === '(') j = skipComment(value, j);
      else if (d === '"') {
        const q = skipQuoted(value, j);
        id += q.text;
        j = q.end;
      } else {
        if (d !== ' ' && d !== '\t' && d !== '\r' && d !== '\n') id += d;
        j++;
      }
    }
    if (j >= n) break;
    if (ok) {
      const at = id.lastIndexOf('@');
      if (at > 0 && at < id.length - 1) out.push(id);
      i = j + 1;
    } else i = j;
  }
  return out;
}

function skipComment(s: string, i: number): number {
  let depth = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return s.length;
}

function skipQuoted(s: string, i: number): { text: string; end: number } {
  let text = '';
  for (i++; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) text += s[++i];
    else if (c === '"') return { text, end: i + 1 };
    else text += c;
  }
  return { text, end: s.length };
}
