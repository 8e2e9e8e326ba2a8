// Differential runs: the same command script on the same Maildir contents,
// once against our server process and once against the Dovecot peer, each
// reply reduced to what must agree (untagged lines and the tagged status with
// its response code; not Dovecot's timing text nor our wording).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer, type MailTree } from './server.js';
import { RawImap } from './raw-imap.js';
import { startDovecot } from './dovecot.js';

/**
 * Puts `messages` in bob's new/ under names that sort in the order given (so
 * both servers number them 1..n in that order, whatever ran before in this
 * process: server.ts's deliver() counts in unpadded hex).
 */
export async function seedInOrder(tree: MailTree, messages: string[]): Promise<void> {
  const dir = tree.maildir('bob');
  for (const [i, text] of messages.entries()) {
    const name = `${1_765_000_000 + i}.M${String(i).padStart(6, '0')}P1.diff`;
    await fs.writeFile(path.join(dir, 'tmp', name), text);
    await fs.rename(path.join(dir, 'tmp', name), path.join(dir, 'new', name));
  }
}

/** One reply made comparable: tag → T, tagged text dropped after the code, flags sorted, `normalise` applied per line. */
export function comparable(reply: string, tag: string, normalise: (line: string) => string = (l) => l): string {
  return reply
    .split('\r\n')
    .filter((l) => l !== '')
    .map((l) => {
      if (l.startsWith(`${tag} `)) {
        const m = /^\S+ (OK|NO|BAD)( \[[^\]]*\])?/.exec(l);
        return `T ${m ? m[1] + (m[2] ?? '') : l}`;
      }
      if (/^\* (OK|NO|BAD) /.test(l)) return (/^\* \w+( \[[^\]]*\])?/.exec(l) ?? [l])[0];
      return l.replace(/FLAGS \(([^)]*)\)/g, (_, f: string) => `FLAGS (${f.split(' ').filter(Boolean).sort().join(' ')})`);
    })
    .map((l) => normalise(l.replace(/\(TAG "[^"]+"\)/, '(TAG)')))
    .filter((l) => l !== '') // a line `normalise` drops
    .join('\n')
    .replace(/(^|\n)(\* \d+ EXPUNGE(\n|$))+/g, (run, lead: string) => `${lead}${expungedSet(run)}\n`)
    .replace(/\n$/, '');
}

/**
 * A run of EXPUNGE responses as the original sequence numbers it removed:
 * Dovecot reports them highest first, we lowest first; both are right (RFC 3501 §7.4.1).
 */
function expungedSet(run: string): string {
  const seqs = [...run.matchAll(/\* (\d+) EXPUNGE/g)].map((m) => Number(m[1]));
  const original = Array.from({ length: Math.max(...seqs) + seqs.length }, (_, i) => i + 1);
  const removed = seqs.map((s) => original.splice(s - 1, 1)[0]);
  return `* EXPUNGED ${removed.sort((a, b) => a - b).join(',')}`;
}

/** Prefix of a script line that runs in a second session of bob's (logged in at its first use). */
export const OTHER = '2> ';

/** Runs `script` after LOGIN bob (lines starting with OTHER in a second session); returns command → comparable reply. */
export async function runScript(port: number, script: string[], normalise?: (line: string) => string): Promise<Map<string, string>> {
  const sessions: RawImap[] = [];
  const session = async (i: number): Promise<RawImap> => {
    if (!sessions[i]) {
      sessions[i] = await RawImap.connect(port);
      assert.match(await sessions[i].command('l', 'LOGIN bob bob-pass'), /^l OK/m);
    }
    return sessions[i];
  };
  try {
    const out = new Map<string, string>();
    let n = 0;
    for (const line of script) {
      const tag = `d${++n}`;
      const other = line.startsWith(OTHER);
      const c = await session(other ? 1 : 0);
      out.set(`${n} ${line}`, comparable(await c.command(tag, other ? line.slice(OTHER.length) : line), tag, normalise));
    }
    return out;
  } finally {
    for (const c of sessions) c?.close();
  }
}

/**
 * Two trees seeded alike by `seed`; our server opens INBOX once in each first
 * (UIDs and \Recent claimed alike), then `script` runs on ours in one and on
 * Dovecot in the other. Returns the differences, one text per command.
 */
export async function differential(seed: (tree: MailTree) => Promise<void>, script: string[], normalise?: (line: string) => string): Promise<string[]> {
  const trees = [await makeMailTree('mimapd-diff-'), await makeMailTree('mimapd-diff-')];
  try {
    for (const tree of trees) {
      await fs.chmod(tree.dir, 0o711);
      await seed(tree);
    }
    const ours = await startServer(trees[0]);
    let mine: Map<string, string>;
    try {
      await runScript(ours.port, ['SELECT INBOX', 'LOGOUT']);
      mine = await runScript(ours.port, script, normalise);
    } finally {
      await ours.stop();
    }
    const primer = await startServer(trees[1]);
    try {
      await runScript(primer.port, ['SELECT INBOX', 'LOGOUT']);
    } finally {
      await primer.stop();
    }
    const peer = await startDovecot({ mailRoot: path.join(trees[1].dir, 'mail'), stateDir: path.join(trees[1].dir, 'dovecot') });
    let theirs: Map<string, string>;
    try {
      theirs = await runScript(peer.port, script, normalise);
    } finally {
      await peer.stop();
    }
    const diffs: string[] = [];
    for (const [cmd, reply] of mine) if (reply !== theirs.get(cmd)) diffs.push(`${cmd}\n   ours:    ${reply.replace(/\n/g, ' | ')}\n   dovecot: ${theirs.get(cmd)?.replace(/\n/g, ' | ')}`);
    return diffs;
  } finally {
    for (const tree of trees) await fs.rm(tree.dir, { recursive: true, force: true });
  }
}
