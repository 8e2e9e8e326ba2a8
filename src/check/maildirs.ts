// Every user's Maildir: exists with cur/ new/ tmp/, owned and writable by the
// user the server runs as (asked of the kernel when check runs as root), and
// reachable through its parent directories; symbolic links in it, which the
// server never follows, are named.
import path from 'node:path';
import { expandMaildir, sharedMaildirs } from '../auth/users.js';
import type { UserEntry } from '../auth/passwd-file.js';
import { error, result, warn, type CheckResult, type Problem } from './types.js';

export interface StatInfo {
  isDirectory: boolean;
  uid: number;
  gid: number;
  mode: number;
}

/** stat() that returns null for a missing path (injected so tests can fake a tree). */
export type StatFn = (p: string) => StatInfo | null;

/** A directory's entries with their types, not following links; null if it cannot be read. */
export type EntriesFn = (dir: string) => Array<{ name: string; symlink: boolean; directory: boolean }> | null;

export interface MaildirCheckOptions {
  /** Several users may share one Maildir (mail.shared_maildir). */
  sharedAllowed?: boolean;
  /**
   * What the service user really may do to a path, when that could be asked
   * (check run as root): the errno code if it may not, null if it may,
   * undefined if not asked. Takes the place of the mode-bit reckoning.
   */
  access?: (p: string) => string | null | undefined;
  /** Lists directories for symbolic links (none looked for without it). */
  entries?: EntriesFn;
}

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

export function checkMaildirs(users: UserEntry[], template: string, owner: Owner, stat: StatFn, opts: MaildirCheckOptions = {}): CheckResult {
  const { sharedAllowed = false, access, entries } = opts;
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
      } else {
        const denied = access?.(p);
        if (denied) {
          res.problems.push(error(`user ${user.name}: ${owner.name} cannot read, write and enter ${p} (${denied}, tried as ${owner.name})`, `chmod u+rwx ${p}; check ACLs (getfacl) and the directories above it`));
          break; // the directories below say the same
        } else if (denied === undefined && !allows(st, owner, { r: true, w: true, x: true })) {
          res.problems.push(error(`user ${user.name}: ${p} is not writable by its owner ${owner.name} (mode ${(st.mode & 0o7777).toString(8)})`, `chmod u+rwx ${p}`));
        }
      }
    }
    if (res.problems.length === before) good++;
    if (entries) res.problems.push(...symlinkProblems(user.name, dir, entries));
  }
  if (good) res.passed.push(`${good} Maildir${good === 1 ? '' : 's'} with cur/ new/ tmp/, owned and writable by ${owner.name} (uid ${owner.uid})${access ? ', tried as that user' : ''}`);
  if (entries && !res.problems.some((p) => p.message.includes('symbolic link'))) res.passed.push('no symbolic links among the folders and message files');
  return res;
}

/**
 * The server never follows a symbolic link in a Maildir (a folder `.Evil ->
 * ../alice/Maildir` planted in bob's would give bob alice's mail; a link in
 * cur/ could serve /etc/passwd): such folders and messages are not there for
 * the user. Named here, so an operator who made one on purpose learns why it
 * is not served.
 */
function symlinkProblems(user: string, root: string, entries: EntriesFn): Problem[] {
  const out: Problem[] = [];
  const top = entries(root);
  if (!top) return out;
  const folders: string[] = [root];
  for (const e of top) {
    const p = path.join(root, e.name);
    if (['cur', 'new', 'tmp'].includes(e.name) && e.symlink) {
      out.push(warn(`user ${user}: ${p} is a symbolic link: INBOX is not read through it`, `replace the link with the directory it points to (mv), so the Maildir is one tree`));
    } else if (e.name.length > 1 && e.name[0] === '.' && e.name !== '..') {
      if (e.symlink) out.push(warn(`user ${user}: folder ${p} is a symbolic link: not served (a link could lead into another user's mail)`, `move the real folder here (mv its target ${p}) or remove the link (rm ${p})`));
      else if (e.directory) folders.push(p);
    }
  }
  for (const folder of folders) {
    for (const sub of ['cur', 'new']) {
      const dir = path.join(folder, sub);
      const list = entries(dir);
      if (!list) continue;
      const links = list.filter((e) => e.symlink).map((e) => e.name).sort();
      if (links.length) {
        out.push(
          warn(
            `user ${user}: ${links.length} message file${links.length === 1 ? ' is a symbolic link' : 's are symbolic links'} in ${dir} (${links.slice(0, 3).join(', ')}${links.length > 3 ? ' …' : ''}): never served`,
            `replace each link with the file it points to (cp --remove-destination "$(readlink -f F)" F), or remove it`,
          ),
        );
      }
    }
    if (folder !== root) {
      for (const e of entries(folder) ?? []) {
        if (['cur', 'new', 'tmp'].includes(e.name) && e.symlink) out.push(warn(`user ${user}: ${path.join(folder, e.name)} is a symbolic link: the folder is not served`, `replace the link with the directory it points to (mv)`));
      }
    }
  }
  return out;
}
