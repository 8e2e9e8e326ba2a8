// Sieve at delivery: the scripts that apply to one message for one user —
// the global "before" scripts, the user's active script, the global "after"
// scripts (Pigeonhole's sieve_before / sieve_after) — run in that order, and
// their actions turned into what the delivery path does: the folders to
// store into (with flags), a refusal, and the side effects (redirect and
// vacation through sendmail). Both delivery paths use it: LMTP before the
// message is written, the watcher for mail Postfix's virtual(8) wrote into
// INBOX's new/.
//
// Never loses a message: a script that does not compile is skipped (logged);
// a runtime error or an exhausted limit in any script keeps the message in
// INBOX (logged) and nothing else happens; a failed redirect keeps it in
// INBOX unless something else stores it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { normalizeName, type MailUser } from '../mail/api.js';
import { encodeMutf7 } from '../wire/mutf7.js';
import type { SieveAction } from './actions.js';
import type { SieveLimits } from './compile.js';
import { runSieve } from './interpret.js';
import { SieveMessage } from './message.js';
import { sendmail } from './sendmail.js';
import { ScriptCache, userSievePaths, type LoadedScript, type SieveLocations, type SieveUser } from './user-scripts.js';
import { VacationMemory, composeReply, ownAddresses, whyNoReply, type VacationAction } from './vacation.js';

export interface SieveFilterOptions {
  log: Logger;
  locations: SieveLocations;
  /** Scripts (files, or directories of *.sieve run in name order) before the user's. */
  before: string[];
  /** …and after it (only while the implicit keep stands, as Pigeonhole). */
  after: string[];
  /** sendmail(1) for redirect and vacation. */
  sendmail: string;
  sendmailTimeoutMs?: number;
  /** Recipient delimiter characters (subaddress, and the user's own addresses for vacation). */
  separator: string;
  limits?: Partial<SieveLimits>;
  /** RFC 6609 `include :global`: the directory of global NAME.sieve scripts (Pigeonhole's sieve_global); null/absent: none. */
  globalDir?: string | null;
}

/** The delivery's envelope: MAIL FROM ('' for <>), RCPT TO, and ORCPT when known. */
export interface FilterEnvelope {
  from: string;
  to: string;
  originalTo?: string | null;
}

/** One place the message goes: a folder (modified UTF-7, as the store names them; INBOX for keep). */
export interface FilterTarget {
  folder: string;
  flags: string[];
  /** fileinto :create: make the folder when it does not exist. */
  create: boolean;
}

export interface FilterOutcome {
  /** Where to store the message; empty: nowhere (discard, or redirect alone). */
  targets: FilterTarget[];
  /** reject/ereject: the reason (one line); null when not refused. */
  reject: string | null;
  /** Redirects, then the vacation reply. Resolves false when a redirect failed. Never rejects. */
  sideEffects(): Promise<boolean>;
  /** Whether any script ran (false: no script applies; keep as it is). */
  filtered: boolean;
  /** The actions in a few words, for the log line. */
  summary: string;
}

export type FilterPath = 'lmtp' | 'watcher';

const KEEP: FilterTarget = { folder: 'INBOX', flags: [], create: false };

/** A recipient of a delivery: who (for the paths) and their mail (for mailboxexists). */
export interface FilterUser extends SieveUser {
  store: MailUser;
}

/** How long "this user has no scripts" is believed on the watcher path. */
const NO_SCRIPTS_RECHECK_MS = 1000;

export class SieveFilter {
  readonly cache = new ScriptCache();

  constructor(private readonly opts: SieveFilterOptions) {}

  /**
   * Whether any script would run for this user (global ones, or an active
   * one): a stat of each, from the cache. Mail of a user without scripts is
   * not even read — the watcher path must not slow every push for nothing.
   */
  hasScripts(user: SieveUser): boolean | Promise<boolean> {
    // A user found without scripts is not looked at again for a second: a burst of deliveries costs one
    // stat, and a script activated meanwhile applies from the next second on (LMTP's run() always looks).
    // That answer is given synchronously: it is on the path of every push.
    const key = `${user.name}\0${user.maildir}`;
    const until = this.noScriptsUntil.get(key);
    if (until !== undefined && until > Date.now()) return false;
    return this.lookForScripts(user, key);
  }

  private async lookForScripts(user: SieveUser, key: string): Promise<boolean> {
    let has: boolean;
    try {
      has = (await this.scripts(user, this.opts.log.child({ user: user.name }))).length > 0;
    } catch {
      return true; // unreadable: run() says so and keeps the message
    }
    if (has) this.noScriptsUntil.delete(key);
    else {
      if (this.noScriptsUntil.size > 10_000) this.noScriptsUntil.clear();
      this.noScriptsUntil.set(key, Date.now() + NO_SCRIPTS_RECHECK_MS);
    }
    return has;
  }

