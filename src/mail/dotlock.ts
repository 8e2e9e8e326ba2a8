// Dovecot-compatible dotlock: `<file>.lock` created with O_EXCL.
// Dovecot treats a lock older than the stale timeout as abandoned; we also
// write "pid:host" so a lock left by one of our own crashed processes on this
// host is recognised at once instead of blocking a restart for two minutes.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { isDiskFull } from './errors.js';

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
  if (m[2] !== HOST) return false;
  // Ours, but held by nobody here: it was taken in a folder that a RENAME then moved to this
  // path (its holder's unlink found nothing). It blocked the renamed folder for staleMs.
  if (pid === process.pid) return !held.has(lockPath);
  return !pidAlive(pid);
}

/** Lock paths this process holds, until the release has unlinked them. */
const held = new Set<string>();

/**
 * The lock is made by link()ing a prepared file holding "pid:host" to
 * `<file>.lock`: atomic like O_EXCL, but the lock never exists without its
 * owner written in it (a crash between create and write would leave a lock
 * nobody can identify), and on this disk link() costs ~30 µs where creating a
 * file costs ~1 ms — it is on the path of every delivery.
 */
const templates = new Map<string, string>();

async function template(dir: string): Promise<string> {
  let file = templates.get(dir);
  if (!file) {
    // tmp/ when there is one (a Maildir): it is on the same filesystem, and junk there is expected.
    const tmp = path.join(dir, 'tmp');
    const inTmp = await fs.stat(tmp).then((s) => s.isDirectory(), () => false);
    file = path.join(inTmp ? tmp : dir, `.lock-template.${process.pid}.${HOST}`);
    templates.set(dir, file);
  }
  return file;
}

async function linkLock(lockPath: string): Promise<void> {
  const tmpl = await template(path.dirname(lockPath));
  try {
    await fs.link(tmpl, lockPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // No template yet (or a tmp/ cleaner removed it): write it and try again.
    try {
      await fs.writeFile(tmpl, `${process.pid}:${HOST}\n`, { mode: 0o600 });
    } catch (writeErr) {
      // Never keep a template without its owner in it: every later lock would be anonymous.
      await fs.unlink(tmpl).catch(() => undefined);
      if (!isDiskFull(writeErr)) throw writeErr;
      return exclusiveLock(lockPath);
    }
    await fs.link(tmpl, lockPath);
  }
}

/**
 * A full disk has no block for the template's few bytes, but a new empty file
 * needs only an inode and a directory entry: the lock is then made with
 * O_EXCL as Dovecot makes it, and its owner written if there is room. An
 * empty lock is recognised as abandoned by its age alone (staleMs): a user on
 * a full disk can still open folders and delete mail to make room.
 */
async function exclusiveLock(lockPath: string): Promise<void> {
  const fh = await fs.open(lockPath, 'wx', 0o600);
  try {
    await fh.writeFile(`${process.pid}:${HOST}\n`).catch(() => undefined);
  } finally {
    await fh.close();
  }
}

/** Takes the lock, runs `fn`, releases it. `fn` receives the lock path. */
export async function withDotlock<T>(target: string, opts: DotlockOptions, fn: (lockPath: string) => Promise<T>): Promise<T> {
  const lockPath = target + '.lock';
  await releasing.get(lockPath);
  const started = Date.now();
  let delay = 1;
  for (;;) {
    try {
      await linkLock(lockPath);
      held.add(lockPath);
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
    // Released in the background: the caller's result (a UID on disk) need not wait for
    // the unlink; our own next attempt on this lock waits for it instead.
    const release = fs.unlink(lockPath).then(
      () => void held.delete(lockPath),
      () => void held.delete(lockPath),
    );
    releasing.set(lockPath, release);
    void release.then(() => {
      if (releasing.get(lockPath) === release) releasing.delete(lockPath);
    });
  }
}

const releasing = new Map<string, Promise<void>>();

/** Removes this process's lock templates (on shutdown). */
export async function removeLockTemplates(): Promise<void> {
  await Promise.all([...templates.values()].map((f) => fs.unlink(f).catch(() => undefined)));
  templates.clear();
}
