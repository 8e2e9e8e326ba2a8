// One typed Config from three sources, later ones winning: built-in defaults,
// the TOML file (/etc/maildir-imapd/config.toml unless --config says
// otherwise), and CLI flags. Every error names the key, the file and what
// was expected.
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseToml, TomlError } from 'smol-toml';
import { checkName, normalizeName } from './mail/api.js';
import { isListenSpec } from './lmtp/listen-spec.js';
import { parseQuotaSize, QuotaRuleError } from './auth/quota-rules.js';

export interface Config {
  /** Plain IMAP listeners (STARTTLS offered when a certificate is configured). */
  listen: string[];
  /** Implicit-TLS listeners (993). */
  tlsListen: string[];
  tlsCert: string | null;
  tlsKey: string | null;
  /** Allow LOGIN/AUTHENTICATE without TLS from non-loopback addresses (trusted networks only). */
  allowPlaintext: boolean;
  /** Networks whose clients may send passwords without TLS (nothing on the wire to overhear). */
  plaintextNetworks: string[];
  users: string;
  maildir: string;
  rescanSeconds: number;
  /** RFC 6154 folder names (modified UTF-7 as on the wire); null keeps Dovecot's stock name. */
  draftsFolder: string | null;
  sentFolder: string | null;
  trashFolder: string | null;
  junkFolder: string | null;
  archiveFolder: string | null;
  /** Create the special-use folders at first login when missing. */
  createSpecialFolders: boolean;
  /** Users may share one Maildir (a template that does not name the user): only when asked for. */
  sharedMaildir: boolean;
  maxConnections: number;
  /** Connections at once per user and per client IP (phones open one IDLE per folder). */
  maxConnectionsPerUserIp: number;
  /** Connections at once per client IP that have not logged in yet. */
  maxUnauthenticatedPerIp: number;
  /** Drop to this user/group when started as root, before touching mail. */
  user: string | null;
  group: string | null;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  /** LMTP listeners for Postfix's deliveries: `unix:PATH` or `HOST:PORT`. */
  lmtpListen: string[];
  /** Owner, group and mode of LMTP unix sockets (null: the user the server starts as). */
  lmtpSocketUser: string | null;
  lmtpSocketGroup: string | null;
  lmtpSocketMode: number;
  /** Characters separating a +detail from the user (Postfix's recipient_delimiter); '' for none. */
  lmtpRecipientDelimiter: string;
  /** Recipients per LMTP transaction. */
  lmtpMaxRecipients: number;
  /** ManageSieve listeners (RFC 5804): `HOST:PORT` (4190) or `unix:PATH`. */
  managesieveListen: string[];
  /** Scripts one user may keep, and bytes per script. */
  managesieveMaxScripts: number;
  managesieveMaxScriptSize: number;
  /** Run Sieve at delivery (LMTP, and mail Postfix writes into INBOX's new/). */
  sieveEnabled: boolean;
  /** The users' scripts (Pigeonhole's sieve_dir): ~ the home (users file, else the Maildir's parent), %u %n %d. */
  sieveDir: string;
  /** The active script (Pigeonhole's sieve = ~/.dovecot.sieve, a link into sieveDir). */
  sieveActive: string;
  /** Global scripts run before / after the user's (Pigeonhole's sieve_before / sieve_after): files or directories. */
  sieveBefore: string[];
  sieveAfter: string[];
  /** Directory of global scripts for `include :global` (Pigeonhole's sieve_global); '' for none. */
  sieveGlobalDir: string;
  /** sendmail(1) for redirect and vacation. */
  sieveSendmail: string;
  /** Quota of users whose users-file line sets none (userdb_quota_rule=*:storage=…): bytes, messages; null for no limit. */
  quotaDefaultStorage: number | null;
  quotaDefaultMessages: number | null;
  /** Postfix policy service (check_policy_service) answering whether a recipient's mailbox is full. */
  quotaStatusListen: string[];
  quotaStatusSocketUser: string | null;
  quotaStatusSocketGroup: string | null;
  quotaStatusSocketMode: number;
  /** The action for a full mailbox (Dovecot's quota_status_overquota). */
  quotaStatusOverquota: string;
  /** Postfix SMTP AUTH (the Dovecot auth protocol): `unix:/path` or HOST:PORT listeners. */
  saslListen: string[];
  /** Owner, group and mode of the unix sockets in saslListen (Postfix must be able to write to them). */
  saslSocketOwner: string | null;
  saslSocketGroup: string | null;
  saslSocketMode: number;
  /** Autoexpunge (Dovecot's `autoexpunge = 30d`): the longest a message stays in the \Trash / \Junk folder, ms; null for ever. */
  autoexpungeTrash: number | null;
  autoexpungeJunk: number | null;
  /** …and in folders named here (folder name → ms). */
  autoexpungeFolders: Record<string, number>;
  /** How often every user's folders are looked at, ms. */
  autoexpungeInterval: number;
  /** Messages judged (and expunged) per step: the memory a run holds, whatever the folder's size. */
  autoexpungeBatch: number;
  /** Where the admin command reaches the running server: `unix:/path`; '' for no admin socket. */
  adminSocket: string;
  /** Mode of the admin socket: who may use it (0600 the service user and root; 0660 its group too). */
  adminSocketMode: number;
  /** Where the settings came from, for messages. */
  source: string;
}