  /** Drops the belief that this user has no scripts (ManageSieve just activated one). */
  forget(user: SieveUser): void {
    this.noScriptsUntil.delete(`${user.name}\0${user.maildir}`);
  }

  /** Users seen without any script, until when that answer stands. */
  private readonly noScriptsUntil = new Map<string, number>();

  /** The scripts for a user, in order; compile failures are logged and left out. */
  private async scripts(user: SieveUser, log: Logger): Promise<LoadedScript[]> {
    const out: LoadedScript[] = [];
    const add = (s: LoadedScript | null) => {
      if (!s) return;
      if (s.ok) out.push(s);
      else log.warn({ script: s.file, errors: s.errors.slice(0, 3).map((e) => `line ${e.line}: ${e.message}`) }, 'sieve: script does not compile; skipped');
    };
    const paths = userSievePaths(this.opts.locations, user);
    // :personal is the user's script directory whichever script includes, as Pigeonhole's sieve_dir
    const dirs = { personal: paths.dir, global: this.opts.globalDir ?? null };
    for (const p of this.opts.before) for (const f of await expandScriptPath(p)) add(await this.cache.load(f, dirs));
    add(await this.cache.load(paths.active, dirs));
    for (const p of this.opts.after) for (const f of await expandScriptPath(p)) add(await this.cache.load(f, dirs));
    return out;
  }

  /** Runs the scripts on `message` (the bytes as they will be stored, trace header fields included). */
  async run(user: FilterUser, message: Buffer, env: FilterEnvelope, where: FilterPath): Promise<FilterOutcome> {
    const log = this.opts.log.child({ user: user.name, path: where });
    let scripts: LoadedScript[];
    try {
      scripts = await this.scripts(user, log);
    } catch (err) {
      log.error({ err }, 'sieve: cannot read the scripts; message kept in INBOX');
      return keepOutcome(true, 'keep (scripts unreadable)');
    }
    if (!scripts.length) return keepOutcome(false, 'keep');
    let folders: Set<string> | null = null;
    if (scripts.some((s) => s.ok && s.script.extensions.has('mailbox'))) {
      try {
        folders = new Set((await user.store.folders()).filter((f) => !f.noselect).map((f) => f.name));
      } catch (err) {
        log.warn({ err }, 'sieve: cannot list the folders for mailboxexists');
      }
    }
    const sieveMessage = new SieveMessage(message);
    const actions: SieveAction[] = [];
    let implicit: { flags: string[] | null } | null = { flags: null };
    const names: string[] = [];
    for (const s of scripts) {
      if (!s.ok) continue;
      names.push(s.name);
      const res = runSieve(s.script, message, { from: env.from, to: env.to }, {
        limits: this.opts.limits,
        separator: this.opts.separator[0] ?? '+',
        mailboxExists: (name) => folders !== null && folders.has(folderName(name)),
        include: s.include,
      });
      if (res.status === 'error') {
        log.warn({ script: s.file, line: res.line, error: res.error, from: env.from, to: env.to }, 'sieve: runtime error; message kept in INBOX');
        return keepOutcome(true, `keep (error in ${s.name} line ${res.line})`);
      }
      actions.push(...res.actions);
      implicit = res.implicitKeep;
      if (!implicit) break; // Pigeonhole: the next script runs only while the implicit keep stands
    }
    const memory = userSievePaths(this.opts.locations, user).vacation;
    return this.outcome(actions, implicit, sieveMessage, message, env, where, log, names, memory);
  }

