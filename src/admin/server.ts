// The admin socket: where `maildir-imapd admin` reaches the running server.
// A unix socket made by the same code as the LMTP and ManageSieve ones
// (lmtp/listen-spec.ts: created under a temporary name, given its mode, then
// renamed into place; a stale one replaced, a live one refused; removed on
// close). Its mode is the only access control: Node cannot read the peer's
// credentials (SO_PEERCRED), so whoever can connect is trusted — 0600 keeps
// it to the service user and root.
import net from 'node:net';
import type { Logger } from 'pino';
import { listenOn, type OpenListener, type SocketOwnership } from '../lmtp/listen-spec.js';
import { AdminError, MAX_REQUEST_BYTES, parseRequest, type AdminReply, type AdminRequest } from './protocol.js';

/** Carries out one request (the server's side: sessions, stores). */
export type AdminHandler = (req: AdminRequest) => Promise<unknown>;

/** Admin clients at once: an operator's shell, a cron job; more is a mistake or a loop. */
const MAX_CLIENTS = 16;
/** A client that says nothing for this long is closed. */
const IDLE_MS = 60_000;
/** Requests one client may have waiting. */
const MAX_PENDING = 32;

export class AdminService {
  private readonly server: net.Server;
  private listener: OpenListener | null = null;
  private readonly clients = new Set<net.Socket>();
  private handler: AdminHandler | null = null;

  constructor(private readonly log: Logger) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  async listen(spec: string, own: SocketOwnership): Promise<string> {
    this.listener = await listenOn(this.server, spec, own);
    return this.listener.name;
  }

  /** Requests are served from now on (before: "server starting"). */
  open(handler: AdminHandler): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await this.listener?.close();
  }

  private accept(socket: net.Socket): void {
    if (this.clients.size >= MAX_CLIENTS) {
      socket.end(reply({ ok: false, error: 'too many admin connections' }));
      return;
    }
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => undefined);
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    let buf = '';
    let busy = Promise.resolve();
    let pending = 0;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        // One request at a time per client, answered in order; a client may not queue up without end.
        if (++pending > MAX_PENDING) {
          socket.destroy();
          return;
        }
        busy = busy.then(() => this.serve(socket, line)).finally(() => pending--);
      }
      if (Buffer.byteLength(buf) > MAX_REQUEST_BYTES) {
        socket.end(reply({ ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes` }));
        buf = '';
      }
    });
  }

  private async serve(socket: net.Socket, line: string): Promise<void> {
    if (socket.destroyed || !line.trim()) return;
    let out: AdminReply;
    try {
      if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) throw new AdminError(`request longer than ${MAX_REQUEST_BYTES} bytes`);
      const req = parseRequest(line);
      if (!this.handler) throw new AdminError('server starting, try again');
      this.log.info({ admin: req }, 'admin request');
      out = { ok: true, result: await this.handler(req) };
    } catch (err) {
      if (!(err instanceof AdminError)) this.log.error({ err }, 'admin request failed');
      out = { ok: false, error: (err as Error).message };
    }
    if (!socket.destroyed) socket.write(reply(out));
  }
}

function reply(r: AdminReply): string {
  return JSON.stringify(r) + '\n';
}
