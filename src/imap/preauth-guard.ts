// What anyone can hold without a password: connections not yet logged in are
// counted per client IP (an IPv6 /64 counts as one), and the input they have buffered is counted against
// one budget for the whole server. Each such connection is small (the framer
// has pre-login limits of a few KiB), but there can be thousands of them.
import { addressGroup } from '../auth/penalty.js';

export interface PreauthLimits {
  /** Connections not yet logged in, per client IP. */
  maxPerIp: number;
  /** Input buffered by all of them together, in bytes. */
  budgetBytes: number;
}

export const DEFAULT_PREAUTH_LIMITS: PreauthLimits = Object.freeze({ maxPerIp: 20, budgetBytes: 32 * 1024 * 1024 });

export class PreauthGuard {
  private readonly perIp = new Map<string, number>();
  /** Each admitted connection's IP key and its buffered bytes. */
  private readonly held = new Map<object, { ip: string; bytes: number }>();
  private total = 0;

  constructor(readonly limits: PreauthLimits) {}

  /** Takes a slot for a new connection; false when its IP already has maxPerIp waiting to log in. */
  admit(conn: object, address: string | undefined): boolean {
    const ip = addressGroup(address);
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.limits.maxPerIp) return false;
    this.perIp.set(ip, n + 1);
    this.held.set(conn, { ip, bytes: 0 });
    return true;
  }

  /** Records what `conn` buffers now; false when the server-wide budget is exceeded (the caller drops it). */
  account(conn: object, bytes: number): boolean {
    const slot = this.held.get(conn);
    if (!slot) return true; // logged in: the post-login limits apply
    this.total += bytes - slot.bytes;
    slot.bytes = bytes;
    return this.total <= this.limits.budgetBytes;
  }

  /** The connection logged in or closed. Safe to repeat. */
  release(conn: object): void {
    const slot = this.held.get(conn);
    if (!slot) return;
    this.held.delete(conn);
    this.total -= slot.bytes;
    const n = (this.perIp.get(slot.ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(slot.ip);
    else this.perIp.set(slot.ip, n);
  }

  get bufferedBytes(): number {
    return this.total;
  }

  waiting(address: string | undefined): number {
    return this.perIp.get(addressGroup(address)) ?? 0;
  }
}