export const DEFAULT_CONFIG_FILE = '/etc/maildir-imapd/config.toml';
/** Beside the other runtime state: systemd's RuntimeDirectory=maildir-imapd (the unit sets it). */
export const DEFAULT_ADMIN_SOCKET = 'unix:/run/maildir-imapd/admin.sock';

export const DEFAULTS: Omit<Config, 'users' | 'maildir' | 'source'> = {
  listen: [],
  tlsListen: [],
  tlsCert: null,
  tlsKey: null,
  allowPlaintext: false,
  plaintextNetworks: ['127.0.0.0/8', '::1/128'],
  rescanSeconds: 30,
  draftsFolder: null,
  sentFolder: null,
  trashFolder: null,
  junkFolder: null,
  archiveFolder: null,
  createSpecialFolders: true,
  sharedMaildir: false,
  maxConnections: 10_000,
  maxConnectionsPerUserIp: 20,
  maxUnauthenticatedPerIp: 20,
  user: null,
  group: null,
  logLevel: 'info',
  logFormat: 'json',
  lmtpListen: [],
  lmtpSocketUser: null,
  lmtpSocketGroup: null,
  lmtpSocketMode: 0o660,
  lmtpRecipientDelimiter: '+',
  lmtpMaxRecipients: 100,
  managesieveListen: [],
  managesieveMaxScripts: 100,
  managesieveMaxScriptSize: 1024 * 1024,
  sieveEnabled: true,
  sieveDir: '~/sieve',
  sieveActive: '~/.dovecot.sieve',
  sieveBefore: [],
  sieveAfter: [],
  sieveGlobalDir: '',
  sieveSendmail: '/usr/sbin/sendmail',
  quotaDefaultStorage: null,
  quotaDefaultMessages: null,
  quotaStatusListen: [],
  quotaStatusSocketUser: null,
  quotaStatusSocketGroup: null,
  quotaStatusSocketMode: 0o660,
  quotaStatusOverquota: '552 5.2.2 Mailbox full',
  saslListen: [],
  saslSocketOwner: null,
  saslSocketGroup: null,
  saslSocketMode: 0o660,
  autoexpungeTrash: null,
  autoexpungeJunk: null,
  autoexpungeFolders: {},
  autoexpungeInterval: 60 * 60_000,
  autoexpungeBatch: 500,
  adminSocket: DEFAULT_ADMIN_SOCKET,
  adminSocketMode: 0o600,
};

export class ConfigError extends Error {}

type Kind = 'age' | 'ages' | 'socket' | 'string' | 'string?' | 'strings' | 'cidrs' | 'number' | 'boolean' | 'level' | 'format' | 'listens' | 'mode' | 'chars' | 'paths' | 'size' | 'count' | 'action';

