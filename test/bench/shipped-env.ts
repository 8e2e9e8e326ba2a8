// The environment the systemd unit gives the server (systemd/maildir-imapd.service):
// jemalloc preloaded with its MALLOC_CONF when Debian's libjemalloc2 is installed,
// NODE_OPTIONS and MAILDIR_IMAPD_HEAP_GROWTH when it sets them. Read from the unit itself, so a bench runs what is shipped.
import fs from 'node:fs';
import path from 'node:path';

const unit = fs.readFileSync(new URL('../../../systemd/maildir-imapd.service', import.meta.url), 'utf8');
const setting = (name: string): string | undefined => new RegExp(`^Environment=${name}=(.*)$`, 'm').exec(unit)?.[1];

/** Whether the dynamic loader can find libjemalloc.so.2 (what the unit's LD_PRELOAD names). */
export function jemallocInstalled(): boolean {
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib/arm-linux-gnueabihf', '/usr/lib64', '/usr/lib', '/lib'];
  return dirs.some((d) => fs.existsSync(path.join(d, 'libjemalloc.so.2')));
}

/** process.env plus the unit's settings; `malloc: 'glibc'` leaves jemalloc out (as on a machine without it). */
export function shippedEnv(malloc: 'jemalloc' | 'glibc' = jemallocInstalled() ? 'jemalloc' : 'glibc'): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const nodeOptions = setting('NODE_OPTIONS');
  if (nodeOptions) env.NODE_OPTIONS = [process.env.NODE_OPTIONS, nodeOptions].filter(Boolean).join(' ');
  const growth = setting('MAILDIR_IMAPD_HEAP_GROWTH');
  if (growth !== undefined) env.MAILDIR_IMAPD_HEAP_GROWTH = growth;
  if (malloc === 'jemalloc') {
    env.LD_PRELOAD = setting('LD_PRELOAD') ?? 'libjemalloc.so.2';
    env.MALLOC_CONF = setting('MALLOC_CONF') ?? '';
  }
  return env;
}
