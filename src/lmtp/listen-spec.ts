// Where a service for Postfix listens: `unix:PATH` or `HOST:PORT`. Kept in a
// module of its own, independent of LMTP, so the SASL listener (the same
// SPEC syntax) can share it.
//
// A unix socket is made the way Postfix's own private/ sockets are: created
// under a temporary name beside its final one, given its owner, group and
// mode (default 0660), then renamed into place — so no client ever finds it
// with the wrong permissions, and a stale one left by a killed server is
// replaced in one step. A socket some live process still answers on is not
// taken over. It is removed when the server closes it.
import net from 'node:net';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { lookupGroup, lookupUser } from '../privileges.js';

export type ListenSpec = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:\s/]+)):(\d{1,5})$/;

/** Linux's sun_path holds 108 bytes with the NUL; the temporary name adds up to 24. */
const MAX_SOCKET_PATH = 107 - 24;

export class ListenSpecError extends Error {}

/** Parses a SPEC; throws ListenSpecError saying what was expected. */
export function parseListenSpec(spec: string): ListenSpec {
  if (spec.startsWith('unix:')) {
    const p = spec.slice(5);
    if (!path.isAbsolute(p)) throw new ListenSpecError(`expected unix:/absolute/path, got ${JSON.stringify(spec)}`);
    if (Buffer.byteLength(p) > MAX_SOCKET_PATH) throw new ListenSpecError(`socket path longer than ${MAX_SOCKET_PATH} bytes: ${JSON.stringify(p)}`);
    return { kind: 'unix', path: path.normalize(p) };
  }
  const m = HOST_PORT.exec(spec);
  if (!m || Number(m[3]) > 65535) throw new ListenSpecError(`expected unix:/path or HOST:PORT, got ${JSON.stringify(spec)}`);
  return { kind: 'tcp', host: m[1] ?? m[2], port: Number(m[3]) };
}

export function isListenSpec(spec: string): boolean {
  try {
    parseListenSpec(spec);
    return true;
  } catch {
    return false;
  }
}

export interface SocketOwnership {
  /** User name or id to own a unix socket; null keeps ours. */
  user: string | null;
  group: string | null;
  /** Permission bits, default 0o660. */
  mode: number;
}

/** What listen() opened: a URL-ish name for logs, and close(), which also removes a unix socket. */
export interface OpenListener {
  name: string;
  address: net.AddressInfo | string;
  close(): Promise<void>;
}

/** Opens `server` on `spec`. Errors name the spec. */
export async function listenOn(server: net.Server, specText: string, own: SocketOwnership): Promise<OpenListener> {
  const spec = parseListenSpec(specText);
  if (spec.kind === 'tcp') {
    await bind(server, (cb) => server.listen(spec.port, spec.host, cb));
    const address = server.address() as net.AddressInfo;
    return { name: `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`, address, close: () => closeServer(server) };
  }
  const uid = own.user === null ? -1 : idOf(own.user, 'user');
  const gid = own.group === null ? -1 : idOf(own.group, 'group');
  await refuseLive(spec.path);
  const tmp = `${spec.path}.${process.pid}.${Date.now() % 1e9}.tmp`;
  await fs.unlink(tmp).catch(() => undefined);
  await bind(server, (cb) => server.listen(tmp, cb));
  try {
    if (uid !== -1 || gid !== -1) await fs.chown(tmp, uid, gid);
    await fs.chmod(tmp, own.mode);
    await fs.rename(tmp, spec.path);
  } catch (err) {
    await closeServer(server);
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  return {
    name: `unix:${spec.path}`,
    address: spec.path,
    async close() {
      await closeServer(server);
      // After a privilege drop the directory may not be ours to change: a stale socket is replaced at the next start.
      await fs.unlink(spec.path).catch(() => undefined);
    },
  };
}

function idOf(name: string, kind: 'user' | 'group'): number {
  if (/^\d+$/.test(name)) return Number(name);
  const found = kind === 'user' ? lookupUser(name)?.uid : lookupGroup(name)?.gid;
  if (found === undefined) throw new ListenSpecError(`no such ${kind}: ${name}`);
  return found;
}

/** A socket file that a process still accepts on is in use; one nobody answers on is stale. Anything else is not ours to remove. */
async function refuseLive(file: string): Promise<void> {
  let st;
  try {
    st = await fs.lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) throw new ListenSpecError(`${file} exists and is not a socket; not replacing it`);
  const live = await new Promise<boolean>((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new ListenSpecError(`${file} is in use by another process`);
}

function bind(server: net.Server, start: (cb: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    start(() => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}