/** TOML key (section.key) → Config field, its kind, and the CLI flag that overrides it. */
export const KEYS: Array<{ key: string; field: keyof Config; kind: Kind; flag: string; describe: string }> = [
  { key: 'imap.listen', field: 'listen', kind: 'strings', flag: 'listen', describe: 'HOST:PORT for plain IMAP with STARTTLS (e.g. 0.0.0.0:143)' },
  { key: 'imap.tls_listen', field: 'tlsListen', kind: 'strings', flag: 'tls-listen', describe: 'HOST:PORT for implicit TLS (e.g. 0.0.0.0:993)' },
  { key: 'imap.max_connections', field: 'maxConnections', kind: 'number', flag: 'max-connections', describe: 'Connections accepted at once' },
  { key: 'imap.max_connections_per_user_ip', field: 'maxConnectionsPerUserIp', kind: 'number', flag: 'max-connections-per-user-ip', describe: 'Connections per user and client IP' },
  { key: 'imap.max_unauthenticated_per_ip', field: 'maxUnauthenticatedPerIp', kind: 'number', flag: 'max-unauthenticated-per-ip', describe: 'Connections per client IP that have not logged in yet' },
  { key: 'tls.cert', field: 'tlsCert', kind: 'string?', flag: 'tls-cert', describe: 'Certificate chain PEM (e.g. /etc/letsencrypt/live/HOST/fullchain.pem)' },
  { key: 'tls.key', field: 'tlsKey', kind: 'string?', flag: 'tls-key', describe: 'Private key PEM (e.g. /etc/letsencrypt/live/HOST/privkey.pem)' },
  { key: 'auth.users', field: 'users', kind: 'string', flag: 'users', describe: 'Dovecot-style passwd-file' },
  { key: 'auth.allow_plaintext', field: 'allowPlaintext', kind: 'boolean', flag: 'allow-plaintext', describe: 'Allow passwords without TLS from non-loopback clients' },
  { key: 'auth.plaintext_networks', field: 'plaintextNetworks', kind: 'cidrs', flag: 'plaintext-networks', describe: 'Networks allowed to send passwords without TLS (default loopback only)' },
  { key: 'mail.maildir', field: 'maildir', kind: 'string', flag: 'maildir', describe: "Maildir template: %u login, %n local part, %d domain, leading ~ home" },
  { key: 'mail.rescan_seconds', field: 'rescanSeconds', kind: 'number', flag: 'rescan-seconds', describe: 'How often open folders are checked for changes the watcher missed' },
  { key: 'mail.drafts_folder', field: 'draftsFolder', kind: 'string?', flag: 'drafts-folder', describe: 'Folder marked \\Drafts (default Drafts)' },
  { key: 'mail.sent_folder', field: 'sentFolder', kind: 'string?', flag: 'sent-folder', describe: 'Folder marked \\Sent (default Sent)' },
  { key: 'mail.trash_folder', field: 'trashFolder', kind: 'string?', flag: 'trash-folder', describe: 'Folder marked \\Trash (default Trash)' },
  { key: 'mail.junk_folder', field: 'junkFolder', kind: 'string?', flag: 'junk-folder', describe: 'Folder marked \\Junk (default Junk)' },
  { key: 'mail.archive_folder', field: 'archiveFolder', kind: 'string?', flag: 'archive-folder', describe: 'Folder marked \\Archive (default Archive)' },
  { key: 'mail.create_special_folders', field: 'createSpecialFolders', kind: 'boolean', flag: 'create-special-folders', describe: 'Create the special-use folders at first login when missing (default true)' },
  { key: 'mail.shared_maildir', field: 'sharedMaildir', kind: 'boolean', flag: 'shared-maildir', describe: 'Let several users share one Maildir (a template without %u, %n or ~); default false' },
  { key: 'service.user', field: 'user', kind: 'string?', flag: 'user', describe: 'User to run as when started as root (the mail owner, e.g. vmail)' },
  { key: 'service.group', field: 'group', kind: 'string?', flag: 'group', describe: 'Group to run as when started as root' },
  { key: 'log.level', field: 'logLevel', kind: 'level', flag: 'log-level', describe: 'fatal, error, warn, info, debug, trace or silent' },
  { key: 'log.format', field: 'logFormat', kind: 'format', flag: 'log-format', describe: 'json (one pino line per event) or pretty' },
  { key: 'lmtp.listen', field: 'lmtpListen', kind: 'listens', flag: 'lmtp-listen', describe: 'LMTP for Postfix deliveries: unix:PATH or HOST:PORT (e.g. unix:/var/spool/postfix/private/maildir-imapd-lmtp)' },
  { key: 'lmtp.socket_user', field: 'lmtpSocketUser', kind: 'string?', flag: 'lmtp-socket-user', describe: 'Owner of LMTP unix sockets (e.g. postfix)' },
  { key: 'lmtp.socket_group', field: 'lmtpSocketGroup', kind: 'string?', flag: 'lmtp-socket-group', describe: 'Group of LMTP unix sockets (e.g. postfix)' },
  { key: 'lmtp.socket_mode', field: 'lmtpSocketMode', kind: 'mode', flag: 'lmtp-socket-mode', describe: 'Mode of LMTP unix sockets (default "0660")' },
  { key: 'lmtp.recipient_delimiter', field: 'lmtpRecipientDelimiter', kind: 'chars', flag: 'lmtp-recipient-delimiter', describe: 'Characters separating user+detail; mail to an existing folder "detail" goes there (default "+"; "" for none)' },
  { key: 'sieve.enabled', field: 'sieveEnabled', kind: 'boolean', flag: 'sieve', describe: 'Run Sieve scripts at delivery, LMTP and mail Postfix writes into INBOX (default true)' },
  { key: 'sieve.dir', field: 'sieveDir', kind: 'string', flag: 'sieve-dir', describe: 'Users\' scripts: ~ the home (users file, else the Maildir\'s parent), %u %n %d (default "~/sieve")' },
  { key: 'sieve.active', field: 'sieveActive', kind: 'string', flag: 'sieve-active', describe: 'The active script, a link into sieve.dir (default "~/.dovecot.sieve")' },
  { key: 'sieve.before', field: 'sieveBefore', kind: 'paths', flag: 'sieve-before', describe: 'Global scripts (files or directories) run before the user\'s, e.g. spam to Junk' },
  { key: 'sieve.after', field: 'sieveAfter', kind: 'paths', flag: 'sieve-after', describe: 'Global scripts run after the user\'s, while the message is still kept' },
  { key: 'sieve.global_dir', field: 'sieveGlobalDir', kind: 'string', flag: 'sieve-global-dir', describe: 'Directory of NAME.sieve scripts that `include :global "NAME"` reads (Pigeonhole\'s sieve_global; default none)' },
  { key: 'sieve.sendmail', field: 'sieveSendmail', kind: 'string', flag: 'sieve-sendmail', describe: 'sendmail(1) for redirect and vacation (default /usr/sbin/sendmail)' },
  { key: 'quota.default_storage', field: 'quotaDefaultStorage', kind: 'size', flag: 'quota-default-storage', describe: 'Storage limit of users the users file gives none (e.g. "1G"; a bare number is KiB, as Dovecot\'s storage=; "0" for none)' },
  { key: 'quota.default_messages', field: 'quotaDefaultMessages', kind: 'count', flag: 'quota-default-messages', describe: 'Message-count limit of users the users file gives none (0 for none)' },
  { key: 'quota_status.listen', field: 'quotaStatusListen', kind: 'listens', flag: 'quota-status-listen', describe: 'Postfix policy service for quota (check_policy_service): unix:PATH or HOST:PORT (e.g. 127.0.0.1:10993)' },
  { key: 'quota_status.socket_user', field: 'quotaStatusSocketUser', kind: 'string?', flag: 'quota-status-socket-user', describe: 'Owner of the policy unix socket (e.g. postfix)' },
  { key: 'quota_status.socket_group', field: 'quotaStatusSocketGroup', kind: 'string?', flag: 'quota-status-socket-group', describe: 'Group of the policy unix socket (e.g. postfix)' },
  { key: 'quota_status.socket_mode', field: 'quotaStatusSocketMode', kind: 'mode', flag: 'quota-status-socket-mode', describe: 'Mode of the policy unix socket (default "0660")' },
  { key: 'quota_status.overquota', field: 'quotaStatusOverquota', kind: 'action', flag: 'quota-status-overquota', describe: 'Answer for a full mailbox (default "552 5.2.2 Mailbox full")' },
  { key: 'sasl.listen', field: 'saslListen', kind: 'listens', flag: 'sasl-listen', describe: 'Postfix SMTP AUTH (smtpd_sasl_type = dovecot): unix:/var/spool/postfix/private/auth or 127.0.0.1:PORT' },
  { key: 'sasl.socket_owner', field: 'saslSocketOwner', kind: 'string?', flag: 'sasl-socket-owner', describe: 'Owner of the SASL unix socket (e.g. postfix; needs a root start)' },
  { key: 'sasl.socket_group', field: 'saslSocketGroup', kind: 'string?', flag: 'sasl-socket-group', describe: 'Group of the SASL unix socket (e.g. postfix)' },
  { key: 'sasl.socket_mode', field: 'saslSocketMode', kind: 'mode', flag: 'sasl-socket-mode', describe: 'Permissions of the SASL unix socket, octal (default "0660")' },
  { key: 'lmtp.max_recipients', field: 'lmtpMaxRecipients', kind: 'number', flag: 'lmtp-max-recipients', describe: 'Recipients per LMTP message (default 100; more are deferred with 452)' },
  { key: 'managesieve.listen', field: 'managesieveListen', kind: 'listens', flag: 'managesieve-listen', describe: 'ManageSieve for editing Sieve filters: HOST:PORT or unix:PATH (e.g. 0.0.0.0:4190)' },
  { key: 'managesieve.max_scripts', field: 'managesieveMaxScripts', kind: 'number', flag: 'managesieve-max-scripts', describe: 'Sieve scripts one user may keep (default 100)' },
  { key: 'autoexpunge.trash', field: 'autoexpungeTrash', kind: 'age', flag: 'autoexpunge-trash', describe: 'Expunge messages that came into the \\Trash folder longer ago than this, e.g. "30d" (default: never)' },
  { key: 'autoexpunge.junk', field: 'autoexpungeJunk', kind: 'age', flag: 'autoexpunge-junk', describe: 'The same for the \\Junk folder, e.g. "30d" (default: never)' },
  { key: 'autoexpunge.folders', field: 'autoexpungeFolders', kind: 'ages', flag: 'autoexpunge-folders', describe: 'The same for folders by name: a table { "Archive.Old" = "365d" } (flag: NAME=AGE)' },
  { key: 'autoexpunge.interval', field: 'autoexpungeInterval', kind: 'age', flag: 'autoexpunge-interval', describe: 'How often every user\'s folders are looked at (default "1h")' },
  { key: 'autoexpunge.batch', field: 'autoexpungeBatch', kind: 'number', flag: 'autoexpunge-batch', describe: 'Messages judged per step, the memory a run holds (default 500)' },
  { key: 'admin.socket', field: 'adminSocket', kind: 'socket', flag: 'admin-socket', describe: 'The admin command\'s unix socket (default "unix:/run/maildir-imapd/admin.sock"; "" for none)' },
  { key: 'admin.socket_mode', field: 'adminSocketMode', kind: 'mode', flag: 'admin-socket-mode', describe: 'Mode of the admin socket: the access control (default "0600"; "0660" lets the service group in)' },
  { key: 'managesieve.max_script_size', field: 'managesieveMaxScriptSize', kind: 'number', flag: 'managesieve-max-script-size', describe: 'Bytes of one Sieve script (default 1048576)' },
];

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function expected(kind: Kind, key = ''): string {
  switch (kind) {
    case 'age':
      return 'an age like "30d", "12h", "2w" or "90s" (units s, m, h, d, w; "0" for never)';
    case 'ages':
      return 'a table of folder names and ages like { "Archive.Old" = "365d" }';
    case 'socket':
      return 'unix:/absolute/path (or "" for none)';
    case 'string':
    case 'string?':
      return 'a string';
    case 'strings':
      return 'a string or a list of strings like ["0.0.0.0:143"]';
    case 'cidrs':
      return 'a list of networks like ["127.0.0.0/8", "::1/128", "192.168.1.0/24"]';
    case 'number':
      return 'a positive whole number';
    case 'boolean':
      return 'true or false';
    case 'level':
      return `one of ${LEVELS.join(', ')}`;
    case 'format':
      return '"json" or "pretty"';
    case 'listens':
      return key.includes('managesieve')
        ? 'a list like ["0.0.0.0:4190"] (HOST:PORT or unix:/path)'
        : 'a list like ["unix:/var/spool/postfix/private/maildir-imapd-lmtp", "127.0.0.1:24"]';
    case 'mode':
      return 'an octal mode like "0660"';
    case 'chars':
      return 'a string of delimiter characters like "+" (or "" for none)';
    case 'paths':
      return 'a path or a list of paths like ["/etc/maildir-imapd/sieve/before.sieve"]';
    case 'size':
      return 'a size like "1G", "500M" or "10240K" (a bare number counts KiB; "0" for no limit)';
    case 'count':
      return 'a whole number (0 for no limit)';
    case 'action':
      return 'a Postfix access(5) action on one line, e.g. "552 5.2.2 Mailbox full" or "DEFER_IF_PERMIT Mailbox full"';
  }
}

