// A minimal raw-socket IMAP client for latency measurement: every
// "* N EXISTS" line is stamped with performance.now() in the 'data' handler
// that delivered its bytes, before anything else runs.
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';

export interface ExistsEvent {
  n: number;
  t: number;
}

export class IdleClient {
  private text = '';
  private lines: string[] = [];
  private exists: ExistsEvent[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      const t = performance.now();
      this.text += d.toString('latin1');
      let i: number;
      while ((i = this.text.indexOf('\r\n')) >= 0) {
        const line = this.text.slice(0, i);
        this.text = this.text.slice(i + 2);
        const m = /^\* (\d+) EXISTS$/i.exec(line);
        if (m) this.exists.push({ n: Number(m[1]), t });
        this.lines.push(line);
      }
      this.poke();
    });
    socket.on('close', () => {
      this.closed = true;
      this.poke();
    });
    socket.on('error', () => undefined);
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}; last lines: ${JSON.stringify(this.lines.slice(-5))}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new TimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}; last lines: ${JSON.stringify(this.lines.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = null;
          resolve();
        }, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<IdleClient> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new IdleClient(socket);
    await c.readLine((l) => l.startsWith('* '), 10_000, 'greeting');
    return c;
  }

  /** The same over implicit TLS (a self-signed test certificate is accepted). */
  static async connectTls(port: number, host = '127.0.0.1'): Promise<IdleClient> {
    const socket = tls.connect({ port, host, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const c = new IdleClient(socket);
    await c.readLine((l) => l.startsWith('* '), 10_000, 'greeting');
    return c;
  }

  /** Consumes buffered lines until one matches; returns it. */
  async readLine(pred: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
    return this.waitFor(
      () => {
        while (this.lines.length) {
          const l = this.lines.shift()!;
          if (pred(l)) return l;
        }
        return undefined;
      },
      timeoutMs,
      what,
    );
  }

  /** Sends a tagged command and waits for its tagged OK (throws on NO/BAD). Returns all untagged lines seen. */
  async command(tag: string, text: string, timeoutMs = 10_000): Promise<string[]> {
    const seen: string[] = [];
    this.socket.write(`${tag} ${text}\r\n`);
    const done = await this.readLine(
      (l) => {
        seen.push(l);
        return l.startsWith(tag + ' ');
      },
      timeoutMs,
      `${tag} ${text.split(' ')[0]}`,
    );
    if (!/^\S+ OK/i.test(done)) throw new Error(`${tag} ${text.split(' ')[0]} failed: ${done}`);
    return seen;
  }

  /** Sends IDLE and waits for the continuation. Drops EXISTS events seen so far. */
  async idle(tag: string): Promise<void> {
    this.socket.write(`${tag} IDLE\r\n`);
    await this.readLine((l) => l.startsWith('+'), 10_000, 'IDLE continuation');
    this.exists = [];
  }

  /**
   * Waits for the next EXISTS event (in arrival order). Returns undefined on timeout.
   */
  async nextExists(timeoutMs: number): Promise<ExistsEvent | undefined> {
    try {
      return await this.waitFor(() => this.exists.shift(), timeoutMs, 'EXISTS');
    } catch (err) {
      if (err instanceof TimeoutError) return undefined;
      throw err;
    }
  }

  /** EXISTS events that arrived but were not consumed yet (taken out). */
  takeExists(): ExistsEvent[] {
    return this.exists.splice(0);
  }

  async done(tag: string): Promise<void> {
    this.socket.write('DONE\r\n');
    await this.readLine((l) => l.startsWith(tag + ' '), 10_000, 'IDLE completion');
  }

  async logout(): Promise<void> {
    try {
      this.socket.write('z LOGOUT\r\n');
      await this.readLine((l) => l.startsWith('z '), 5_000, 'LOGOUT');
    } catch {
      // best effort
    }
    this.socket.destroy();
  }

  close(): void {
    this.socket.destroy();
  }
}

export class TimeoutError extends Error {}
