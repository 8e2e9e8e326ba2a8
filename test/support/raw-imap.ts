// A raw-socket IMAP client that keeps every byte, for byte-exact assertions.
import net from 'node:net';

export class RawImap {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(port: number): Promise<RawImap> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new RawImap(socket);
    await c.readUntil('\r\n');
    return c;
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Reads until `marker` appears; returns everything up to and including it. */
  async readUntil(marker: string | RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.buf.toString('latin1');
      let end = -1;
      if (typeof marker === 'string') {
        const i = text.indexOf(marker);
        if (i >= 0) end = i + marker.length;
      } else {
        const m = marker.exec(text);
        if (m) end = m.index + m[0].length;
      }
      if (end >= 0) {
        const out = this.buf.subarray(0, end).toString('latin1');
        this.buf = this.buf.subarray(end);
        return out;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${marker}; have: ${JSON.stringify(text.slice(0, 500))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a tagged command and returns all output up to its tagged completion line. */
  async command(tag: string, text: string): Promise<string> {
    this.send(`${tag} ${text}\r\n`);
    return this.readUntil(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`));
  }

  close(): void {
    this.socket.destroy();
  }
}