/** Checks one value; returns it converted or throws naming the key and where it came from. */
function coerce(kind: Kind, value: unknown, key: string, where: string): unknown {
  const bad = () => new ConfigError(`${where}: ${key} must be ${expected(kind, key)}, got ${JSON.stringify(value)}`);
  switch (kind) {
    case 'age': {
      const ms = parseAge(value);
      if (ms === undefined) throw bad();
      if (key.endsWith('interval') && ms === null) throw bad();
      return ms;
    }
    case 'ages': {
      // The CLI gives NAME=AGE strings; the file a table.
      const entries = Array.isArray(value) || typeof value === 'string'
        ? [value].flat().map((v) => (typeof v === 'string' && v.includes('=') ? [v.slice(0, v.lastIndexOf('=')), v.slice(v.lastIndexOf('=') + 1)] : [v, undefined]))
        : typeof value === 'object' && value !== null ? Object.entries(value) : null;
      if (!entries) throw bad();
      const out: Record<string, number> = {};
      for (const [name, age] of entries) {
        if (typeof name !== 'string') throw bad();
        const ms = parseAge(age);
        if (ms === undefined) throw new ConfigError(`${where}: ${key} ${JSON.stringify(name)} must be ${expected('age')}, got ${JSON.stringify(age)}`);
        const folder = normalizeName(name);
        if (folder !== 'INBOX') {
          try {
            checkName(folder);
          } catch (err) {
            throw new ConfigError(`${where}: ${key} ${JSON.stringify(name)} is not a usable folder name (${(err as Error).message})`);
          }
        }
        if (ms !== null) out[folder] = ms;
      }
      return out;
    }
    case 'socket':
      if (value === '') return '';
      if (typeof value !== 'string' || !value.startsWith('unix:/') || !isListenSpec(value)) throw bad();
      return value;
    case 'string':
    case 'string?':
      if (typeof value !== 'string' || value === '') throw bad();
      return value;
    case 'strings': {
      // An empty string is no listener: `--tls-listen ''` turns off the file's tls_listen for one run.
      const list = typeof value === 'string' ? (value === '' ? [] : [value]) : Array.isArray(value) ? value.filter((v) => v !== '') : value;
      if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) throw bad();
      for (const v of list as string[]) {
        const why = hostPortProblem(v, key.includes('tls') ? 993 : 143);
        if (why) throw new ConfigError(`${where}: ${key}: ${why}`);
      }
      return list;
    }
    case 'cidrs': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || !isCidr(v))) throw bad();
      return list;
    }
    case 'number': {
      const n = typeof value === 'string' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) throw bad();
      return n;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw bad();
      return value;
    case 'level':
      if (typeof value !== 'string' || !LEVELS.includes(value)) throw bad();
      return value;
    case 'format':
      if (value !== 'json' && value !== 'pretty') throw bad();
      return value;
    case 'listens': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || !isListenSpec(v))) throw bad();
      return list;
    }
    case 'mode': {
      // A string is octal ("0660", "660"); a TOML integer is taken as written in octal (0o660).
      const n = typeof value === 'string' && /^0?[0-7]{3}$/.test(value) ? parseInt(value, 8) : typeof value === 'number' && Number.isInteger(value) ? value : NaN;
      if (!(n >= 0 && n <= 0o777)) throw bad();
      return n;
    }
    case 'chars':
      if (typeof value !== 'string' || /[\s@]/.test(value) || [...value].length > 8) throw bad();
      return value;
    case 'paths': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || v === '')) throw bad();
      return list;
    }
    case 'size': {
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value) && value >= 0)) throw bad();
      try {
        const n = parseQuotaSize(String(value), 1024);
        return n === 0 ? null : n;
      } catch (err) {
        if (err instanceof QuotaRuleError) throw bad();
        throw err;
      }
    }
    case 'count': {
      const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw bad();
      return n === 0 ? null : n;
    }
    case 'action':
      // eslint-disable-next-line no-control-regex
      if (typeof value !== 'string' || value.trim() === '' || /[\x00-\x1f\x7f]/.test(value)) throw bad();
      return value.trim();
  }
}

