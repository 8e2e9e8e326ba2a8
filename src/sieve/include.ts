// RFC 6609 include, resolved when a script is loaded, as Pigeonhole does it
// when it compiles: every script an include names (at any depth) is read and
// compiled now, so a delivery never waits for a file in the middle of a run.
// Errors here make the whole script fail to load (the delivery then keeps the
// message): a missing script that is not :optional, an include cycle, more
// than maxIncludeDepth levels or maxIncludes scripts. An :optional script
// that is missing is no error; the run skips it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DEFAULT_LIMITS, compileSieve, type CompiledScript, type CompileOptions, type IncludeLocation } from './compile.js';
import type { SieveError } from './parse.js';

/** Where `include :personal` and `include :global` look: directories of NAME.sieve (null: none configured). */
export interface IncludeDirs {
  personal: string | null;
  global: string | null;
}

/** A file the loaded script depends on, and what it was when read ('' when it did not exist). */
export interface Dependency {
  file: string;
  stamp: string;
}

export type Resolution =
  | { ok: true; scripts: Map<string, CompiledScript>; deps: Dependency[] }
  | { ok: false; errors: SieveError[]; deps: Dependency[] };

/** The key a run asks the included scripts by. */
export function includeKey(location: IncludeLocation, name: string): string {
  return `${location}:${name}`;
}

/** What identifies a version of a file: device, inode, size, mtime; '' when it is missing. */
export async function fileStamp(file: string): Promise<string> {
  try {
    const st = await fs.stat(file, { bigint: true });
    return st.isFile() ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}` : '';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return '';
    throw err;
  }
}

/** Whether every dependency is still as it was read. */
export async function depsUnchanged(deps: Dependency[]): Promise<boolean> {
  for (const d of deps) if ((await fileStamp(d.file)) !== d.stamp) return false;
  return true;
}

/** Reads and compiles every script `main` includes, depth first. */
export async function resolveIncludes(main: CompiledScript, mainFile: string, dirs: IncludeDirs, compile: CompileOptions = {}): Promise<Resolution> {
  const limits = { ...DEFAULT_LIMITS, ...compile.limits };
  const scripts = new Map<string, CompiledScript>();
  const deps: Dependency[] = [];
  const errors: SieveError[] = [];
  // a chain of files from the main script to the one being resolved: a file met again in it is a cycle
  const chain: string[] = [path.resolve(mainFile)];

  const visit = async (script: CompiledScript, where: string, topLine: number): Promise<void> => {
    for (const ref of script.includes) {
      if (errors.length) return;
      // errors are reported on the main script's line that led here, naming the inner script
      const line = chain.length === 1 ? ref.line : topLine;
      const at = (msg: string) => errors.push({ line, message: chain.length === 1 ? msg : `${where}: line ${ref.line}: ${msg}` });
      const dir = ref.location === 'personal' ? dirs.personal : dirs.global;
      if (dir === null) {
        if (!ref.optional) at(`include :${ref.location}: no ${ref.location} script location is configured${ref.location === 'global' ? ' (sieve.global_dir)' : ''}`);
        continue;
      }
      const file = path.resolve(dir, `${ref.name}.sieve`);
      if (chain.includes(file)) {
        // an :once include of a script already running is skipped at run time: no cycle (as Pigeonhole)
        if (ref.once && scripts.has(includeKey(ref.location, ref.name))) continue;
        at('circular include');
        return;
      }
      if (chain.length > limits.maxIncludeDepth) {
        at(`includes nested deeper than ${limits.maxIncludeDepth}`);
        return;
      }
      const key = includeKey(ref.location, ref.name);
      if (scripts.has(key)) continue;
      const stamp = await fileStamp(file);
      deps.push({ file, stamp });
      if (stamp === '') {
        if (!ref.optional) at(`included ${ref.location} script '${ref.name}' does not exist`);
        continue;
      }
      if (scripts.size >= limits.maxIncludes) {
        at(`more than ${limits.maxIncludes} included scripts`);
        return;
      }
      const result = compileSieve(await fs.readFile(file), compile);
      if (!result.ok) {
        const first = result.errors[0];
        at(`included ${ref.location} script '${ref.name}' does not compile: line ${first.line}: ${first.message}`);
        return;
      }
      scripts.set(key, result.script);
      chain.push(file);
      await visit(result.script, ref.name, line);
      chain.pop();
    }
  };
  await visit(main, path.basename(mainFile).replace(/\.sieve$/, ''), 1);
  return errors.length ? { ok: false, errors, deps } : { ok: true, scripts, deps };
}
