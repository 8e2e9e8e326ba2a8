// Is Postfix still wired to Dovecot? The three places the standard Postfix +
// Dovecot guides point at Dovecot — final delivery over LMTP, SMTP AUTH
// (smtpd_sasl_type = dovecot) and the quota-status policy service — compared
// with what maildir-imapd listens on. Pure: postconf's values and our config in,
// problems with the exact lines to change out.
import path from 'node:path';
import { postfixList } from './postfix.js';
import { error, result, warn, type CheckResult } from './types.js';

/** The main.cf parameters this check reads (added to `postconf -x`). */
export const WIRING_PARAMS = [
  'queue_directory',
  'virtual_transport',
  'mailbox_transport',
  'smtpd_sasl_auth_enable',
  'smtpd_sasl_type',
  'smtpd_sasl_path',
  'smtpd_recipient_restrictions',
  'smtpd_relay_restrictions',
  'smtpd_end_of_data_restrictions',
  'mail_owner',
];

export interface Listeners {
  lmtp: string[];
  sasl: string[];
  quotaStatus: string[];
}

/** How one of our unix sockets will be handed over (config, or the user the server starts as). */
export interface SocketSetup {
  owner: { name: string; uid: number };
  group: { name: string; gid: number };
  mode: number;
  /** The config keys to name in a fix. */
  keys: { owner: string; group: string; mode: string };
}

/** Who connects from Postfix's side: its mail_owner (smtpd, lmtp and the policy client run as it). */
export interface PostfixUser {
  name: string;
  uid: number;
  gids: number[];
}

/** Sockets of ours per service, and Postfix's user; given, unix sockets Postfix could not open are errors. */
export interface SocketAccess {
  sockets: Partial<Record<keyof Listeners, SocketSetup>>;
  postfix: PostfixUser | null;
}

/** Whether `who` may connect to a unix socket set up as `sock` (connect needs write permission). */
export function socketAllows(sock: SocketSetup, who: PostfixUser): boolean {
  if (who.uid === 0) return true;
  if (sock.owner.uid === who.uid) return (sock.mode & 0o200) !== 0;
  if (who.gids.includes(sock.group.gid)) return (sock.mode & 0o020) !== 0;
  return (sock.mode & 0o002) !== 0;
}

/** Where a Postfix endpoint leads: a unix socket path, or host:port. Relative unix paths are under the queue directory. */
export function postfixEndpoint(spec: string, queueDir: string): { unix: string } | { host: string; port: string } | null {
  let s = spec.trim();
  if (s.startsWith('unix:')) {
    s = s.slice(5);
    return { unix: path.resolve(queueDir, s) };
  }
  if (s.startsWith('inet:')) s = s.slice(5);
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s);
  if (m) return { host: m[1], port: m[2] };
  // smtpd_sasl_path without a type is a unix path (private/auth); a bare name for LMTP is a host we cannot match.
  return s.includes('/') || !s.includes('.') ? { unix: path.resolve(queueDir, s) } : null;
}

/** Whether one of our listen specs (unix:/abs or HOST:PORT) serves what Postfix connects to. */
export function servedBy(target: ReturnType<typeof postfixEndpoint>, ours: string[]): string | null {
  if (!target) return null;
  for (const spec of ours) {
    if ('unix' in target) {
      if (spec.startsWith('unix:') && path.resolve(spec.slice(5)) === target.unix) return spec;
      continue;
    }
    const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(spec);
    if (!m || m[2] !== target.port) continue;
    const host = m[1];
    const local = (h: string) => h === 'localhost' || h === '127.0.0.1' || h === '::1';
    if (host === target.host || host === '0.0.0.0' || host === '::' || (local(host) && local(target.host))) return spec;
  }
  return null;
}

/** `check_policy_service X` targets in the restriction lists. */
function policyServices(params: Record<string, string>): string[] {
  const out: string[] = [];
  for (const p of ['smtpd_recipient_restrictions', 'smtpd_relay_restrictions', 'smtpd_end_of_data_restrictions']) {
    const words = postfixList(params[p]);
    words.forEach((w, i) => {
      if (w === 'check_policy_service' && words[i + 1] && !words[i + 1].startsWith('{')) out.push(words[i + 1]);
    });
  }
  return out;
}

