// Where a user's Sieve scripts live, as Pigeonhole keeps them, so a Dovecot
// user's filters keep working: the scripts in `~/sieve/NAME.sieve`, the
// active one `~/.dovecot.sieve` (a symbolic link to one of them, or a plain
// file). `~` is the home of the users file, else the Maildir's parent. Both
// paths are templates (sieve.dir, sieve.active) with %u, %n, %d as the Maildir
// template has them.
//
// Shared by delivery (the active script, compiled once per change) and by
// ManageSieve (which writes these files): neither knows the other's code.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { compileSieve, type CompiledScript, type CompileOptions } from './compile.js';
import type { SieveError } from './parse.js';
import { depsUnchanged, includeKey, resolveIncludes, type Dependency, type IncludeDirs } from './include.js';
import type { IncludeLocation } from './compile.js';

export interface SieveLocations {
  /** Directory of the scripts (Pigeonhole's sieve_dir), e.g. "~/sieve". */
  dir: string;
  /** The active script (a link into dir), e.g. "~/.dovecot.sieve". */
  active: string;
}

export const DEFAULT_SIEVE_LOCATIONS: Readonly<SieveLocations> = Object.freeze({ dir: '~/sieve', active: '~/.dovecot.sieve' });

/** A user as the scripts' paths need them: login, home (users file), Maildir. */
export interface SieveUser {
  name: string;
  home: string | null;
  maildir: string;
}

/** The user's home for Sieve: the users file's, else the directory holding the Maildir. */
export function sieveHome(user: SieveUser): string {
  return user.home ?? path.dirname(path.resolve(user.maildir));
}

/** A location template for one user: a leading ~ is the home, %u %n %d %% as in mail.maildir. */
export function expandSievePath(template: string, user: SieveUser): string {
  const at = user.name.indexOf('@');
  const local = at < 0 ? user.name : user.name.slice(0, at);
  const domain = at < 0 ? '' : user.name.slice(at + 1);
  let out = template.replace(/%([%und])/g, (_m, c: string) => (c === '%' ? '%' : c === 'u' ? user.name : c === 'n' ? local : domain));
  if (out === '~' || out.startsWith('~/')) out = sieveHome(user) + out.slice(1);
  return out;
}

export interface UserSievePaths {
  /** The scripts' directory. */
  dir: string;
  /** The active script's path (usually a symbolic link into dir). */
  active: string;
  /** The vacation reply memory (RFC 5230 :days), one per user. */
  vacation: string;
}

export function userSievePaths(locations: SieveLocations, user: SieveUser): UserSievePaths {
  return {
    dir: expandSievePath(locations.dir, user),
    active: expandSievePath(locations.active, user),
    vacation: path.join(sieveHome(user), '.maildir-imapd-vacation'),
  };
}

/** The file of script NAME in the scripts' directory (ManageSieve's names; no '/' and no leading '.'). */
export function scriptFile(paths: UserSievePaths, name: string): string {
  if (!name || name.includes('/') || name.startsWith('.') || name.includes('\0')) throw new Error(`not a script name: ${JSON.stringify(name)}`);
  return path.join(paths.dir, `${name}.sieve`);
}

/** A script read and compiled: its name, and the compiled script or the compile errors. */
export type LoadedScript =
  | {
      name: string;
      file: string;
      ok: true;
      script: CompiledScript;
      /** RFC 6609: the scripts it includes, for RunOptions.include (absent: it includes none, or was loaded without dirs). */
      include?: (location: IncludeLocation, name: string) => CompiledScript | null;
    }
  | { name: string; file: string; ok: false; errors: SieveError[] };

interface CacheEntry {
  stamp: string;
  /** The included scripts' files as they were read (a missing optional one too: its arrival counts). */
  deps: Dependency[];
  loaded: LoadedScript;
}

/**
 * Compiled scripts by path, recompiled when the file (the link's target)
 * changes: a delivery costs one stat (and a readlink for the name) when
 * nothing changed. Bounded: past `maxEntries` the oldest entries go.
 */
export class ScriptCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(
    private readonly compile: CompileOptions = {},
    private readonly maxEntries = 10_000,
  ) {}

  /**
   * The script at `file` (links followed), compiled; null when there is no
   * such file. With `dirs`, its includes (RFC 6609) are read and compiled
   * too, and a change in any of them reloads it.
   */
  async load(file: string, dirs?: IncludeDirs): Promise<LoadedScript | null> {
    const key = dirs ? `${file}\0${dirs.personal ?? ''}\0${dirs.global ?? ''}` : file;
    let st;
    try {
      st = await fs.stat(file, { bigint: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        this.entries.delete(key);
        return null;
      }
      throw err;
    }
    if (!st.isFile()) return null;
    const target = await fs.readlink(file).catch(() => null);
    const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${target ?? ''}`;
    const cached = this.entries.get(key);
    if (cached && cached.stamp === stamp && (await depsUnchanged(cached.deps))) return cached.loaded;
    const text = await fs.readFile(file);
    const name = path.basename(target ?? file).replace(/\.sieve$/, '');
    const result = compileSieve(text, this.compile);
    let loaded: LoadedScript = result.ok ? { name, file, ok: true, script: result.script } : { name, file, ok: false, errors: result.errors };
    let deps: Dependency[] = [];
    if (result.ok && dirs && result.script.includes.length) {
      const r = await resolveIncludes(result.script, target ? path.resolve(path.dirname(file), target) : file, dirs, this.compile);
      deps = r.deps;
      if (!r.ok) loaded = { name, file, ok: false, errors: r.errors };
      else {
        const scripts = r.scripts;
        loaded = { name, file, ok: true, script: result.script, include: (location, n) => scripts.get(includeKey(location, n)) ?? null };
      }
    }
    this.entries.delete(key);
    this.entries.set(key, { stamp, deps, loaded });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return loaded;
  }

  /** Forgets a path (ManageSieve after a write; the stamp would notice anyway). */
  invalidate(file: string): void {
    for (const key of this.entries.keys()) if (key === file || key.startsWith(`${file}\0`)) this.entries.delete(key);
  }
}

/** The user's active script, compiled (cached by file change); null when the user has none. */
export function activeScript(cache: ScriptCache, paths: UserSievePaths): Promise<LoadedScript | null> {
  return cache.load(paths.active);
}
