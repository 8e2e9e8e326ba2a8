// Dovecot-compatible dotlock: `<file>.lock` created with O_EXCL.
// Dovecot treats a lock older than the stale timeout as abandoned; we also
// write "pid:host" so a lock left by one of our own crashed processes on this
// host is recognised at once instead of blocking a restart for two minutes.
import { promises as fs, constants } from 'node:fs';
import os from 'node:os';

export interface DotlockOptions {
  staleMs: number;   // a lock untouched this long is taken over (Dovecot: 120 s for the uidlist)
  timeoutMs: number; // give up waiting after this long
}

export class LockTimeoutError extends Error {}

const HOST = os.hostname();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  let st;
  try {
    st = await fs.stat(lockPath);
  } catch {
    return false; // gone: the next O_EXCL attempt decides
  }
  if (Date.now() - st.mtimeMs > staleMs) return true;
  if (st.size > 64) return false; // a Dovecot rewrite in progress: its content is the new file
  const text = await fs.readFile(lockPath, 'utf8').catch(() => '');
  const m = /^(\d+):(.+)$/.exec(text.trim());
  if (!m) return false;
  const pid = Number(m[1]);
  return m[2] === HOST && pid !== process.pid && !pidAlive(pid);
}

/** Takes the lock, runs `fn`, releases it. `fn` receives the lock path. */
export async function withDotlock<T>(target: string, opts: DotlockOptions, fn: (lockPath: string) => Promise<T>): Promise<T> {
  const lockPath = target + '.lock';
  const started = Date.now();
  let delay = 2;
  for (;;) {
    try {
      const fh = await fs.open(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await fh.writeFile(`${process.pid}:${HOST}\n`);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await isStale(lockPath, opts.staleMs)) {
        await fs.unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() - started > opts.timeoutMs) throw new LockTimeoutError(`timed out waiting for ${lockPath}`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 100);
    }
  }
  try {
    return await fn(lockPath);
  } finally {
    await fs.unlink(lockPath).catch(() => undefined);
  }
}