const AGE_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * Dovecot's time values: a whole number and a unit (s, sec(s), second(s), m,
 * min(s), minute(s), h, hour(s), d, day(s), w, week(s)); "0" is null (never).
 * Undefined when it is none of these.
 */
export function parseAge(value: unknown): number | null | undefined {
  if (value === 0 || value === '0') return null;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{1,9})\s*(s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?|w|weeks?)$/i.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * AGE_UNITS[m[2][0].toLowerCase()];
  return n === 0 ? null : n;
}

export function isCidr(v: string): boolean {
  const [addr, bits, extra] = v.split('/');
  const family = isIP(addr);
  if (!family || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128);
}

/** Why v is not HOST:PORT, in words that say what to write instead (port: the usual one for the example); null when it is. */
export function hostPortProblem(v: string, port: number): string | null {
  if (isHostPort(v)) return null;
  const q = JSON.stringify(v);
  if (isIP(v) === 6) return `${q} has no port (an IPv6 address goes in brackets before it): write "[${v}]:${port}"`;
  if (v.includes('::') && !v.startsWith('[')) return `${q}: an IPv6 address goes in brackets before the port, e.g. "[::1]:${port}"`;
  const m = /^(?:\[[^\]]+\]|[^:\s]+)(?::(.*))?$/.exec(v);
  if (m && m[1] === undefined) return `${q} has no port: write "${v}:${port}" (HOST:PORT)`;
  if (m) return `${q}: the port must be a number from 1 to 65535, e.g. "${v.slice(0, v.lastIndexOf(':'))}:${port}"`;
  return `${q} is not HOST:PORT, e.g. "0.0.0.0:${port}" or "[::1]:${port}"`;
}

