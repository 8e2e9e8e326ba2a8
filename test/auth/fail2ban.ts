// Runs deploy/fail2ban's failregex over log lines: with fail2ban-regex when it
// is installed, else with Python's re (fail2ban's own engine) after the same
// <HOST> substitution and date cut that fail2ban makes.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FILTER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../deploy/fail2ban/filter.d/maildir-imapd.conf');

export function failregex(): string {
  const m = /^failregex\s*=\s*(.+)$/m.exec(readFileSync(FILTER, 'utf8'));
  if (!m) throw new Error(`no failregex in ${FILTER}`);
  return m[1].trim();
}

export function haveFail2banRegex(): boolean {
  return spawnSync('fail2ban-regex', ['--version']).status === 0;
}

const PY = String.raw`
import re, sys
rx = re.compile(sys.argv[1].replace('<HOST>', r'(?P<host>[0-9A-Fa-f:.]+)'))
for line in sys.stdin.read().splitlines():
    cut = re.sub(r'"time":\d+', '', line, count=1)   # fail2ban removes the matched date
    hosts = [m.group('host') if m else '-' for m in (rx.search(line), rx.search(cut))]
    print(hosts[0] if hosts[0] == hosts[1] else 'MISMATCH')
`;

/** For each line, the host the filter bans for it, or '-' (Python's re). */
export function hostsByPythonRe(lines: string[]): string[] {
  const out = execFileSync('python3', ['-c', PY, failregex()], { input: lines.join('\n') + '\n', encoding: 'utf8' });
  return out.trimEnd().split('\n');
}

/** The hosts fail2ban-regex finds in these lines (in order). */
export function hostsByFail2ban(lines: string[]): string[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'f2b-'));
  try {
    const log = path.join(dir, 'log');
    writeFileSync(log, lines.join('\n') + '\n');
    const out = execFileSync('fail2ban-regex', ['-v', '--print-all-matched', log, FILTER], { encoding: 'utf8' });
    const section = out.slice(out.indexOf('Failregex:'), out.indexOf('Ignoreregex:'));
    return [...section.matchAll(/^\|\s{6}(\S+)\s+\w{3} \w{3}/gm)].map((m) => m[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
