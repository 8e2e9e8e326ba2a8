// Does Postfix deliver into the Maildirs we serve? Pure functions over
// `postconf` output and map lookups; src/check/run.ts gathers those.
import path from 'node:path';
import { expandMaildir } from '../auth/users.js';
import type { UserEntry } from '../auth/passwd-file.js';
import { error, result, warn, type CheckResult } from './types.js';

/** The parameters we ask `postconf -x` for. */
export const POSTCONF_PARAMS = [
  'mail_version',
  'virtual_mailbox_domains',
  'virtual_mailbox_base',
  'virtual_mailbox_maps',
  'virtual_uid_maps',
  'virtual_gid_maps',
  'home_mailbox',
  'mailbox_command',
  'mailbox_transport',
];

/** Parses `postconf name …` output ("name = value" per line). */
export function parsePostconf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+)\s*=\s?(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

/** Postfix lists: separated by commas and/or white space. */
export function postfixList(v: string | undefined): string[] {
  return (v ?? '').split(/[\s,]+/).filter(Boolean);
}

/** Literal domains of virtual_mailbox_domains (table entries like hash:/… are skipped). */
export function literalDomains(params: Record<string, string>): string[] {
  return postfixList(params.virtual_mailbox_domains).filter((d) => !d.includes(':') && !d.startsWith('/'));
}

/** True when Postfix delivers with virtual(8) via virtual_mailbox_maps. */
export function isVirtual(params: Record<string, string>): boolean {
  return postfixList(params.virtual_mailbox_maps).length > 0 && postfixList(params.virtual_mailbox_domains).length > 0;
}

/** Recipient addresses that reach a user: the login itself if it has a domain, else login@each virtual domain. */
export function addressesFor(user: UserEntry, params: Record<string, string>): string[] {
  if (user.name.includes('@')) return [user.name];
  return literalDomains(params).map((d) => `${user.name}@${d}`);
}

function norm(p: string): string {
  return path.resolve(p).replace(/\/+$/, '');
}

export interface PostfixInput {
  params: Record<string, string>;
  users: UserEntry[];
  template: string;
  /** virtual mode: address → map result (first map that answers), null when no map knows it. */
  mapEntries: Map<string, string | null>;
  /** local mode: system user name → home directory (from /etc/passwd), null if no such account. */
  systemHomes: Map<string, string | null>;
  /** The uid/gid maildir-imapd serves as. */
  service: { name: string; uid: number; gid: number };
  /** For the fix lines: `postconf -c DIR` when a private config is checked. */
  postconfCmd: string;
  /** realpath() when the path exists (so symlinks compare equal); identity in tests. */
  realpath?: (p: string) => string;
}

export function checkPostfix(input: PostfixInput): CheckResult {
  const { params, users, template, service, postconfCmd } = input;
  const res = result('postfix');
  const real = input.realpath ?? ((p: string) => p);
  const ours = (u: UserEntry): string | null => {
    try {
      return norm(real(norm(expandMaildir(template, u))));
    } catch {
      return null; // reported by the Maildir check
    }
  };
  const version = params.mail_version ? `Postfix ${params.mail_version}` : 'Postfix';
  if (isVirtual(params)) {
    const base = params.virtual_mailbox_base ?? '';
    const maps = params.virtual_mailbox_maps;
    const mapFile = postfixList(maps)[0]?.replace(/^[a-z0-9_]+:/, '') ?? 'the map file';
    let good = 0;
    for (const u of users) {
      const addrs = addressesFor(u, params);
      if (!addrs.length) {
        res.problems.push(warn(`user ${u.name}: no domain in the login and no literal domain in virtual_mailbox_domains, so the Postfix address cannot be checked`, `log in with the full address (name@domain in the users file), or list the domains in virtual_mailbox_domains`));
        continue;
      }
      const hit = addrs.find((a) => input.mapEntries.get(a));
      if (!hit) {
        res.problems.push(
          error(
            `user ${u.name}: ${version} has no virtual_mailbox_maps entry for ${addrs.join(' or ')}: mail to them is rejected ("User unknown in virtual mailbox table")`,
            `add "${addrs[0]} ${path.relative(base || '/', ours(u) ?? '') || '<dir>'}/" to ${mapFile}${/^(hash|lmdb|btree|cdb):/.test(maps) ? ` and run postmap ${postfixList(maps)[0]}` : ''}; then ${postconfCmd.replace(/^postconf/, 'postfix')} reload`,
          ),
        );
        continue;
      }
      const entry = input.mapEntries.get(hit)!;
      // Delivered over LMTP (virtual_transport = lmtp:…): the map only says the address exists; we write the file.
      if ((params.virtual_transport ?? '').startsWith('lmtp:')) {
        good++;
        continue;
      }
      if (!entry.endsWith('/')) {
        res.problems.push(error(`user ${u.name}: ${maps} maps ${hit} to "${entry}", which has no trailing slash: Postfix delivers mbox there, not Maildir`, `end the entry with a slash: "${hit} ${entry}/"`));
        continue;
      }
      // virtual(8) prepends virtual_mailbox_base to the map result.
      const theirs = norm(real(norm(base + '/' + entry)));
      const mine = ours(u);
      if (mine && theirs !== mine) {
        res.problems.push(
          error(
            `user ${u.name}: Postfix delivers ${hit} into ${theirs}/ (virtual_mailbox_base ${base} + "${entry}"), but maildir-imapd serves ${mine}`,
            `make mail.maildir resolve to the same place (e.g. mail.maildir = "${base.replace(/\/+$/, '')}/${entry.replace(/\/+$/, '').split('/').map((s) => (s === u.name ? '%u' : s === u.name.split('@')[0] ? '%n' : s)).join('/')}"), or fix the map entry`,
          ),
        );
        continue;
      }
      good++;
    }
    const uidMap = /^static:(\d+)$/.exec(params.virtual_uid_maps ?? '');
    const overLmtp = (params.virtual_transport ?? '').startsWith('lmtp:');
    if (overLmtp) {
      // virtual(8) does not write the files: its uid does not matter.
    } else if (!uidMap) {
      res.problems.push(warn(`virtual_uid_maps = "${params.virtual_uid_maps ?? ''}": cannot tell which uid Postfix writes mail as`, `use one mail owner: ${postconfCmd} -e virtual_uid_maps=static:${service.uid} virtual_gid_maps=static:${service.gid}`));
    } else if (Number(uidMap[1]) !== service.uid) {
      res.problems.push(error(`Postfix writes mail as uid ${uidMap[1]} (virtual_uid_maps) but maildir-imapd serves as ${service.name} (uid ${service.uid}): new mail would not be writable by us`, `${postconfCmd} -e virtual_uid_maps=static:${service.uid} virtual_gid_maps=static:${service.gid}  (or set service.user to uid ${uidMap[1]})`));
    }
    if (good) res.passed.push(overLmtp ? `${version} knows the addresses of ${good} user${good === 1 ? '' : 's'} (delivery over LMTP: see the wiring check)` : `${version} (virtual) delivers into the Maildirs we serve for ${good} user${good === 1 ? '' : 's'}`);
    return res;
  }
  const home = params.home_mailbox ?? '';
  if (home) {
    if (!home.endsWith('/')) {
      res.problems.push(error(`home_mailbox = ${home} has no trailing slash: Postfix delivers mbox, not Maildir`, `${postconfCmd} -e home_mailbox=Maildir/`));
      return res;
    }
    if (params.mailbox_command || params.mailbox_transport) {
      res.problems.push(warn(`mailbox_command/mailbox_transport is set, so Postfix's local(8) hands mail to "${params.mailbox_command || params.mailbox_transport}" and home_mailbox is not used`, `check that program delivers into the Maildirs below, or ${postconfCmd} -e mailbox_command= mailbox_transport=`));
    }
    let good = 0;
    for (const u of users) {
      const local = u.name.split('@')[0];
      const sysHome = input.systemHomes.get(local);
      if (!sysHome) {
        res.problems.push(error(`user ${u.name}: no system account ${local}, so Postfix's local(8) (home_mailbox) cannot deliver to them`, `create the account (useradd ${local}), or deliver with virtual mailboxes (see deploy/postfix/virtual.sh)`));
        continue;
      }
      const theirs = norm(real(norm(path.join(sysHome, home))));
      const mine = ours(u);
      if (mine && theirs !== mine) {
        res.problems.push(error(`user ${u.name}: Postfix delivers into ${theirs}/ (home ${sysHome} + home_mailbox ${home}), but maildir-imapd serves ${mine}`, `set mail.maildir = "~/${home.replace(/\/+$/, '')}" and give each user their home in the users file (6th field)`));
        continue;
      }
      good++;
    }
    if (good) res.passed.push(`${version} (local, home_mailbox = ${home}) delivers into the Maildirs we serve for ${good} user${good === 1 ? '' : 's'}`);
    return res;
  }
  if (params.mailbox_command || params.mailbox_transport) {
    res.problems.push(warn(`Postfix hands local mail to "${params.mailbox_command || params.mailbox_transport}"; cannot tell where it delivers`, `check that it writes into the Maildirs maildir-imapd serves`));
    return res;
  }
  res.problems.push(error(`${version} delivers to mbox files in /var/mail (no virtual_mailbox_maps, no home_mailbox), not into Maildirs`, `${postconfCmd} -e home_mailbox=Maildir/  for system users, or set up virtual mailboxes (deploy/postfix/virtual.sh)`));
  return res;
}
