// What a check finds: problems an operator can act on, each with its fix, and
// the things that passed (so "all good" says what was looked at).
export type Severity = 'error' | 'warn';

export interface Problem {
  severity: Severity;
  /** What is wrong, naming the file, line, key or user. */
  message: string;
  /** What to do about it (a command where there is one). */
  fix: string;
}

export interface CheckResult {
  area: string;
  problems: Problem[];
  passed: string[];
}

export function result(area: string): CheckResult {
  return { area, problems: [], passed: [] };
}

export const error = (message: string, fix: string): Problem => ({ severity: 'error', message, fix });
export const warn = (message: string, fix: string): Problem => ({ severity: 'warn', message, fix });
