// Every user's Maildir: exists with cur/ new/ tmp/, owned and writable by the
// user the server runs as, and reachable through its parent directories.
import path from 'node:path';
import { expandMaildir, sharedMaildirs } from '../auth/users.js';
import type { UserEntry } from '../auth/passwd-file.js';
import { error, result, type CheckResult } from './types.js';

export interface StatInfo {
  isDirectory: boolean;
  uid: number;
  gid: number;
  mode: number;
}

/** stat() that returns null for a missing path (injected so tests can fake a tree). */
export type StatFn = (p: string) => StatInfo | null;

export interface Owner {
  name: string;
  uid: number;
  gid: number;
}

function allows(st: StatInfo, who: Owner, bits: { r?: boolean; w?: boolean; x?: boolean }): boolean {
  if (who.uid === 0) return true;
  const shift = st.uid === who.uid ? 6 : st.gid === who.gid ? 3 : 0;
  const perm = (st.mode >> shift) & 7;
  return (!bits.r || (perm & 4) !== 0) && (!bits.w || (perm & 2) !== 0) && (!bits.x || (perm & 1) !== 0);
}

export function checkMaildirs(users: UserEntry[], template: string, owner: Owner, stat: StatFn, sharedAllowed = false): CheckResult {
  const res = result('maildirs');
  if (!sharedAllowed) {
    for (const s of sharedMaildirs(users, template)) {
      res.problems.push(
        error(
          `users ${s.users.slice(0, 5).join(', ')}${s.users.length > 5 ? ' …' : ''} all get the Maildir ${s.maildir} from mail.maildir = "${template}": they would read each other's mail, and serve refuses to start`,
          'put the user in mail.maildir (%n, %u or a leading ~, e.g. /var/mail/vhosts/%d/%n/Maildir), or set mail.shared_maildir = true if one shared mailbox is meant',
        ),
      );
    }
  }
  const chown = (p: string) => `chown -R ${owner.name}: ${p}`;
  let good = 0;
  for (const user of users) {
    let dir: string;
    try {
      dir = path.resolve(expandMaildir(template, user));
    } catch (err) {
      res.problems.push(error(`user ${user.name}: ${(err as Error).message}`, `give ${user.name} a home field (the 6th) in the users file, or use a template without ~`));
      continue;
    }
    const before = res.problems.length;
    // Parents must be traversable (a 0700 directory above the Maildir hides it).
    const parents: string[] = [];
    for (let p = path.dirname(dir); ; p = path.dirname(p)) {
      parents.unshift(p);
      if (p === path.dirname(p)) break;
    }
    let reachable = true;
    for (const p of parents) {
      const st = stat(p);
      if (!st) break; // the missing one is reported below
      if (!allows(st, owner, { x: true })) {
        res.problems.push(error(`user ${user.name}: ${owner.name} cannot enter ${p} (mode ${(st.mode & 0o7777).toString(8)}), so cannot reach ${dir}`, `chmod o+x ${p}  (or make ${owner.name} its owner or group)`));
        reachable = false;
        break;
      }
    }
    if (!reachable) continue;
    const top = stat(dir);
    if (!top) {
      res.problems.push(error(`user ${user.name}: Maildir ${dir} does not exist`, `install -d -o ${owner.name} -g ${owner.gid} -m 0700 ${dir}/cur ${dir}/new ${dir}/tmp  (Postfix also creates it on the first delivery)`));
      continue;
    }
    if (!top.isDirectory) {
      res.problems.push(error(`user ${user.name}: ${dir} is not a directory (an mbox file?)`, `convert it to a Maildir (e.g. mb2md) or point mail.maildir at the Maildir`));
      continue;
    }
    for (const [p, st] of [[dir, top] as const, ...['cur', 'new', 'tmp'].map((s) => [path.join(dir, s), stat(path.join(dir, s))] as const)]) {
      if (!st) {
        res.problems.push(error(`user ${user.name}: ${p} is missing (a Maildir has cur/, new/ and tmp/)`, `install -d -o ${owner.name} -g ${owner.gid} -m 0700 ${p}`));
      } else if (!st.isDirectory) {
        res.problems.push(error(`user ${user.name}: ${p} is not a directory`, `move it away and run: install -d -o ${owner.name} -m 0700 ${p}`));
      } else if (st.uid !== owner.uid) {
        res.problems.push(error(`user ${user.name}: ${p} belongs to uid ${st.uid}, not to ${owner.name} (uid ${owner.uid}) who serves the mail`, chown(dir)));
        break;
      } else if (!allows(st, owner, { r: true, w: true, x: true })) {
        res.problems.push(error(`user ${user.name}: ${p} is not writable by its owner ${owner.name} (mode ${(st.mode & 0o7777).toString(8)})`, `chmod u+rwx ${p}`));
      }
    }
    if (res.problems.length === before) good++;
  }
  if (good) res.passed.push(`${good} Maildir${good === 1 ? '' : 's'} with cur/ new/ tmp/, owned and writable by ${owner.name} (uid ${owner.uid})`);
  return res;
}
