// RFC 5260 date parts of an instant shown in a zone, and the parsing of a
// Date: header value with the zone it was written in (for :originalzone).

export const DATE_PARTS = ['year', 'month', 'day', 'date', 'julian', 'hour', 'minute', 'second', 'time', 'iso8601', 'std11', 'zone', 'weekday'] as const;
export type DatePart = (typeof DATE_PARTS)[number];

/** "+hhmm" / "-hhmm" as minutes east of UTC; null when malformed. */
export function parseZone(z: string): number | null {
  const m = /^([+-])(\d\d)(\d\d)$/.exec(z);
  if (!m || Number(m[3]) > 59) return null;
  const n = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -n : n;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const ZONES: Record<string, number> = { UT: 0, GMT: 0, Z: 0, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420 };

export interface ParsedDate {
  ms: number;
  /** The zone the date was written in, minutes east of UTC. */
  zone: number;
}

/** An RFC 2822 date-time (obsolete forms too); null when it is not one. */
export function parseHeaderDate(text: string): ParsedDate | null {
  if (text.length > 1000) return null;
  const s = text.replace(/\([^()]*\)/g, ' ');
  const m = /^\s*(?:[A-Za-z]{3}[A-Za-z]*\s*,\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[A-Za-z]{1,5})?\s*$/.exec(s);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2].toLowerCase());
  if (month < 0) return null;
  let year = Number(m[3]);
  if (m[3].length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3].length === 3) year += 1900;
  const day = Number(m[1]);
  const [h, mi, sec] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60) return null;
  let zone = 0;
  const z = m[7];
  if (z) {
    if (z[0] === '+' || z[0] === '-') {
      const n = Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5));
      zone = z[0] === '-' ? -n : n;
    } else zone = ZONES[z.toUpperCase()] ?? 0;
  }
  const ms = Date.UTC(year, month, day, h, mi, Math.min(sec, 59)) - zone * 60_000;
  if (!Number.isFinite(ms)) return null;
  return { ms, zone };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function zoneText(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${pad(Math.floor(a / 60))}${colon ? ':' : ''}${pad(a % 60)}`;
}

/** The date part of instant `ms` seen in the zone `zone` (minutes east of UTC). */
export function datePart(ms: number, zone: number, part: DatePart | string): string | null {
  const d = new Date(ms + zone * 60_000); // read with the UTC getters
  const Y = pad(d.getUTCFullYear(), 4);
  const M = pad(d.getUTCMonth() + 1);
  const D = pad(d.getUTCDate());
  const h = pad(d.getUTCHours());
  const mi = pad(d.getUTCMinutes());
  const s = pad(d.getUTCSeconds());
  switch (part) {
    case 'year':
      return Y;
    case 'month':
      return M;
    case 'day':
      return D;
    case 'date':
      return `${Y}-${M}-${D}`;
    case 'julian': {
      // Modified Julian Day: days since 1858-11-17
      const days = Math.floor(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) / 86_400_000);
      return String(days + 40587);
    }
    case 'hour':
      return h;
    case 'minute':
      return mi;
    case 'second':
      return s;
    case 'time':
      return `${h}:${mi}:${s}`;
    case 'iso8601':
      return `${Y}-${M}-${D}T${h}:${mi}:${s}${zoneText(zone, true)}`;
    case 'std11':
      return `${DAY_NAMES[d.getUTCDay()]}, ${D} ${MONTH_NAMES[d.getUTCMonth()]} ${Y} ${h}:${mi}:${s} ${zoneText(zone, false)}`;
    case 'zone':
      return zoneText(zone, false);
    case 'weekday':
      return String(d.getUTCDay());
  }
  return null;
}

/** The server's zone at instant `ms`, minutes east of UTC. */
export function localZone(ms: number): number {
  return -new Date(ms).getTimezoneOffset();
}
