// Our version, from package.json (found from dist/src/… or src/…), for ID and the ready line.
import { readFileSync } from 'node:fs';

export const VERSION = ((): string => {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'maildir-imapd' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return 'unknown';
})();