export function isHostPort(v: string): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(v);
  return !!m && Number(m[3]) <= 65535;
}

export function parseHostPort(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(v);
  if (!m) throw new ConfigError(`expected HOST:PORT, got ${JSON.stringify(v)}`);
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}

/** Reads the TOML file into Config fields; unknown keys are errors (a typo must not pass silently). */
export async function readConfigFile(file: string): Promise<Partial<Config>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const e = err as TomlError;
    throw new ConfigError(`${file}:${e.line ?? '?'}:${e.column ?? '?'}: not valid TOML: ${e.message.split('\n')[0]}`);
  }
  const out: Partial<Config> = {};
  for (const [section, table] of Object.entries(doc)) {
    if (typeof table !== 'object' || table === null || Array.isArray(table)) throw new ConfigError(`${file}: ${section} must be a [${section}] table`);
    for (const [k, value] of Object.entries(table)) {
      const key = `${section}.${k}`;
      const spec = KEYS.find((s) => s.key === key);
      if (!spec) throw new ConfigError(`${file}: unknown key ${key} (known keys: ${KEYS.map((s) => s.key).join(', ')})`);
      (out as Record<string, unknown>)[spec.field] = coerce(spec.kind, value, key, file);
    }
  }
  return out;
}

/**
 * Builds the Config: defaults, then the file, then flags (CLI values by flag
 * name). `file` undefined means the default file if it exists; null means none.
 * `requireListener: false` (check) accepts a config without imap.listen or
 * imap.tls_listen: the users and Maildirs can be checked without one.
 */