  private outcome(
    actions: SieveAction[],
    implicit: { flags: string[] | null } | null,
    msg: SieveMessage,
    bytes: Buffer,
    env: FilterEnvelope,
    where: FilterPath,
    log: Logger,
    names: string[],
    memoryFile: string,
  ): FilterOutcome {
    const targets: FilterTarget[] = [];
    const store = (folder: string, flags: string[] | null, create: boolean) => {
      const existing = targets.find((t) => t.folder === folder);
      if (existing) {
        if (flags) existing.flags = flags;
        existing.create ||= create;
      } else targets.push({ folder, flags: flags ?? [], create });
    };
    const redirects: string[] = [];
    let vacation: VacationAction | null = null;
    let reject: string | null = null;
    const words: string[] = [];
    for (const a of actions) {
      switch (a.type) {
        case 'keep':
          store('INBOX', a.flags, false);
          words.push('keep');
          break;
        case 'fileinto':
          store(folderName(a.mailbox), a.flags, a.create);
          words.push(`fileinto ${a.mailbox}`);
          break;
        case 'redirect':
          if (!redirects.includes(a.address)) redirects.push(a.address);
          words.push(`redirect ${a.address}`);
          break;
        case 'discard':
          words.push('discard');
          break;
        case 'reject':
          reject ??= oneLine(a.reason) || 'Rejected';
          words.push(a.extended ? 'ereject' : 'reject');
          break;
        case 'vacation':
          vacation ??= a;
          words.push('vacation');
          break;
      }
    }
    if (implicit) {
      store('INBOX', implicit.flags, false);
      words.push('implicit keep');
    }
    if (reject !== null && (targets.length || redirects.length)) {
      // Only possible across scripts (within one it is a conflict the interpreter refuses): storing wins.
      log.warn({ reason: reject }, 'sieve: reject after an earlier script delivered; not refused');
      reject = null;
    }
    if (reject !== null && where === 'watcher') {
      // Postfix has accepted the message already: it can no longer be refused, and a discard would
      // lose mail the sender believes delivered. It stays in INBOX, and the log says why.
      log.warn({ from: env.from, to: env.to, reason: reject }, 'sieve: reject on mail delivered by Postfix directly cannot refuse it; kept in INBOX');
      return { targets: [KEEP], reject: null, sideEffects: async () => true, filtered: true, summary: `${words.join(', ')} (kept: cannot refuse)` };
    }
    if (reject !== null) vacation = null;
    const summary = `${names.join('+')}: ${words.join(', ') || 'nothing'}`;
    const sideEffects = async (): Promise<boolean> => {
      let ok = true;
      for (const to of redirects) {
        try {
          await sendmail({ path: this.opts.sendmail, timeoutMs: this.opts.sendmailTimeoutMs ?? 30_000 }, env.from, [to], bytes);
          log.info({ from: env.from, to: env.to, redirect: to }, 'sieve: redirected');
        } catch (err) {
          ok = false;
          log.warn({ from: env.from, to: env.to, redirect: to, err: (err as Error).message }, 'sieve: redirect failed');
        }
      }
      if (vacation) await this.vacation(vacation, msg, env, log, memoryFile).catch((err) => log.warn({ err: (err as Error).message }, 'sieve: vacation failed'));
      return ok;
    };
    return { targets, reject, sideEffects, filtered: true, summary };
  }

  /** RFC 5230: answers once per sender and period, unless §4.5 says not to. */
  private async vacation(action: VacationAction, msg: SieveMessage, env: FilterEnvelope, log: Logger, memoryFile: string): Promise<void> {
    const sender = env.from;
    const own = ownAddresses(action, [env.to, env.originalTo, ...msg.rawValues('delivered-to')], this.opts.separator);
    const why = whyNoReply(msg, sender, own);
    if (why) {
      log.info({ from: sender, to: env.to, why }, 'sieve: vacation not sent');
      return;
    }
    const memory = new VacationMemory(memoryFile);
    const key = VacationMemory.key(action.handle, sender);
    if (action.seconds > 0 && (await memory.answered(key).catch(() => false))) {
      log.info({ from: sender, to: env.to }, 'sieve: vacation already sent in this period');
      return;
    }
    const reply = composeReply(action, msg, sender, own);
    await sendmail({ path: this.opts.sendmail, timeoutMs: this.opts.sendmailTimeoutMs ?? 30_000 }, '', [sender], reply);
    log.info({ from: sender, to: env.to, seconds: action.seconds }, 'sieve: vacation reply sent');
    if (action.seconds > 0) await memory.record(key, action.seconds);
  }
}

/** A Sieve folder name (UTF-8) as the store names it (modified UTF-7; INBOX in any case is INBOX). */
export function folderName(name: string): string {
  try {
    return normalizeName(encodeMutf7(name));
  } catch {
    return name;
  }
}

function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 400);
}

function keepOutcome(filtered: boolean, summary: string): FilterOutcome {
  return { targets: [KEEP], reject: null, sideEffects: async () => true, filtered, summary };
}

/** A before/after entry: a file, or a directory whose *.sieve files run in name order. */
async function expandScriptPath(p: string): Promise<string[]> {
  const st = await fs.stat(p).catch(() => null);
  if (!st) return [];
  if (!st.isDirectory()) return [p];
  return (await fs.readdir(p))
    .filter((n) => n.endsWith('.sieve'))
    .sort()
    .map((n) => path.join(p, n));
}

/**
 * The envelope of a message another program delivered (Postfix's virtual(8)
 * writes it as header fields): Return-Path for MAIL FROM, the topmost
 * Delivered-To for RCPT TO, X-Original-To for ORCPT. `fallbackTo` when
 * there is no Delivered-To.
 */
export function envelopeFromHeader(message: Buffer, fallbackTo: string): FilterEnvelope {
  const msg = new SieveMessage(message);
  const unbracket = (v: string | undefined) => (v ?? '').trim().replace(/^<(.*)>$/, '$1').trim();
  const from = unbracket(msg.rawValues('return-path')[0]);
  const to = unbracket(msg.rawValues('delivered-to')[0]) || fallbackTo;
  const originalTo = unbracket(msg.rawValues('x-original-to')[0]) || null;
  return { from, to, originalTo };
}
