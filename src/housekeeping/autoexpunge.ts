// Autoexpunge (Dovecot's `autoexpunge = 30d` on a mailbox): messages that
// came into \Trash, \Junk or a named folder longer ago than its limit are
// expunged. Dovecot does it only when a session of the user ends, so an
// account nobody logs in to is never cleaned; here a timer goes through every
// user of the users file, logged in or not.
import type { Logger } from 'pino';
import { normalizeName, type MailUser, type SpecialUse } from '../mail/api.js';
import { expungeArrivedBefore } from './expunge-old.js';

/** One rule: a folder (by special use, or by name) and the longest a message may stay in it. */
export interface AutoexpungeRule {
  specialUse?: SpecialUse;
  name?: string;
  maxAgeMs: number;
}

/** The longest wait for the first run after start. */
const FIRST_RUN_MS = 60_000;

export interface AutoexpungeOptions {
  rules: AutoexpungeRule[];
  intervalMs: number;
  batch: number;
  log: Logger;
  /** Every user now (the users file may change between runs), with a store that creates nothing. */
  users: () => Iterable<{ name: string; store: () => MailUser }>;
}

/** Rules from the config: \Trash and \Junk by special use, the rest by name. */
export function autoexpungeRules(c: { autoexpungeTrash: number | null; autoexpungeJunk: number | null; autoexpungeFolders: Record<string, number> }): AutoexpungeRule[] {
  const rules: AutoexpungeRule[] = [];
  if (c.autoexpungeTrash !== null) rules.push({ specialUse: '\\Trash', maxAgeMs: c.autoexpungeTrash });
  if (c.autoexpungeJunk !== null) rules.push({ specialUse: '\\Junk', maxAgeMs: c.autoexpungeJunk });
  for (const [name, maxAgeMs] of Object.entries(c.autoexpungeFolders)) rules.push({ name: normalizeName(name), maxAgeMs });
  return rules;
}

/**
 * The folders of `user` the rules name, each with its limit; a folder named
 * by two rules keeps the shorter.
 */
export async function foldersToExpunge(user: MailUser, rules: AutoexpungeRule[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const folders = await user.folders();
  for (const f of folders) {
    if (f.noselect) continue;
    for (const r of rules) {
      const hit = r.name !== undefined ? normalizeName(f.name) === r.name : r.specialUse !== undefined && f.specialUse.includes(r.specialUse);
      if (hit) out.set(f.name, Math.min(out.get(f.name) ?? Infinity, r.maxAgeMs));
    }
  }
  return out;
}

export class Autoexpunger {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: AutoexpungeOptions) {}

  /**
   * Runs every intervalMs, never two at once. The first run comes a minute
   * after start (sooner for a shorter interval): a server restarted more
   * often than the interval must still clean up.
   */
  start(): void {
    if (!this.opts.rules.length) return;
    this.schedule(Math.min(this.opts.intervalMs, FIRST_RUN_MS));
  }

  private schedule(delayMs = this.opts.intervalMs): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.runOnce()
        .catch((err) => this.opts.log.error({ err }, 'autoexpunge run failed'))
        .finally(() => {
          this.running = null;
          this.schedule();
        });
    }, delayMs);
    this.timer.unref();
  }

  /** Stops the timer; resolves once a run under way has finished its current batch and stopped. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass over every user: one log line per user and folder looked at. */
  async runOnce(): Promise<void> {
    const { log, rules, batch } = this.opts;
    for (const u of [...this.opts.users()]) {
      if (this.stopped) return;
      let folders: Map<string, number>;
      const user = u.store();
      try {
        folders = await foldersToExpunge(user, rules);
      } catch (err) {
        log.warn({ user: u.name, err: (err as Error).message }, 'autoexpunge: cannot list the folders');
        continue;
      }
      for (const [folder, maxAgeMs] of folders) {
        if (this.stopped) return;
        try {
          const box = await user.mailbox(folder);
          if (!box) continue;
          const r = await expungeArrivedBefore(box, Date.now() - maxAgeMs, { batch, stopped: () => this.stopped });
          log.info({ user: u.name, folder, maxAgeMs, examined: r.examined, expunged: r.expunged }, 'autoexpunge');
        } catch (err) {
          log.warn({ user: u.name, folder, err: (err as Error).message }, 'autoexpunge: folder skipped');
        }
      }
    }
  }
}
