// Unit tests of one IMAP command: the real server object in this process (no
// child process, no privilege drop) on the in-memory store (memory-store.ts),
// spoken to over a loopback socket. A test can replace a store method for one
// call (failWith: node:test's t.mock.method on MemoryUser.prototype or
// MemoryMailbox.prototype) to make the store fail the way a full disk, a race
// or a bug would. The Maildir store itself is tested in test/mail/ and end to
// end.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Writable } from 'node:stream';
import { ImapServer, DEFAULT_IMAP_CONFIG } from '../../src/server.js';
import type { ImapConfig } from '../../src/imap/server-context.js';
import { DEFAULTS, type Config } from '../../src/config.js';
import { RawImap } from './raw-imap.js';
import { MemoryMail, type MemoryMailbox, type MemoryUser } from './memory-store.js';

export interface Harness {
  /** A temp directory (the users file is there). */
  dir: string;
  /** bob's mail. */
  mail: MemoryUser;
  /** One of bob's folders (it must exist). */
  box(name?: string): Promise<MemoryMailbox>;
  /** A client connected and greeted, not logged in. */
  connect(): Promise<Client>;
  /** A client logged in as bob, with INBOX selected unless `select` is null. */
  session(select?: string | null): Promise<Client>;
  /** Puts a message in bob's folder as a delivery does: every session with it open hears of it. */
  deliver(content: string, folder?: string): Promise<void>;
  /** Makes a folder (as CREATE does, without a session). */
  mkfolder(name: string): Promise<void>;
  /** The server's log lines so far, parsed. */
  logs(): Array<Record<string, unknown>>;
}

export interface Client {
  /** Sends `tag text` and returns every line up to the tagged reply. */
  run(text: string): Promise<string>;
  /** The tagged reply line alone of the last run(). */
  readonly status: string;
  send(raw: string): void;
  readUntil(marker: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves true once the server has closed the connection, false after `timeoutMs`. */
  closed(timeoutMs?: number): Promise<boolean>;
  close(): void;
}

let tagSeq = 0;

class HarnessClient implements Client {
  status = '';
  constructor(readonly raw: RawImap) {}

  async run(text: string): Promise<string> {
    const tag = `t${++tagSeq}`;
    const out = await this.raw.command(tag, text);
    const lines = out.split('\r\n');
    this.status = lines[lines.length - 2] ?? '';
    // The caller sees a fixed tag: `T OK …`, so assertions do not depend on the counter.
    return out.split(`${tag} `).join('T ');
  }

  send(raw: string): void {
    this.raw.send(raw);
  }

  readUntil(marker: string | RegExp, timeoutMs?: number): Promise<string> {
    return this.raw.readUntil(marker, timeoutMs);
  }

  closed(timeoutMs = 2000): Promise<boolean> {
    const socket = this.raw.socket;
    if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(timer);
        socket.off('close', onClose);
        socket.off('end', onClose);
        resolve(v);
      };
      const onClose = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      socket.once('close', onClose);
      socket.once('end', onClose);
    });
  }

  close(): void {
    this.raw.close();
  }
}

/** A server for one test file or test, stopped and its tree removed by `t.after`; `imap` overrides timings (an IDLE keepalive). */
export async function harness(
  t: { after(fn: () => Promise<void> | void): void },
  config: Partial<Config> = {},
  imap: Partial<ImapConfig> = {},
): Promise<Harness> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimapd-unit-'));
  const users = path.join(dir, 'users');
  await fs.writeFile(users, 'bob:{PLAIN}bob-pass\nalice:{PLAIN}alice-pass\n');
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const cfg: Config = {
    ...DEFAULTS,
    listen: ['127.0.0.1:0'],
    users,
    maildir: path.join(dir, 'mail', '%n', 'Maildir'),
    source: 'unit test',
    ...config,
  };
  // The failed-login pause is the test hook's 50 ms, not Dovecot's 2 s.
  let memory: MemoryMail | null = null;
  const server = new ImapServer(cfg, log, { ...DEFAULT_IMAP_CONFIG, authFailDelayMs: 50, ...imap }, (opts) => (memory = new MemoryMail(opts)));
  const mail = memory!.userStore(path.join(dir, 'mail', 'bob', 'Maildir'));
  const box = async (name = 'INBOX') => {
    const b = await mail.mailbox(name);
    if (!b) throw new Error(`no folder ${name}`);
    return b;
  };
  const [{ address }] = await server.start();
  const clients: Client[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const connect = async (): Promise<Client> => {
    const c = new HarnessClient(await RawImap.connect(address.port));
    clients.push(c);
    return c;
  };
  return {
    dir,
    mail,
    box,
    connect,
    async session(select: string | null = 'INBOX') {
      const c = await connect();
      await c.run('LOGIN bob bob-pass');
      if (select) await c.run(`SELECT ${select}`);
      return c;
    },
    async deliver(content, folder) {
      (await box(folder)).add(content);
    },
    mkfolder: (name) => mail.create(name),
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Makes `proto[method]` throw `err` from now until the test ends (or the next failWith on it). */
export function failWith(t: { mock: { method: (obj: object, name: string, impl: () => Promise<never>) => unknown } }, proto: object, method: string, err: unknown): void {
  // A mock over a mock would be restored to the first mock at the test's end (restores run in creation
  // order), leaving the method failing for the next test: the previous one goes first.
  const current = (proto as Record<string, { mock?: { restore(): void } }>)[method];
  current?.mock?.restore();
  t.mock.method(proto, method, async () => {
    throw err;
  });
}

/** An error as the file system throws it: `code` is what the store classifies (EACCES, ENOSPC …). */
export function errnoError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
