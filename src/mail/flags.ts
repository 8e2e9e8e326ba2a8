// IMAP system flags ↔ Maildir info letters (the ":2," part of a file name).
// Keyword letters a–z are resolved through dovecot-keywords by the mailbox.

export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] as const;

const LETTER_OF: Record<string, string> = {
  '\\draft': 'D',
  '\\flagged': 'F',
  '\\answered': 'R',
  '\\seen': 'S',
  '\\deleted': 'T',
};

const FLAG_OF: Record<string, string> = { D: '\\Draft', F: '\\Flagged', R: '\\Answered', S: '\\Seen', T: '\\Deleted' };

/** The letter for a system flag (case-insensitive), or null if `flag` is not one. */
export function systemLetter(flag: string): string | null {
  // Own keys only: a client's keyword `constructor` or `__proto__` found Object's and became letters of its text.
  const key = flag.toLowerCase();
  return Object.hasOwn(LETTER_OF, key) ? LETTER_OF[key] : null;
}

/** The system flag for an upper-case letter; null for letters IMAP has no flag for (e.g. P, passed). */
export function systemFlag(letter: string): string | null {
  return Object.hasOwn(FLAG_OF, letter) ? FLAG_OF[letter] : null;
}

export function isKeywordLetter(letter: string): boolean {
  return letter >= 'a' && letter <= 'z';
}