export function checkPostfixWiring(params: Record<string, string>, ours: Listeners, postconfCmd: string, source: string, access?: SocketAccess): CheckResult {
  const res = result('postfix wiring');
  /** A unix socket of ours that Postfix is pointed at but could not open (e.g. root:root 0660 when started as root). */
  const reachable = (kind: keyof Listeners, hit: string, what: string): boolean => {
    const sock = access?.sockets[kind];
    const who = access?.postfix;
    if (!hit.startsWith('unix:') || !sock || !who || socketAllows(sock, who)) return true;
    res.problems.push(
      error(
        `${what}: Postfix runs as ${who.name}, but the socket ${hit.slice(5)} will be ${sock.owner.name}:${sock.group.name} mode ${sock.mode.toString(8).padStart(4, '0')}, which ${who.name} cannot open`,
        `in ${source}: ${sock.keys.owner} = "${who.name}" (or ${sock.keys.group} = "${who.name}" with ${sock.keys.mode} = "0660"), then restart maildir-imapd`,
      ),
    );
    return false;
  };
  const queueDir = params.queue_directory || '/var/spool/postfix';
  const list = (specs: string[]) => (specs.length ? specs.map((s) => JSON.stringify(s)).join(', ') : 'nothing');

  // Final delivery: an LMTP transport must be one we serve.
  for (const param of ['virtual_transport', 'mailbox_transport']) {
    const v = (params[param] ?? '').trim();
    if (!v.startsWith('lmtp:')) continue;
    const target = v.slice('lmtp:'.length);
    const hit = servedBy(postfixEndpoint(target, queueDir), ours.lmtp);
    if (hit) {
      if (reachable('lmtp', hit, `${param} = ${v}`)) res.passed.push(`${param} = ${v}: Postfix delivers over LMTP to maildir-imapd (lmtp.listen ${JSON.stringify(hit)})`);
    }
    else
      res.problems.push(
        error(
          `${param} = ${v}: Postfix hands mail to LMTP at ${target}${/dovecot/i.test(target) ? ' (Dovecot\'s socket)' : ''}, which maildir-imapd does not serve (lmtp.listen: ${list(ours.lmtp)}): once Dovecot is gone, incoming mail is deferred`,
          ours.lmtp.length
            ? `${postconfCmd} -e '${param} = lmtp:${postfixSide(ours.lmtp[0], queueDir)}' && postfix reload`
            : `serve LMTP (in ${source}: [lmtp] listen = ["127.0.0.1:24"]), then ${postconfCmd} -e '${param} = lmtp:inet:127.0.0.1:24' && postfix reload`,
        ),
      );
  }

  // SMTP AUTH through the Dovecot protocol.
  const saslOn = /^(yes|true|1)$/i.test((params.smtpd_sasl_auth_enable ?? '').trim());
  if ((params.smtpd_sasl_type ?? '').trim() === 'dovecot' && saslOn) {
    const p = (params.smtpd_sasl_path ?? '').trim() || 'smtpd';
    const hit = servedBy(postfixEndpoint(p, queueDir), ours.sasl);
    if (hit) {
      if (reachable('sasl', hit, `smtpd_sasl_path = ${p}`)) res.passed.push(`smtpd_sasl_type = dovecot, smtpd_sasl_path = ${p}: SMTP AUTH is checked by maildir-imapd (sasl.listen ${JSON.stringify(hit)})`);
    }
    else
      res.problems.push(
        error(
          `smtpd_sasl_type = dovecot with smtpd_sasl_path = ${p}, which maildir-imapd does not serve (sasl.listen: ${list(ours.sasl)}): once Dovecot is gone, nobody can send mail through this server`,
          ours.sasl.length
            ? `${postconfCmd} -e 'smtpd_sasl_path = ${postfixSide(ours.sasl[0], queueDir, true)}' && postfix reload`
            : `serve SASL (in ${source}: [sasl] listen = ["unix:${path.join(queueDir, 'private/auth')}"]) so Postfix's path ${p} is ours`,
        ),
      );
  }

  // The quota-status policy service (Dovecot's quota-status, usually on port 12340 or a socket named quota-status).
  for (const svc of policyServices(params)) {
    const hit = servedBy(postfixEndpoint(svc, queueDir), ours.quotaStatus);
    if (hit) {
      if (reachable('quotaStatus', hit, `check_policy_service ${svc}`)) res.passed.push(`check_policy_service ${svc}: the quota policy is maildir-imapd's (quota_status.listen ${JSON.stringify(hit)})`);
      continue;
    }
    if (!/quota|12340/i.test(svc)) continue; // another policy service (postgrey, policyd-spf): not ours to judge
    res.problems.push(
      warn(
        `check_policy_service ${svc} looks like Dovecot's quota-status, which maildir-imapd does not serve (quota_status.listen: ${list(ours.quotaStatus)}): without it, Postfix defers or rejects at RCPT`,
        ours.quotaStatus.length
          ? `point it at ${postfixSide(ours.quotaStatus[0], queueDir)} in smtpd_recipient_restrictions`
          : `serve it (in ${source}: [quota_status] listen = ["127.0.0.1:12340"]), or remove it from the restrictions`,
      ),
    );
  }
  return res;
}

/** How Postfix names one of our listen specs: unix sockets relative to the queue directory when under it. */
function postfixSide(spec: string, queueDir: string, bareUnix = false): string {
  if (spec.startsWith('unix:')) {
    const abs = spec.slice(5);
    const rel = path.relative(queueDir, abs);
    const p = rel.startsWith('..') ? abs : rel;
    return bareUnix ? p : `unix:${p}`;
  }
  return `inet:${spec}`;
}
