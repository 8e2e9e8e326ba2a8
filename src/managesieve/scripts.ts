// Where a user's Sieve scripts live and which one is active, in Pigeonhole's
// layout so a Dovecot user's filters keep working after the switch (and
// back): every script is `~/sieve/NAME.sieve`, and the active one is named
// by the symlink `~/.dovecot.sieve` → `sieve/NAME.sieve`. `~` is the users
// file's home field, or the Maildir's parent when it has none; both paths
// are templates (sieve.dir, sieve.active).
//
// This module is the one place that knows the layout: ManageSieve edits the
// scripts through ScriptStore, and delivery asks activeScriptPath() which
// script to run.
//
// Safety: a name can never leave the script directory (no '/', no control
// characters, bounded length); script files are opened without following
// symlinks, listing counts regular files only, and the script directory may
// be a symlink only when it resolves inside the user's home. The one symlink
// written and followed is the active link, and only into the script
// directory. Every write is a temp file in `sieve/tmp/` renamed into place,
// so a reader (a delivery) sees the old script or the new one, never half.
import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

export interface SieveSettings {
  /** Template of the script directory: %u login, %n local part, %d domain, leading ~ home (default "~/sieve"). */
  dir: string;
  /** Template of the active-script symlink (default "~/.dovecot.sieve"). */
  active: string;
}

export const DEFAULT_SIEVE_SETTINGS: SieveSettings = { dir: '~/sieve', active: '~/.dovecot.sieve' };

/** One user's script locations, absolute. */
export interface SieveLocation {
  /** The user's home (what ~ stood for). */
  home: string;
  /** The script directory: NAME.sieve files. */
  dir: string;
  /** The active-script symlink. */
  active: string;
}

/**
 * A user's locations. `user.home` is the users file's home field; when it is
 * empty, `maildir` (the user's expanded Maildir) gives the home as its parent.
 */
export function sieveLocation(user: { name: string; home: string | null }, maildir: string, settings: SieveSettings = DEFAULT_SIEVE_SETTINGS): SieveLocation {
  const home = path.resolve(user.home || path.dirname(path.resolve(maildir)));
  const expand = (template: string, key: string): string => {
    const at = user.name.indexOf('@');
    const local = at < 0 ? user.name : user.name.slice(0, at);
    const domain = at < 0 ? '' : user.name.slice(at + 1);
    let out = template.replace(/%([%und])/g, (_m, c: string) => (c === '%' ? '%' : c === 'u' ? user.name : c === 'n' ? local : domain));
    if (out === '~' || out.startsWith('~/')) out = home + out.slice(1);
    if (!path.isAbsolute(out)) throw new Error(`${key} = ${JSON.stringify(template)} does not give an absolute path for ${user.name}`);
    if (out.split('/').includes('..')) throw new Error(`${key} = ${JSON.stringify(template)} gives a path with '..' for ${user.name}`);
    return path.normalize(out);
  };
  return { home, dir: expand(settings.dir, 'sieve.dir'), active: expand(settings.active, 'sieve.active') };
}

// --- names ---

/** RFC 5804 §1.6 asks for 128 characters; a file name holds 255 bytes, less ".sieve" and room for temp suffixes. */
export const MAX_NAME_CHARS = 128;
export const MAX_NAME_BYTES = 200;
const SUFFIX = '.sieve';

/** Why `name` cannot be a script name, or null when it can (RFC 5804 §1.6, plus what a file name needs). */
export function scriptNameProblem(name: string): string | null {
  if (name === '') return 'the name is empty';
  if ([...name].length > MAX_NAME_CHARS || Buffer.byteLength(name) > MAX_NAME_BYTES) return `the name is longer than ${MAX_NAME_CHARS} characters (or ${MAX_NAME_BYTES} bytes)`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(name)) return 'the name contains a control character';
  if (name.includes('/')) return "the name contains '/'";
  if (name.includes('\ufffd')) return 'the name is not valid UTF-8';
  return null;
}

// --- errors ---

export type ScriptErrorKind = 'nonexistent' | 'exists' | 'active' | 'maxsize' | 'maxscripts' | 'name' | 'unsafe' | 'temporary';