export async function loadConfig(flags: Record<string, unknown>, file: string | null | undefined, opts: { requireListener?: boolean } = {}): Promise<Config> {
  let fromFile: Partial<Config> = {};
  let source = 'command line';
  const chosen = file !== undefined ? file : (await fs.stat(DEFAULT_CONFIG_FILE).then(() => true, () => false)) ? DEFAULT_CONFIG_FILE : null;
  if (chosen) {
    fromFile = await readConfigFile(chosen);
    source = chosen;
  }
  const merged: Record<string, unknown> = { ...DEFAULTS, ...fromFile };
  for (const spec of KEYS) {
    const v = flags[spec.flag];
    if (v !== undefined) merged[spec.field] = coerce(spec.kind, v, `--${spec.flag}`, 'command line');
  }
  for (const required of ['users', 'maildir'] as const) {
    if (merged[required] === undefined) {
      const spec = KEYS.find((s) => s.field === required)!;
      throw new ConfigError(`${chosen ?? 'command line'}: ${spec.key} is not set (set it in the config file or pass --${spec.flag})`);
    }
  }
  const cfg = { ...merged, source } as Config;
  if (!cfg.listen.length && !cfg.tlsListen.length && opts.requireListener !== false) throw new ConfigError(`${source}: no listener: set imap.listen or imap.tls_listen (--listen / --tls-listen)`);
  if (cfg.tlsListen.length && (!cfg.tlsCert || !cfg.tlsKey)) throw new ConfigError(`${source}: imap.tls_listen needs tls.cert and tls.key`);
  if (!!cfg.tlsCert !== !!cfg.tlsKey) throw new ConfigError(`${source}: tls.cert and tls.key go together`);
  for (const spec of KEYS.filter((k) => k.key === 'sieve.dir' || k.key === 'sieve.active')) {
    const v = cfg[spec.field] as string;
    if (!(v === '~' || v.startsWith('~/') || v.startsWith('/')) || v.split('/').includes('..'))
      throw new ConfigError(`${source}: ${spec.key} must be an absolute path or start with ~/ (the user's home), without '..', got ${JSON.stringify(v)}`);
  }
  if (cfg.sieveDir === cfg.sieveActive) throw new ConfigError(`${source}: sieve.dir and sieve.active must differ (a directory of scripts, and a symlink to one of them)`);
  if (cfg.managesieveMaxScriptSize > 64 * 1024 * 1024) throw new ConfigError(`${source}: managesieve.max_script_size must be at most 67108864 (64 MiB), got ${cfg.managesieveMaxScriptSize}`);
  for (const spec of KEYS.filter((k) => k.key.endsWith('_folder'))) {
    const name = cfg[spec.field] as string | null;
    if (name === null) continue;
    try {
      checkName(normalizeName(name));
    } catch (err) {
      throw new ConfigError(`${source}: ${spec.key} is not a usable folder name (${(err as Error).message}); non-ASCII names are written in modified UTF-7, e.g. "Entw&APw-rfe"`);
    }
  }
  return cfg;
}
