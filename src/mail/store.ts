// A user's mail: the Maildir++ tree under one root. INBOX is the root itself;
// folder "Archive.2024" lives in "<root>/.Archive.2024/". Names on the wire and
// on disk are the same (IMAP modified UTF-7, as Dovecot's default layout keeps them).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { Mailbox } from './mailbox.js';

export const HIERARCHY_SEPARATOR = '.';

export class MailboxNameError extends Error {}

/** Every open Mailbox, shared across all sessions of all users (keyed by path). */
export class MailboxRegistry {
  private readonly open = new Map<string, Mailbox>();

  constructor(
    private readonly log: Logger,
    private readonly rescanMs: number,
  ) {}

  get(name: string, dir: string): Mailbox {
    let mb = this.open.get(dir);
    if (!mb) {
      mb = new Mailbox(name, dir, this.log.child({ mailbox: dir }), this.rescanMs);
      this.open.set(dir, mb);
    }
    return mb;
  }

  closeAll(): void {
    for (const mb of this.open.values()) mb.close();
    this.open.clear();
  }
}

export interface FolderInfo {
  name: string;
  /** True when a child folder exists (Archive has Archive.2024). */
  hasChildren: boolean;
}

export class MailStore {
  constructor(
    readonly root: string,
    private readonly registry: MailboxRegistry,
  ) {}

  /** The folder's directory; rejects any name that could leave the Maildir. */
  dirOf(name: string): string {
    if (name.toUpperCase() === 'INBOX') return this.root;
    if (name.length === 0 || name.length > 512) throw new MailboxNameError('Invalid mailbox name');
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f/\\]/.test(name)) throw new MailboxNameError('Mailbox name contains a forbidden character');
    const parts = name.split(HIERARCHY_SEPARATOR);
    if (parts.some((p) => p === '' || p === '..' || p === '.' || p.startsWith('~')))
      throw new MailboxNameError('Invalid mailbox name');
    return path.join(this.root, '.' + name);
  }

  /** INBOX plus every Maildir++ folder that exists (has cur/). */
  async folders(): Promise<FolderInfo[]> {
    let entries: string[] = [];
    try {
      entries = await fs.readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const names: string[] = [];
    for (const e of entries) {
      if (e.length < 2 || e[0] !== '.' || e === '..') continue;
      const name = e.slice(1);
      try {
        this.dirOf(name);
      } catch {
        continue; // not a name we could serve
      }
      const isDir = await fs
        .stat(path.join(this.root, e, 'cur'))
        .then((s) => s.isDirectory())
        .catch(() => false);
      if (isDir) names.push(name);
    }
    names.sort();
    const all = ['INBOX', ...names];
    return all.map((name) => ({
      name,
      hasChildren: name !== 'INBOX' && names.some((n) => n.startsWith(name + HIERARCHY_SEPARATOR)),
    }));
  }

  /** Subscribed folder names, from Dovecot's `subscriptions` file ("V\t2" header, one name per line). */
  async subscriptions(): Promise<Set<string>> {
    const text = await fs.readFile(path.join(this.root, 'subscriptions'), 'utf8').catch(() => '');
    const lines = text.split('\n');
    const names = lines[0]?.startsWith('V\t') ? lines.slice(1) : lines;
    return new Set(names.filter((n) => n !== ''));
  }

  async exists(name: string): Promise<boolean> {
    const dir = this.dirOf(name);
    return fs
      .stat(path.join(dir, 'cur'))
      .then((s) => s.isDirectory())
      .catch(() => false);
  }

  /** The shared live mailbox for a folder that exists. */
  async mailbox(name: string): Promise<Mailbox | null> {
    if (!(await this.exists(name))) {
      if (name.toUpperCase() !== 'INBOX') return null;
      await fs.mkdir(path.join(this.root, 'cur'), { recursive: true, mode: 0o700 });
      await fs.mkdir(path.join(this.root, 'new'), { recursive: true, mode: 0o700 });
      await fs.mkdir(path.join(this.root, 'tmp'), { recursive: true, mode: 0o700 });
    }
    const canonical = name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
    const mb = this.registry.get(canonical, this.dirOf(canonical));
    await mb.load();
    return mb;
  }
}
