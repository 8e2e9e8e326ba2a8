// The users file, checked line by line: every parse error with file:line (not
// just the first), password schemes we cannot verify, duplicate names.
import { parseUsersFile, UsersFileError, type UserEntry } from '../auth/passwd-file.js';
import { schemeProblem } from '../auth/schemes.js';
import { error, result, warn, type CheckResult } from './types.js';

/** What check recommends re-hashing to (serve verifies more: see auth/schemes.ts). */
const RECOMMENDED_SCHEMES = ['ARGON2ID', 'SHA512-CRYPT', 'BLF-CRYPT'];

export function checkUsersText(text: string, file: string): { users: UserEntry[]; result: CheckResult } {
  const res = result('users');
  const users: UserEntry[] = [];
  const seen = new Map<string, number>();
  const unsupported = new Map<string, number[]>();
  text.split('\n').forEach((raw, i) => {
    const lineNo = i + 1;
    let parsed: Map<string, UserEntry>;
    try {
      parsed = parseUsersFile(raw, file);
    } catch (err) {
      if (!(err instanceof UsersFileError)) throw err;
      const why = err.message.replace(/^.*?:\d+:\s*/, '');
      res.problems.push(error(`${file}:${lineNo}: ${why}`, `write the line as name:{SCHEME}password (e.g. bob:{SHA512-CRYPT}$6$…), or comment it out with #`));
      return;
    }
    for (const entry of parsed.values()) {
      const first = seen.get(entry.name);
      if (first !== undefined) {
        res.problems.push(warn(`${file}:${lineNo}: user ${entry.name} is also on line ${first}; the later line wins`, `remove one of the two lines`));
      } else seen.set(entry.name, lineNo);
      users.push(entry);
      // The same table LOGIN uses (auth/schemes.ts): check kept a list of its own and called schemes serve accepts unsupported.
      const problem = schemeProblem(entry.scheme, entry.secret);
      if (problem) unsupported.set(problem, [...(unsupported.get(problem) ?? []), lineNo]);
    }
  });
  for (const [problem, lines] of unsupported) {
    const where = lines.map((l) => `${file}:${l}`).join(', ');
    const implicit = problem.startsWith('password scheme {CRYPT}') ? ' (no {SCHEME} prefix means CRYPT, as in Dovecot)' : '';
    res.problems.push(
      error(
        `${where}: ${problem}${implicit}, so ${lines.length === 1 ? 'this user' : 'these users'} cannot log in`,
        `re-hash with a supported scheme (${RECOMMENDED_SCHEMES.join(', ')} …), e.g. maildir-imapd passwd or doveadm pw -s SHA512-CRYPT, and prefix it with its {SCHEME}`,
      ),
    );
  }
  if (users.length === 0 && !res.problems.some((p) => p.severity === 'error')) {
    res.problems.push(error(`${file}: no users`, `add a line name:{SCHEME}password per user`));
  }
  if (!res.problems.some((p) => p.severity === 'error')) res.passed.push(`${file}: ${users.length} user${users.length === 1 ? '' : 's'}, every password scheme supported`);
  return { users: [...new Map(users.map((u) => [u.name, u])).values()], result: res };
}
