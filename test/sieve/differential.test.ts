// Differential test against Pigeonhole: every script of test/sieve/corpus
// on every message, through Debian's sieve-test and through ours; the test
// fails on any difference that EXCEPTIONS below does not explain, and on an
// exception that no longer differs (so the list cannot rot).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSieve, runSieve } from '../../src/sieve/index.js';
import { normalize, runReference, setupReference, sieveTestBinary } from './pigeonhole.js';

const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/sieve/corpus');
/** Folders the user has, for mailboxexists (INBOX always). */
const FOLDERS = ['Work', 'Lists'];
const ENVELOPE = { from: 'sender@example.com', to: 'bob+lists@example.org' };

/**
 * Known, explained differences: "script" (every message) or "script|message".
 * Each says why we differ on purpose or what sieve-test cannot show.
 */
const EXCEPTIONS: Record<string, string> = {
  // Pigeonhole 0.5.19 (Debian 12) has no "ereject" (sieve-test: unknown capability); RFC 5429 defines it and we
  // offer it, as an action the caller turns into an SMTP/LMTP refusal. Covered by the unit tests.
  '84-ereject': 'ereject: RFC 5429, missing from Pigeonhole 0.5.19',
  // We do not offer :regex: JavaScript's backtracking engine could be held for minutes by one pattern, and
  // no step budget can interrupt it. A script that requires "regex" fails to compile (ManageSieve says so at upload).
  '85-regex': 'regex: left out on purpose (catastrophic backtracking)',
  // A multi-line string as a folder name ends in CRLF. Pigeonhole accepts the name and would fail when it stores;
  // we refuse folder names with control characters when the script is compiled, so the user hears of it at upload.
  '79-multiline-hash': 'folder names with control characters are a compile error here',
  // Pigeonhole 0.5.19's :matches is wrong for a pattern that starts with "?" followed by literal text and "*":
  // "?eeting*" matches "Grüße aus Berlin", "[dev] Weekly digest", "SALE: 50% off" (captures "G", ""). RFC 5228
  // §2.7.1: "?" matches one character, so the rest must be "eeting…"; ours only matches "Meeting tomorrow".
  '54-wildcards|02-encoded': 'Pigeonhole :matches bug with a leading "?"',
  '54-wildcards|03-multipart': 'Pigeonhole :matches bug with a leading "?"',
  '54-wildcards|04-forward': 'Pigeonhole :matches bug with a leading "?"',
  '54-wildcards|05-bulk': 'Pigeonhole :matches bug with a leading "?"',
  // addflag "one"; fileinto :copy "Copy"; addflag "two": sieve-test prints the implicit keep's flags as
  // "ne two" — the first flag loses its first letter in its printout after a fileinto :copy (without the
  // fileinto, 18-imap4flags prints "one two"-style lists correctly). RFC 5232 §5: the implicit keep takes the
  // internal variable as it is at the end, "one two", which is what we answer.
  '58-keep-flags-implicit': 'sieve-test prints "ne" for the implicit keep flag "one" after fileinto :copy',
};

test('Sieve corpus gives the same actions as Pigeonhole sieve-test', { skip: sieveTestBinary() ? false : 'sieve-test not installed (apt-get install dovecot-sieve)' }, async (t) => {
  const scripts = (await fs.readdir(path.join(CORPUS, 'scripts'))).filter((f) => f.endsWith('.sieve')).sort();
  const messages = (await fs.readdir(path.join(CORPUS, 'messages'))).filter((f) => f.endsWith('.eml')).sort();
  assert.ok(scripts.length >= 40 && messages.length >= 5, 'the corpus is in place');

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sieve-diff-'));
  try {
    // sieve-test runs as the mail user and writes .svbin beside the script: work on copies
    await fs.mkdir(path.join(dir, 's'));
    await fs.mkdir(path.join(dir, 'm'));
    for (const s of scripts) await fs.copyFile(path.join(CORPUS, 'scripts', s), path.join(dir, 's', s));
    for (const m of messages) await fs.copyFile(path.join(CORPUS, 'messages', m), path.join(dir, 'm', m));
    const ref = await setupReference(dir, FOLDERS);

    const pairs = scripts.flatMap((s) => messages.map((m) => ({ s, m })));
    const theirs = new Map<string, string>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pairs.length) {
        const { s, m } = pairs[next++];
        theirs.set(`${s}|${m}`, await runReference(ref, path.join(dir, 's', s), path.join(dir, 'm', m), ENVELOPE));
      }
    };
    await Promise.all([worker(), worker(), worker()]);

    const exists = new Set(['inbox', ...FOLDERS.map((f) => f.toLowerCase())]);
    let same = 0;
    const explained: string[] = [];
    const unexplained: string[] = [];
    const usedExceptions = new Set<string>();
    for (const s of scripts) {
      const compiled = compileSieve(readFileSync(path.join(CORPUS, 'scripts', s)));
      for (const m of messages) {
        const ours = compiled.ok
          ? normalize(
              runSieve(compiled.script, readFileSync(path.join(CORPUS, 'messages', m)), ENVELOPE, {
                zone: 0,
                mailboxExists: (n) => exists.has(n.toLowerCase()),
              }),
            )
          : normalize({ compileError: true });
        const key = `${s}|${m}`;
        const ref = theirs.get(key)!;
        if (ours === ref) {
          same++;
          continue;
        }
        const why = EXCEPTIONS[`${s.replace(/\.sieve$/, '')}|${m.replace(/\.eml$/, '')}`] ?? EXCEPTIONS[s.replace(/\.sieve$/, '')];
        const text = `${key}\n  sieve-test: ${ref.replace(/\n/g, '\n              ')}\n  ours:       ${ours.replace(/\n/g, '\n              ')}`;
        if (why) {
          explained.push(text);
          usedExceptions.add(EXCEPTIONS[`${s.replace(/\.sieve$/, '')}|${m.replace(/\.eml$/, '')}`] !== undefined ? `${s.replace(/\.sieve$/, '')}|${m.replace(/\.eml$/, '')}` : s.replace(/\.sieve$/, ''));
        } else unexplained.push(text);
      }
    }
    t.diagnostic(`${scripts.length} scripts × ${messages.length} messages = ${pairs.length} runs: ${same} identical, ${explained.length} explained exceptions, ${unexplained.length} unexplained`);
    const stale = Object.keys(EXCEPTIONS).filter((k) => !usedExceptions.has(k));
    assert.deepEqual(unexplained, [], `differences from Pigeonhole:\n${unexplained.join('\n')}`);
    assert.deepEqual(stale, [], 'exceptions that no longer differ: remove them');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
