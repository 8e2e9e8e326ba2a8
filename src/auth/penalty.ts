// Failed-login penalty, as Dovecot's auth penalty: the first failure costs
// 2 s, each further one doubles it up to 15 s. It is counted per client IP
// (checks from one IP run one at a time, whatever the number of connections)
// and per user name (guesses at one account from many IPs escalate too).
// A success forgives only the failures made for the name that succeeded
// (the user's own typos): an attacker logging into an account of their own
// between guesses at someone else's no longer resets the escalation.
// Entries are forgotten some minutes after their last failure.

export interface PenaltyOptions {
  /** Delay after the first failure (Dovecot: 2 s). */
  initialMs: number;
  /** Longest delay (Dovecot: 15 s). */
  maxMs: number;
  /** An IP's (a name's) failures are forgotten this long after its last one. */
  forgetMs: number;
  /** Most IPs (and, apart, most user names) remembered at once; the stalest go first. */
  maxEntries: number;
  now: () => number;
}

export const DEFAULT_PENALTY: PenaltyOptions = {
  initialMs: 2_000,
  maxMs: 15_000,
  forgetMs: 10 * 60_000,
  maxEntries: 100_000,
  now: () => Date.now(),
};

/** Names of one IP's failures kept apart, so a success can forgive its own; the rest are counted together. */
const NAMES_PER_IP = 32;

interface Entry {
  failures: number;
  last: number;
  /** Until when further attempts wait. */
  until: number;
  /** For an IP: its failures by user name (at most NAMES_PER_IP names). */
  byName?: Map<string, number>;
}

/** Failure counts by key (an IP, a user name), most recent last, bounded and forgetful. */
class Tally {
  /** Insertion order is recency order: an update re-inserts. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: PenaltyOptions) {}

  get(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && this.opts.now() - e.last >= this.opts.forgetMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Records a failure; returns the entry (its failures count it) to set `until` on. */
  fail(key: string): Entry {
    const now = this.opts.now();
    const e = this.get(key) ?? { failures: 0, last: now, until: now };
    e.failures++;
    e.last = now;
    this.entries.delete(key);
    this.entries.set(key, e);
    this.trim();
    return e;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops forgotten entries from the stale end, and the stalest beyond maxEntries. */
  private trim(): void {
    const now = this.opts.now();
    for (const [key, e] of this.entries) {
      if (this.entries.size > this.opts.maxEntries || now - e.last >= this.opts.forgetMs) this.entries.delete(key);
      else break;
    }
  }
}

/** The key a user name is counted under: case does not make another account to guess at. */
function nameKey(user: string): string {
  return user.trim().toLowerCase().slice(0, 256);
}

export class FailurePenalty {
  readonly opts: PenaltyOptions;
  private readonly ips: Tally;
  private readonly names: Tally;
  /** Per IP, the end of the queue of password checks (see serialize). */
  private readonly gates = new Map<string, Promise<void>>();

  constructor(opts: Partial<PenaltyOptions> = {}) {
    this.opts = { ...DEFAULT_PENALTY, ...opts };
    this.ips = new Tally(this.opts);
    this.names = new Tally(this.opts);
  }

  /** The delay that the n-th failure in a row costs. */
  delayFor(failures: number): number {
    if (failures <= 0) return 0;
    return Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** Math.min(failures - 1, 30));
  }

  /** How long an attempt from this IP (for this user name, if given) must wait now: a penalty still running. */
  pending(ip: string, user?: string): number {
    const now = this.opts.now();
    const byIp = this.ips.get(ip);
    const byName = user === undefined ? undefined : this.names.get(nameKey(user));
    return Math.max(0, (byIp?.until ?? now) - now, (byName?.until ?? now) - now);
  }

  /**
   * Records a failure from `ip` for the name `user`; returns how long to hold
   * the failed reply: the longer of the IP's and the name's escalation.
   */
  fail(ip: string, user = ''): number {
    const now = this.opts.now();
    const e = this.ips.fail(ip);
    const key = nameKey(user);
    const byName = (e.byName ??= new Map());
    if (byName.has(key) || byName.size < NAMES_PER_IP) byName.set(key, (byName.get(key) ?? 0) + 1);
    let delay = this.delayFor(e.failures);
    e.until = now + delay;
    if (key) {
      const n = this.names.fail(key);
      const nameDelay = this.delayFor(n.failures);
      n.until = now + nameDelay;
      delay = Math.max(delay, nameDelay);
    }
    return delay;
  }

  /**
   * Runs one password check for `ip` after every earlier one from it has run
   * and the penalties it finds (the IP's, the name's) have passed: from one
   * address, guesses are made one at a time whatever the number of
   * connections (200 connections in parallel had 200 guesses checked in 20 s
   * when each waited only for the penalty it found at its start). Checks for
   * one name from many IPs wait out the name's penalty but do not queue
   * behind each other: a queue per name would let anyone lock its owner out.
   */
  serialize<T>(ip: string, user: string, check: () => Promise<T>): Promise<T> {
    const before = this.gates.get(ip) ?? Promise.resolve();
    const run = before.then(async () => {
      const wait = this.pending(ip, user);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return check();
    });
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.gates.set(ip, tail);
    void tail.then(() => {
      if (this.gates.get(ip) === tail) this.gates.delete(ip);
    });
    return run;
  }

  /**
   * `user` logged in from `ip`: the failures made for that name (from this IP,
   * and the name's own count) are forgiven — they were its owner's typos or
   * a stale password in one of their clients. Failures for other names stay.
   */
  succeed(ip: string, user: string): void {
    const key = nameKey(user);
    this.names.delete(key);
    const e = this.ips.get(ip);
    const own = e?.byName?.get(key);
    if (!e || !own) return;
    e.byName!.delete(key);
    e.failures -= own;
    if (e.failures <= 0) this.ips.delete(ip);
  }

  /** Failures counted for an IP. */
  failures(ip: string): number {
    return this.ips.get(ip)?.failures ?? 0;
  }

  /** Failures counted for a user name, from every IP. */
  nameFailures(user: string): number {
    return this.names.get(nameKey(user))?.failures ?? 0;
  }

  /** IPs remembered. */
  get size(): number {
    return this.ips.size;
  }
}

/** One key per client: IPv4-mapped IPv6 addresses are the IPv4 address (as fail2ban and firewalls see them). */
export function clientIp(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The key per-address limits count by: an IPv4 address, or an IPv6 /64 (one
 * subscriber's prefix: an attacker has 2^64 addresses in it, so counting each
 * one alone would limit nothing). Logs keep the whole address.
 */
export function addressGroup(address: string | undefined): string {
  const ip = clientIp(address);
  if (!ip.includes(':')) return ip;
  const [head, tail = ''] = ip.split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}
