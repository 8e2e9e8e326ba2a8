// Connections per user and client IP (Dovecot's mail_max_userip_connections):
// phones open one IDLE connection per folder, a runaway client opens hundreds.
// Also bundles the per-IP failure penalty: both live as long as the server.
import { FailurePenalty, type PenaltyOptions } from './penalty.js';

export class UserIpLimit {
  private readonly counts = new Map<string, number>();
  /** Who holds a slot, so a release happens once however often a connection closes. */
  private readonly holders = new WeakMap<object, string>();

  constructor(readonly max: number) {}

  /** Takes a slot for `holder` (a connection); false when the user already has `max` from that IP. */
  acquire(holder: object, user: string, ip: string): boolean {
    if (this.holders.has(holder)) return true;
    const key = `${user}\0${ip}`;
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max) return false;
    this.counts.set(key, n + 1);
    this.holders.set(holder, key);
    return true;
  }

  release(holder: object): void {
    const key = this.holders.get(holder);
    if (key === undefined) return;
    this.holders.delete(holder);
    const n = (this.counts.get(key) ?? 1) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }

  count(user: string, ip: string): number {
    return this.counts.get(`${user}\0${ip}`) ?? 0;
  }
}

/** What LOGIN/AUTHENTICATE consult: the failure penalty and the per-user-IP cap. */
export class LoginLimits {
  readonly penalty: FailurePenalty;
  readonly userIp: UserIpLimit;

  constructor(opts: { maxConnectionsPerUserIp: number; penalty?: Partial<PenaltyOptions> }) {
    this.penalty = new FailurePenalty(opts.penalty);
    this.userIp = new UserIpLimit(opts.maxConnectionsPerUserIp);
  }

  /** For onClose: frees the connection's slot, if it had one. */
  release(conn: object): void {
    this.userIp.release(conn);
  }

  /**
   * From ImapConfig.authFailDelayMs (the test hook): the first delay, and the
   * cap in Dovecot's proportion (2 s → 15 s).
   */
  static penaltyFrom(authFailDelayMs: number): Partial<PenaltyOptions> {
    return { initialMs: authFailDelayMs, maxMs: authFailDelayMs * 7.5 };
  }
}
