// One Maildir folder on disk: file names, scanning, and the file operations
// that carry IMAP state (new/ → cur/, flag letters in the name, unlink).
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';

export type Sub = 'new' | 'cur';

export interface ParsedName {
  /** The stable part of the name: everything before ":2," (the uidlist key). */
  basename: string;
  /** Flag letters after ":2,", sorted; '' when there are none or no info part. */
  info: string;
  /** CRLF size from a ",W=" field in the name, if the writer put one there. */
  vsize: number | null;
  /** Physical size from ",S=", if present. */
  size: number | null;
}

const INFO_SEP = ':2,';

export function parseName(filename: string): ParsedName {
  const { basename, info } = splitName(filename);
  // Most names have no size fields (Postfix's): no regex run for them.
  const fields = basename.indexOf(',') >= 0;
  const w = fields ? /,W=(\d+)/.exec(basename) : null;
  const s = fields ? /,S=(\d+)/.exec(basename) : null;
  return { basename, info, vsize: w ? Number(w[1]) : null, size: s ? Number(s[1]) : null };
}

/** parseName's basename and info, without its size fields: 50,000 of them at an open from the name list. */
export function splitName(filename: string): { basename: string; info: string } {
  const at = filename.indexOf(INFO_SEP);
  if (at < 0) return { basename: filename, info: '' };
  return { basename: filename.slice(0, at), info: sortLetters(filename.slice(at + INFO_SEP.length)) };
}

/** parseName's basename alone. */
export function basenameOf(filename: string): string {
  const at = filename.indexOf(INFO_SEP);
  return at < 0 ? filename : filename.slice(0, at);
}

/** Flag letters sorted, without repeats. Letters already so (as every writer puts them) are returned as they are. */
export function sortLetters(letters: string): string {
  let sorted = true;
  for (let i = 1; i < letters.length && sorted; i++) sorted = letters.charCodeAt(i - 1) < letters.charCodeAt(i);
  return sorted ? letters : [...new Set(letters)].sort().join('');
}

/** The file name in cur/ for a basename and its flag letters. */
export function curName(basename: string, info: string): string {
  return basename + INFO_SEP + sortLetters(info);
}

/** File names that are never messages (dot files, Dovecot temp names). */
function isMessageName(name: string): boolean {
  return name.length > 0 && name[0] !== '.';
}

export interface ScannedFile {
  sub: Sub;
  filename: string;
  /** Uidlist ext fields for its new record (COPY/MOVE: G, the message GUID it keeps). */
  ext?: string[];
}

export class Maildir {
  constructor(readonly root: string) {}

  dir(sub: Sub | 'tmp'): string {
    return path.join(this.root, sub);
  }

  file(sub: Sub | 'tmp', filename: string): string {
    return path.join(this.root, sub, filename);
  }

  async exists(): Promise<boolean> {
    try {
      return (await fs.stat(this.dir('cur'))).isDirectory();
    } catch {
      return false;
    }
  }

  /** Creates tmp/, new/ and cur/ if missing (mode 0700, as Postfix does). */
  async ensure(): Promise<void> {
    for (const sub of ['tmp', 'new', 'cur'] as const) await fs.mkdir(this.dir(sub), { recursive: true, mode: 0o700 });
  }

  /**
   * All message files in new/ then cur/. A missing directory counts as
   * empty. Only regular files are messages: a symbolic link (to /etc/passwd,
   * to another user's mail) is never one.
   */
  async scan(): Promise<ScannedFile[]> {
    const out: ScannedFile[] = [];
    for (const sub of ['new', 'cur'] as const) {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(this.dir(sub), { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      for (const e of entries) if (e.isFile() && isMessageName(e.name)) out.push({ sub, filename: e.name });
    }
    return out;
  }

  /** Modification stamps of new/ and cur/ ("ino:mtimeNs:ctimeNs/…", "-" for one missing): unchanged stamps mean no entry was added, removed or renamed. */
  async dirStamp(): Promise<string> {
    const parts: string[] = [];
    for (const sub of ['new', 'cur'] as const) {
      const st = await fs.stat(this.dir(sub), { bigint: true }).catch(() => null);
      parts.push(st ? `${st.ino}:${st.mtimeNs}:${st.ctimeNs}` : '-');
    }
    return parts.join('/');
  }

  /** Renames a message file; false if the source vanished (someone else moved or deleted it). */
  async move(from: ScannedFile, to: ScannedFile): Promise<boolean> {
    try {
      await fs.rename(this.file(from.sub, from.filename), this.file(to.sub, to.filename));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async remove(f: ScannedFile): Promise<void> {
    await fs.unlink(this.file(f.sub, f.filename)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

/** The directories' identity in a dirStamp(): other inodes (or "-") mean another folder now has this path. */
export function stampInodes(stamp: string): string {
  return stamp.split('/').map((part) => part.split(':')[0]).join('/');
}
