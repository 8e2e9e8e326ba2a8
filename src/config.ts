// One typed Config from three sources, later ones winning: built-in defaults,
// the TOML file (/etc/maildir-imapd/config.toml unless --config says
// otherwise), and CLI flags. Every error names the key, the file and what
// was expected.
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseToml, TomlError } from 'smol-toml';
import { checkName, normalizeName } from './mail/api.js';
import { isListenSpec } from './listen-spec.js';

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
  /** Postfix SMTP AUTH (the Dovecot auth protocol): `unix:/path` or HOST:PORT listeners. */
  saslListen: string[];
  /** Owner, group and mode of the unix sockets in saslListen (Postfix must be able to write to them). */
  saslSocketOwner: string | null;
  saslSocketGroup: string | null;
  saslSocketMode: number;
  /** Where the settings came from, for messages. */
  source: string;
}

export const DEFAULT_CONFIG_FILE = '/etc/maildir-imapd/config.toml';

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
  saslListen: [],
  saslSocketOwner: null,
  saslSocketGroup: null,
  saslSocketMode: 0o660,
};

export class ConfigError extends Error {}

type Kind = 'string' | 'string?' | 'strings' | 'cidrs' | 'number' | 'boolean' | 'level' | 'format' | 'listen' | 'mode';

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
  { key: 'sasl.listen', field: 'saslListen', kind: 'listen', flag: 'sasl-listen', describe: 'Postfix SMTP AUTH (smtpd_sasl_type = dovecot): unix:/var/spool/postfix/private/auth or 127.0.0.1:PORT' },
  { key: 'sasl.socket_owner', field: 'saslSocketOwner', kind: 'string?', flag: 'sasl-socket-owner', describe: 'Owner of the SASL unix socket (e.g. postfix; needs a root start)' },
  { key: 'sasl.socket_group', field: 'saslSocketGroup', kind: 'string?', flag: 'sasl-socket-group', describe: 'Group of the SASL unix socket (e.g. postfix)' },
  { key: 'sasl.socket_mode', field: 'saslSocketMode', kind: 'mode', flag: 'sasl-socket-mode', describe: 'Permissions of the SASL unix socket, octal (default "0660")' },
];

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function expected(kind: Kind): string {
  switch (kind) {
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
    case 'listen':
      return 'a list of "unix:/absolute/path" or "HOST:PORT" like ["unix:/var/spool/postfix/private/auth"]';
    case 'mode':
      return 'octal permissions as a string like "0660"';
  }
}

/** Checks one value; returns it converted or throws naming the key and where it came from. */
function coerce(kind: Kind, value: unknown, key: string, where: string): unknown {
  const bad = () => new ConfigError(`${where}: ${key} must be ${expected(kind)}, got ${JSON.stringify(value)}`);
  switch (kind) {
    case 'string':
    case 'string?':
      if (typeof value !== 'string' || value === '') throw bad();
      return value;
    case 'strings': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || !isHostPort(v))) throw bad();
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
    case 'listen': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || !isListenSpec(v))) throw bad();
      return list;
    }
    case 'mode': {
      // Only a string: a TOML integer 660 or 400 would be decimal, and 0o660 cannot be told from 432.
      if (typeof value !== 'string' || !/^0?[0-7]{3}$/.test(value)) throw bad();
      return parseInt(value, 8);
    }
  }
}

export function isCidr(v: string): boolean {
  const [addr, bits, extra] = v.split('/');
  const family = isIP(addr);
  if (!family || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128);
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
 */
export async function loadConfig(flags: Record<string, unknown>, file: string | null | undefined): Promise<Config> {
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
  if (!cfg.listen.length && !cfg.tlsListen.length) throw new ConfigError(`${source}: no listener: set imap.listen or imap.tls_listen (--listen / --tls-listen)`);
  if (cfg.tlsListen.length && (!cfg.tlsCert || !cfg.tlsKey)) throw new ConfigError(`${source}: imap.tls_listen needs tls.cert and tls.key`);
  if (!!cfg.tlsCert !== !!cfg.tlsKey) throw new ConfigError(`${source}: tls.cert and tls.key go together`);
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
