// Helpers for the offline-sync client tests (mbsync, offlineimap): run a
// client with a hard timeout, read a local Maildir the client wrote, and read
// the server's view of a folder (BODY[] bytes and FLAGS) with imapflow.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { deliver } from './server.js';

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The first of `candidates` that exists (Debian puts both clients in /usr/bin). */
export function findTool(...candidates: string[]): string | undefined {
  return candidates.find((c) => existsSync(c));
}

/**
 * Runs a client to completion. Never rejects on a non-zero exit (the test
 * asserts on `code` and shows the output); rejects only if the tool could not
 * be started or ran past `timeoutMs` (then it is SIGKILLed).
 */
export function runTool(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ToolRun> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && (err as { killed?: boolean }).killed) {
          reject(new Error(`${path.basename(cmd)} ran past ${timeoutMs} ms and was killed\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
          return;
        }
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(err); // ENOENT and the like: the tool never ran
          return;
        }
        const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A message file in a local Maildir: its folder-relative place and its Maildir flags. */
export interface LocalMessage {
  file: string;
  /** "new" or "cur" */
  sub: string;
  /** The capital-letter flags after ":2," (sorted), e.g. "FS". */
  flags: string;
  content: Buffer;
}

/** Every message file of one Maildir folder (new/ and cur/), in name order. */
export async function readLocalFolder(folderDir: string): Promise<LocalMessage[]> {
  const out: LocalMessage[] = [];
  for (const sub of ['new', 'cur']) {
    let names: string[];
    try {
      names = await fs.readdir(path.join(folderDir, sub));
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (name.startsWith('.')) continue;
      const file = path.join(folderDir, sub, name);
      const info = /:2,([A-Za-z]*)$/.exec(name);
      const flags = info ? [...info[1]].filter((c) => c >= 'A' && c <= 'Z').sort().join('') : '';
      out.push({ file, sub, flags, content: await fs.readFile(file) });
    }
  }
  return out;
}

/** Directories under `root` that are Maildir folders (have cur/), relative, '/'-separated, sorted. */
export async function localFolders(root: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(rel: string): Promise<void> {
    const dir = path.join(root, rel);
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isDirectory() && e.name === 'cur')) found.push(rel.split(path.sep).join('/'));
    for (const e of entries) if (e.isDirectory() && !['cur', 'new', 'tmp'].includes(e.name)) await walk(path.join(rel, e.name));
  }
  await walk('');
  return found.filter((f) => f !== '').sort();
}

export interface ServerMessage {
  uid: number;
  flags: string[];
  /** BODY[] exactly as the server sent it (CRLF). */
  body: Buffer;
}

/** UID, FLAGS (without \Recent) and BODY[] of every message in `folder`, read-only. */
export async function serverFolder(port: number, folder: string): Promise<ServerMessage[]> {
  const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true });
  await c.connect();
  try {
    const lock = await c.getMailboxLock(folder, { readOnly: true });
    try {
      const out: ServerMessage[] = [];
      if (!c.mailbox || c.mailbox.exists === 0) return out;
      for await (const m of c.fetch('1:*', { uid: true, flags: true, source: true })) {
        out.push({ uid: m.uid, flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(), body: Buffer.from(m.source!) });
      }
      return out.sort((a, b) => a.uid - b.uid);
    } finally {
      lock.release();
    }
  } finally {
    await c.logout().catch(() => undefined);
  }
}

/** Runs `fn` with a logged-in imapflow client for bob, logging out after. */
export async function withImap<T>(port: number, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.logout().catch(() => undefined);
  }
}

/** CRLF → LF, which is what both Maildir clients store (and what Postfix writes). */
export function toLf(b: Buffer): Buffer {
  return Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
}

/** The value of the first `name:` header of a message (unfolded, trimmed), or undefined. */
export function headerOf(msg: Buffer, name: string): string | undefined {
  const text = msg.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const head = (end >= 0 ? text.slice(0, end) : text).replace(/\r?\n[ \t]+/g, ' ');
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head);
  return m ? m[1].trim() : undefined;
}

/** IMAP system flags → Maildir info letters, as both clients map them. */
export function maildirLetters(flags: string[]): string {
  const map: Record<string, string> = { '\\Draft': 'D', '\\Flagged': 'F', '\\Answered': 'R', '\\Seen': 'S', '\\Deleted': 'T' };
  return flags
    .map((f) => map[f] ?? '')
    .filter(Boolean)
    .sort()
    .join('');
}

/** A ~300 KB message with a base64 attachment: a literal far bigger than one socket read. */
export function bigMessage(): string {
  const b64 = Buffer.from(Buffer.alloc(220 * 1024).map((_, i) => (i * 7919) & 0xff)).toString('base64').replace(/.{76}/g, '$&\n');
  return [
    'From: alice@example.org',
    'To: bob@example.org',
    'Subject: inbox big',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Grüße, see attached — ünïcödé in the body.',
    '',
    '--b1',
    'Content-Type: application/octet-stream; name="blob.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    b64,
    '--b1--',
    '',
  ].join('\n');
}

let seeded = 0;
/**
 * Puts a message into `folder` ("INBOX" or a Maildir++ name like "Archive.2024")
 * of the Maildir `md`, creating the folder: like Postfix (via new/) without
 * `flags`, or straight into cur/ with `:2,<flags>` as a server that already
 * saw it would. Call before the server starts (it then hands the tree to vmail).
 */
export async function seedMessage(md: string, folder: string, content: string | Buffer, flags?: string): Promise<Buffer> {
  const dir = folder === 'INBOX' ? md : path.join(md, `.${folder}`);
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(dir, sub), { recursive: true });
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  if (flags === undefined) await deliver(dir, bytes);
  else await fs.writeFile(path.join(dir, 'cur', `1700000000.M${++seeded}P${process.pid}.seed:2,${flags}`), bytes);
  return bytes;
}

/**
 * The corpus both sync-client tests start from, written straight into the
 * server's Maildir before it starts: INBOX (plain, the reference message, a
 * large one, one stored with CRLF), Sent (one with `sentFlags`) and
 * Archive.2024 (one without a final newline, one already \Answered \Seen).
 * Returns the bytes written, by folder and Subject.
 */
export async function seedSyncCorpus(md: string, fixture: string, sentFlags?: string): Promise<Map<string, Map<string, Buffer>>> {
  const delivered = new Map<string, Map<string, Buffer>>();
  const put = async (folder: string, content: string | Buffer, flags?: string) => {
    const bytes = await seedMessage(md, folder, content, flags);
    if (!delivered.has(folder)) delivered.set(folder, new Map());
    delivered.get(folder)!.set(headerOf(bytes, 'Subject')!, bytes);
  };
  await put('INBOX', 'From: a@example.org\nTo: bob@example.org\nSubject: inbox plain\n\nhello\n');
  await put('INBOX', await fs.readFile(fixture));
  await put('INBOX', bigMessage());
  await put('INBOX', 'From: d@example.org\r\nSubject: inbox crlf on disk\r\n\r\nwritten with CRLF\r\nline 2\r\n');
  await put('Sent', 'From: bob@example.org\nTo: carol@example.org\nSubject: sent one\n\nfirst sent\n', sentFlags);
  await put('Sent', 'From: bob@example.org\nTo: dave@example.org\nSubject: sent two\nContent-Type: text/plain; charset=utf-8\n\nUmlauts: äöü ß\n\n\nthree blank lines above\n');
  await put('Archive.2024', 'From: e@example.org\nSubject: archived\n\nold mail\nno newline at the end');
  await put('Archive.2024', 'From: f@example.org\nSubject: archived seen\n\nalready read\n', 'RS');
  return delivered;
}

/** Messages keyed by Subject; every test message has a distinct one. */
export function bySubject<T>(items: T[], body: (x: T) => Buffer): Map<string, T> {
  const m = new Map<string, T>();
  for (const x of items) {
    const s = headerOf(body(x), 'Subject');
    assert.ok(s, 'every test message has a Subject');
    assert.ok(!m.has(s), `duplicate message ${s}`);
    m.set(s, x);
  }
  return m;
}
