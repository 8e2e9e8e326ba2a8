// The FLAGS and PERMANENTFLAGS responses (RFC 3501 §7.2.6, §7.1): at SELECT,
// and again whenever the folder gains a keyword, before any FETCH shows it.
import { SYSTEM_FLAGS } from '../mail/api.js';

export function flagLines(keywords: readonly string[], readOnly: boolean, keywordsFull: boolean): string {
  const flags = [...SYSTEM_FLAGS, ...keywords].join(' ');
  return (
    `* FLAGS (${flags})\r\n` +
    (readOnly ? '* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n' : `* OK [PERMANENTFLAGS (${flags}${keywordsFull ? '' : ' \\*'})] Flags permitted.\r\n`)
  );
}