/** A failure with a meaning the protocol maps to its reply (ManageSieve: NONEXISTENT, ALREADYEXISTS, ACTIVE, QUOTA/…). */
export class ScriptError extends Error {
  constructor(
    readonly kind: ScriptErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface ScriptLimits {
  /** Scripts one user may keep. */
  maxScripts: number;
  /** Bytes of one script. */
  maxScriptBytes: number;
}

export const DEFAULT_SCRIPT_LIMITS: ScriptLimits = { maxScripts: 100, maxScriptBytes: 1024 * 1024 };

// --- the active script, for delivery ---

export type ActiveScript =
  /** The link points at NAME.sieve in the script directory. */
  | { kind: 'script'; name: string; path: string }
  /** A plain file (a pre-ManageSieve setup, or a copy): Pigeonhole runs it, so delivery should too. */
  | { kind: 'file'; path: string };

/**
 * The script delivery runs for this user, or null when none is active: no
 * link, a link to a script that is gone, or a link that leads anywhere but
 * into the script directory (not followed).
 */
export async function activeScript(loc: SieveLocation): Promise<ActiveScript | null> {
  let st;
  try {
    st = await fs.lstat(loc.active);
  } catch (err) {
    if (isCode(err, 'ENOENT', 'ENOTDIR')) return null;
    throw err;
  }
  if (st.isFile()) return { kind: 'file', path: loc.active };
  if (!st.isSymbolicLink()) return null;
  const target = path.resolve(path.dirname(loc.active), await fs.readlink(loc.active));
  if (path.dirname(target) !== loc.dir || !target.endsWith(SUFFIX)) return null;
  const name = path.basename(target).slice(0, -SUFFIX.length);
  if (scriptNameProblem(name)) return null;
  try {
    if (!(await fs.lstat(target)).isFile()) return null;
  } catch (err) {
    if (isCode(err, 'ENOENT', 'ENOTDIR')) return null;
    throw err;
  }
  return { kind: 'script', name, path: target };
}

/** The file of the active script (see activeScript), or null. */
export async function activeScriptPath(loc: SieveLocation): Promise<string | null> {
  return (await activeScript(loc))?.path ?? null;
}

// --- the store ManageSieve edits ---

export interface ScriptInfo {
  name: string;
  active: boolean;
}

/** One user's scripts. Stateless between calls: another session, a delivery or the user's shell may change them. */
export class ScriptStore {
  constructor(
    readonly loc: SieveLocation,
    readonly limits: ScriptLimits = DEFAULT_SCRIPT_LIMITS,
  ) {}

  /** Whether script NAME is stored (a name that could never be stored is not). */
  async has(name: string): Promise<boolean> {
    if (scriptNameProblem(name)) return false;
    return fs.stat(path.join(this.loc.dir, name + SUFFIX)).then(
      (st) => st.isFile(),
      () => false,
    );
  }

  /** The file of a script (the name checked). */
  fileOf(name: string): string {
    const why = scriptNameProblem(name);
    if (why) throw new ScriptError('name', `Invalid script name: ${why}`);
    return path.join(this.loc.dir, name + SUFFIX);
  }

  /**
   * What Pigeonhole does when it opens the storage: an active script that is
   * a plain file (from before ManageSieve) moves into the store as
   * "dovecot.orig" and the link points at it, so it can be listed, edited and
   * replaced without being lost. Returns the name it got, or null.
   */
  async adoptPlainActive(): Promise<string | null> {
    const st = await fs.lstat(this.loc.active).catch(() => null);
    if (!st?.isFile()) return null;
    await this.ensureDir();
    let name = 'dovecot.orig';
    for (let i = 2; await exists(this.fileOf(name)); i++) {
      if (i > 20) return null;
      name = `dovecot.orig-${i}`;
    }
    await fs.rename(this.loc.active, this.fileOf(name));
    await this.link(name);
    return name;
  }

  async list(): Promise<ScriptInfo[]> {
    const names = await this.names();
    const active = await activeScript(this.loc);
    const activeName = active?.kind === 'script' ? active.name : null;
    return names.map((name) => ({ name, active: name === activeName }));
  }

  /** The script's bytes; NONEXISTENT when there is no such script. */
  async get(name: string): Promise<Buffer> {
    const file = this.fileOf(name);
    await this.checkDir();
    let fh;
    try {
      fh = await fs.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) throw notFound(name);
      if (isCode(err, 'ELOOP')) throw new ScriptError('unsafe', `Script ${quote(name)} is a symbolic link; not following it`);
      throw err;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw notFound(name);
      // A file someone made bigger than we would accept is read only up to the limit, plus one byte to tell.
      const max = this.limits.maxScriptBytes;
      const buf = Buffer.alloc(Math.min(st.size, max + 1));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      if (bytesRead > max) throw new ScriptError('maxsize', `Script ${quote(name)} is larger than ${max} bytes`);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  /** Whether a script of `size` bytes named `name` may be stored (HAVESPACE, and PUTSCRIPT before it writes). */
  async haveSpace(name: string, size: number): Promise<void> {
    const file = this.fileOf(name);
    if (size > this.limits.maxScriptBytes) throw new ScriptError('maxsize', `Script is too large (max ${this.limits.maxScriptBytes} bytes).`);
    if (await exists(file)) return;
    const count = (await this.names()).length;
    if (count >= this.limits.maxScripts) throw new ScriptError('maxscripts', `Too many scripts (max ${this.limits.maxScripts}).`);
  }

  /** Stores a script (already compiled by the caller), replacing one of that name. */
  async put(name: string, content: Buffer): Promise<void> {
    await this.haveSpace(name, content.length);
    await this.ensureDir();
    const tmp = await this.writeTemp(content);
    try {
      await fs.rename(tmp, this.fileOf(name));
    } catch (err) {
      await fs.unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /** Makes `name` the active script, or none with null. */
  async setActive(name: string | null): Promise<void> {
    await this.adoptPlainActive();
    if (name === null) {
      const st = await fs.lstat(this.loc.active).catch(() => null);
      if (st?.isSymbolicLink()) await fs.unlink(this.loc.active).catch((err) => (isCode(err, 'ENOENT') ? undefined : Promise.reject(err)));
      return;
    }
    const file = this.fileOf(name);
    await this.checkDir();
    const st = await fs.lstat(file).catch(() => null);
    if (!st?.isFile()) throw notFound(name);
    await this.link(name);
  }

  async delete(name: string): Promise<void> {
    const file = this.fileOf(name);
    await this.checkDir();
    const active = await activeScript(this.loc);
    if (active?.kind === 'script' && active.name === name) throw new ScriptError('active', 'Cannot delete the active Sieve script.');
    const st = await fs.lstat(file).catch(() => null);
    if (!st?.isFile()) throw notFound(name);
    await fs.unlink(file);
  }

  /**
   * Renames a script. A hard link under the new name first (which fails if
   * the name is taken, with no window for a race), then the active link
   * moves if it pointed at the old name, then the old name goes: a delivery
   * at any moment finds the active script.
   */
  async rename(from: string, to: string): Promise<void> {
    const src = this.fileOf(from);
    const dst = this.fileOf(to);
    await this.checkDir();
    const st = await fs.lstat(src).catch(() => null);
    if (!st?.isFile()) throw notFound(from);
    if (from === to) throw new ScriptError('exists', 'A sieve script with that name already exists.');
    try {
      await fs.link(src, dst);
    } catch (err) {
      if (isCode(err, 'EEXIST')) throw new ScriptError('exists', 'A sieve script with that name already exists.');
      if (isCode(err, 'ENOENT')) throw notFound(from);
      throw err;
    }
    const active = await activeScript(this.loc);
    if (active?.kind === 'script' && active.name === from) await this.link(to);
    await fs.unlink(src);
  }

  // --- helpers ---

  /** Script names in the directory: regular NAME.sieve files with a valid name. */
  private async names(): Promise<string[]> {
    await this.checkDir();
    let entries;
    try {
      entries = await fs.readdir(this.loc.dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      if (isCode(err, 'ENOENT')) return [];
      throw err;
    }
    const out: string[] = [];
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    for (const e of entries) {
      if (!e.isFile()) continue;
      let file: string;
      try {
        file = utf8.decode(e.name);
      } catch {
        continue;
      }
      if (!file.endsWith(SUFFIX)) continue;
      const name = file.slice(0, -SUFFIX.length);
      if (!scriptNameProblem(name)) out.push(name);
    }
    return out.sort();
  }

  /** The script directory may be a symlink only if it resolves inside the home. */
  private async checkDir(): Promise<void> {
    let st;
    try {
      st = await fs.lstat(this.loc.dir);
    } catch (err) {
      if (isCode(err, 'ENOENT')) return;
      throw err;
    }
    if (st.isDirectory()) return;
    if (!st.isSymbolicLink()) throw new ScriptError('unsafe', `${this.loc.dir} is not a directory`);
    const real = await fs.realpath(this.loc.dir).catch(() => null);
    const home = await fs.realpath(this.loc.home).catch(() => this.loc.home);
    if (!real || !(real + '/').startsWith(home + '/')) throw new ScriptError('unsafe', `${this.loc.dir} is a symbolic link that leads out of ${this.loc.home}; not following it`);
  }

  private async ensureDir(): Promise<void> {
    await this.checkDir();
    await fs.mkdir(path.join(this.loc.dir, 'tmp'), { recursive: true, mode: 0o700 });
  }

  /** A new file in sieve/tmp/ holding `content`, on disk (fsync) before it is renamed in. */
  private async writeTemp(content: Buffer): Promise<string> {
    const tmp = path.join(this.loc.dir, 'tmp', `${Date.now()}.P${process.pid}.${crypto.randomBytes(6).toString('hex')}${SUFFIX}`);
    const fh = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    try {
      await fh.writeFile(content);
      await fh.sync();
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await fs.unlink(tmp).catch(() => undefined);
      throw err;
    }
    return tmp;
  }

  /** Points the active link at `name`: a new link beside it, renamed over the old one (atomic). */
  private async link(name: string): Promise<void> {
    const target = path.relative(path.dirname(this.loc.active), this.fileOf(name));
    const st = await fs.lstat(this.loc.active).catch(() => null);
    if (st && !st.isSymbolicLink()) throw new ScriptError('unsafe', `${this.loc.active} is not a symbolic link; not replacing it`);
    const tmp = `${this.loc.active}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    await fs.mkdir(path.dirname(this.loc.active), { recursive: true, mode: 0o700 });
    await fs.symlink(target, tmp);
    try {
      await fs.rename(tmp, this.loc.active);
    } catch (err) {
      await fs.unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}

function notFound(name: string): ScriptError {
  return new ScriptError('nonexistent', `Sieve script ${quote(name)} not found`);
}

function quote(name: string): string {
  return `"${name.length > 60 ? name.slice(0, 60) + '…' : name}"`;
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    (err) => (isCode(err, 'ENOENT', 'ENOTDIR') ? false : Promise.reject(err)),
  );
}

function isCode(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as NodeJS.ErrnoException)?.code ?? '');
}
