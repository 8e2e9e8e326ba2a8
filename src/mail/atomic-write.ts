// Replacing a small file of ours or Dovecot's (uidlist header, keywords,
// subscriptions, modseq log, index) so a reader sees the old or the new one,
// never half of either: write a temp file beside it, then rename() over it.
// The temp name is unique per call (two sessions of one process creating
// folders at once raced on a name made of the pid alone), every file is
// 0600 (it names senders and subjects), and a failed write (a full disk)
// leaves no temp file behind.
import { promises as fs } from 'node:fs';
import crypto from 'node:crypto';

export async function writeFileAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, data, { mode: 0o600 });
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
}
