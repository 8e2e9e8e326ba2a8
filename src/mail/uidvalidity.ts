// UIDVALIDITY for new folders, as Dovecot allocates it (mailbox-uidvalidity.c):
// the current time, unless that was already handed out, then the last value + 1.
// The last value lives in the user's root as `dovecot-uidvalidity` (hex) and
// as the name of an empty marker file `dovecot-uidvalidity.<hex>`; moving the
// marker by rename() is the atomic step, so two processes (or we and Dovecot)
// never hand out the same value, and a folder deleted and created again within
// one second still gets a new UIDVALIDITY.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomically } from './atomic-write.js';

const FILE = 'dovecot-uidvalidity';
const MARKER = /^dovecot-uidvalidity\.([0-9a-fA-F]{1,8})$/;

const hex = (n: number) => n.toString(16).padStart(8, '0');

async function current(root: string): Promise<{ value: number; marker: string | null }> {
  let value = 0;
  let marker: string | null = null;
  for (const e of await fs.readdir(root).catch(() => [] as string[])) {
    const m = MARKER.exec(e);
    if (m && parseInt(m[1], 16) >= value) {
      value = parseInt(m[1], 16);
      marker = e;
    }
  }
  const text = await fs.readFile(path.join(root, FILE), 'utf8').catch(() => '');
  const inFile = parseInt(text.trim(), 16);
  if (Number.isSafeInteger(inFile) && inFile > value) value = inFile;
  return { value, marker };
}

/** The next UIDVALIDITY for a folder of the Maildir++ tree rooted at `root`. */
export async function nextUidValidity(root: string, now = Date.now()): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const { value, marker } = await current(root);
    let next = Math.max(Math.floor(now / 1000), value + 1);
    if (next > 0xffffffff) next = 1; // RFC 3501: a 32-bit non-zero number
    const nextMarker = path.join(root, `${FILE}.${hex(next)}`);
    try {
      if (marker) await fs.rename(path.join(root, marker), nextMarker);
      else await fs.writeFile(nextMarker, '', { flag: 'wx', mode: 0o444 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EEXIST') continue; // someone else allocated meanwhile: look again
      throw err;
    }
    await writeFileAtomically(path.join(root, FILE), hex(next) + '\n');
    return next;
  }
  throw new Error('could not allocate a UIDVALIDITY');
}
