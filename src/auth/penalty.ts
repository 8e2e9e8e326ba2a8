// Failed-login penalty per client IP, as Dovecot's auth penalty: the first
// failure costs 2 s, each further one doubles it up to 15 s. A success from
// the IP clears it; otherwise it is forgotten some minutes after the last failure.

export interface PenaltyOptions {
  /** Delay after the first failure (Dovecot: 2 s). */
  initialMs: number;
  /** Longest delay (Dovecot: 15 s). */
  maxMs: number;
  /** An IP's failures are forgotten this long after its last one. */
  forgetMs: number;
  /** Most IPs remembered at once; the stalest go first. */
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

interface Entry {
  failures: number;
  last: number;
  /** Until when further attempts from this IP wait. */
  until: number;
}

export class FailurePenalty {
  readonly opts: PenaltyOptions;
  /** Insertion order is recency order: an update re-inserts. */
  private readonly ips = new Map<string, Entry>();
  /** Per IP, the end of the queue of password checks (see serialize). */
  private readonly gates = new Map<string, Promise<void>>();

  constructor(opts: Partial<PenaltyOptions> = {}) {
    this.opts = { ...DEFAULT_PENALTY, ...opts };
  }

  /** The delay that the n-th failure in a row costs. */
  delayFor(failures: number): number {
    if (failures <= 0) return 0;
    return Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** Math.min(failures - 1, 30));
  }

  /** How long an attempt from this IP must wait now (another connection's penalty still running). */
  pending(ip: string): number {
    const e = this.get(ip);
    return e ? Math.max(0, e.until - this.opts.now()) : 0;
  }

  /** Records a failure; returns how long to hold the failed reply. */
  fail(ip: string): number {
    const now = this.opts.now();
    const e = this.get(ip) ?? { failures: 0, last: now, until: now };
    e.failures++;
    e.last = now;
    const delay = this.delayFor(e.failures);
    e.until = now + delay;
    this.ips.delete(ip);
    this.ips.set(ip, e);
    this.trim();
    return delay;
  }

  /**
   * Runs one password check for `ip` after every earlier one from it has run
   * and its penalty has passed: from one address, guesses are made one at a
   * time whatever the number of connections. Each connection waited for
   * only the penalty it found when it started: 200 connections in parallel
   * had 200 guesses checked in 20 s.
   */
  serialize<T>(ip: string, check: () => Promise<T>): Promise<T> {
    const before = this.gates.get(ip) ?? Promise.resolve();
    const run = before.then(async () => {
      const wait = this.pending(ip);
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

  succeed(ip: string): void {
    this.ips.delete(ip);
  }

  failures(ip: string): number {
    return this.get(ip)?.failures ?? 0;
  }

  get size(): number {
    return this.ips.size;
  }

  private get(ip: string): Entry | undefined {
    const e = this.ips.get(ip);
    if (e && this.opts.now() - e.last >= this.opts.forgetMs) {
      this.ips.delete(ip);
      return undefined;
    }
    return e;
  }

  /** Drops forgotten entries from the stale end, and the stalest beyond maxEntries. */
  private trim(): void {
    const now = this.opts.now();
    for (const [ip, e] of this.ips) {
      if (this.ips.size > this.opts.maxEntries || now - e.last >= this.opts.forgetMs) this.ips.delete(ip);
      else break;
    }
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
