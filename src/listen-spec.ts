// Where a local service listens: `unix:/path/to/socket` or `HOST:PORT`
// (`[::1]:PORT` for IPv6). For the sockets Postfix connects to (the SASL auth
// socket, LMTP): a unix socket gets an owner, group and mode of our choosing
// (Postfix runs as `postfix` and must be able to write to it), a stale socket
// left by a crash is replaced at start (a live one is not: another server is
// using it), and the socket is removed when the listener closes.
import net from 'node:net';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { ConfigError, isHostPort, parseHostPort } from './config.js';
import { lookupGroup, lookupUser } from './privileges.js';

export type ListenSpec = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** Unix socket paths are limited by sockaddr_un (108 bytes on Linux, with its NUL). */
const MAX_SOCKET_PATH = 107;

/** Parses a spec, or says what is wrong with it (the caller adds the key and file). */
export function parseListenSpec(spec: string): ListenSpec {
  if (spec.startsWith('unix:')) {
    const p = spec.slice(5);
    if (!path.isAbsolute(p)) throw new ConfigError(`expected unix:/absolute/path, got ${JSON.stringify(spec)}`);
    if (Buffer.byteLength(p) > MAX_SOCKET_PATH) throw new ConfigError(`unix socket path is longer than ${MAX_SOCKET_PATH} bytes: ${JSON.stringify(p)}`);
    return { kind: 'unix', path: p };
  }
  if (!isHostPort(spec)) throw new ConfigError(`expected unix:/absolute/path or HOST:PORT, got ${JSON.stringify(spec)}`);
  const { host, port } = parseHostPort(spec);
  return { kind: 'tcp', host, port };
}

export function isListenSpec(spec: string): boolean {
  try {
    parseListenSpec(spec);
    return true;
  } catch {
    return false;
  }
}

/** How a unix socket is handed over; names (or numeric ids) from /etc/passwd and /etc/group. */
export interface SocketOptions {
  owner?: string | null;
  group?: string | null;
  /** Permission bits (default 0o660). */
  mode?: number;
  /** Config keys for messages, e.g. { owner: 'sasl.socket_owner', group: 'sasl.socket_group' }. */
  keys?: { owner: string; group: string };
  source?: string;
}

export interface BoundListener {
  spec: ListenSpec;
  /** What to tell people: `unix:/path` or `127.0.0.1:12345` (the real port when 0 was asked for). */
  where: string;
  /** The TCP port, when it is one. */
  port: number | null;
  /** Stops listening and removes the socket file (if it is still the one we made). */
  close(): Promise<void>;
}

/**
 * Listens on `spec` with `server`. For a unix socket: a stale socket at the
 * path is removed first, the socket is created with no access for others and
 * then given its owner, group and mode.
 */
export async function listenOn(server: net.Server, spec: string | ListenSpec, opts: SocketOptions = {}): Promise<BoundListener> {
  const s = typeof spec === 'string' ? parseListenSpec(spec) : spec;
  if (s.kind === 'tcp') {
    await bind(server, (cb) => server.listen(s.port, s.host, cb));
    const a = server.address() as net.AddressInfo;
    const where = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    return { spec: s, where, port: a.port, close: () => closeServer(server) };
  }
  const ids = resolveIds(opts);
  await removeStale(s.path);
  // Created 0600 whatever the umask (bind happens inside listen(), synchronously), then opened up to `mode`.
  const umask = process.umask(0o177);
  let bound: Promise<void>;
  try {
    bound = bind(server, (cb) => server.listen(s.path, cb));
  } finally {
    process.umask(umask);
  }
  await bound;
  try {
    if (ids.uid !== -1 || ids.gid !== -1) await fs.chown(s.path, ids.uid, ids.gid);
    await fs.chmod(s.path, opts.mode ?? 0o660);
  } catch (err) {
    await closeServer(server);
    throw new ConfigError(`cannot give the socket ${s.path} its owner/group/mode: ${(err as Error).message}`);
  }
  const ino = (await fs.stat(s.path)).ino;
  return {
    spec: s,
    where: `unix:${s.path}`,
    port: null,
    async close() {
      await closeServer(server);
      // Node unlinks a socket it created when the server closes; make sure, but never remove someone else's.
      const st = await fs.lstat(s.path).catch(() => null);
      if (st && st.isSocket() && st.ino === ino) await fs.unlink(s.path).catch(() => undefined);
    },
  };
}

function bind(server: net.Server, listen: (cb: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    listen(() => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

function resolveIds(opts: SocketOptions): { uid: number; gid: number } {
  const where = opts.source ? `${opts.source}: ` : '';
  let uid = -1;
  let gid = -1;
  if (opts.owner) {
    const u = lookupUser(opts.owner);
    if (!u) throw new ConfigError(`${where}${opts.keys?.owner ?? 'socket owner'} = ${JSON.stringify(opts.owner)}: no such user in /etc/passwd`);
    uid = u.uid;
  }
  if (opts.group) {
    const g = lookupGroup(opts.group);
    if (!g) throw new ConfigError(`${where}${opts.keys?.group ?? 'socket group'} = ${JSON.stringify(opts.group)}: no such group in /etc/group`);
    gid = g.gid;
  }
  return { uid, gid };
}

/**
 * A socket file left at `p` by a server that died is removed; one that still
 * accepts connections belongs to a running server (Dovecot not yet stopped?)
 * and is an error, as is anything at `p` that is not a socket.
 */
async function removeStale(p: string): Promise<void> {
  const st = await fs.lstat(p).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!st) return;
  if (!st.isSocket()) throw new ConfigError(`${p} exists and is not a socket; not replacing it`);
  const live = await new Promise<boolean>((resolve, reject) => {
    const c = net.connect(p);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(new ConfigError(`cannot tell whether the socket ${p} is in use: ${err.message}`));
    });
  });
  if (live) throw new ConfigError(`${p} is in use by another running server (is Dovecot still running? systemctl disable --now dovecot)`);
  await fs.unlink(p);
}
