// The admin command's results as text for an operator (--json prints them as they are).
import type { ExpungeOldResult } from '../housekeeping/expunge-old.js';
import type { QuotaReport, SessionInfo } from './protocol.js';

export function formatResult(cmd: string, result: unknown): string {
  switch (cmd) {
    case 'who':
      return table(
        ['USER', 'IP', 'SINCE', 'FOLDER', 'IDLE'],
        (result as SessionInfo[]).map((s) => [s.user ?? '(not logged in)', s.ip ?? '-', s.loggedIn ?? s.since, s.folder ?? '-', s.idle ? 'yes' : 'no']),
      );
    case 'kick': {
      const r = result as { user: string; kicked: number };
      return `${r.user}: ${r.kicked} session${r.kicked === 1 ? '' : 's'} ended\n`;
    }
    case 'expunge': {
      const r = result as ExpungeOldResult & { user: string; folder: string; before: string; dryRun: boolean };
      const head = `${r.user} ${r.folder}: ${r.expunged} of ${r.examined} message${r.examined === 1 ? '' : 's'} came in before ${r.before}${r.dryRun ? ' (dry run: would be expunged)' : ' expunged'}\n`;
      const rows = r.listed.map((l) => `  uid ${l.uid}  came in ${new Date(l.arrivedMs).toISOString()}\n`).join('');
      const more = r.dryRun && r.expunged > r.listed.length ? `  … and ${r.expunged - r.listed.length} more\n` : '';
      return head + rows + more;
    }
    case 'reindex': {
      const r = result as { user: string; folders: Array<{ folder: string; messages: number }> };
      return r.folders.map((f) => `${r.user} ${f.folder}: ${f.messages} message${f.messages === 1 ? '' : 's'} reindexed\n`).join('');
    }
    case 'quota': {
      const r = result as QuotaReport;
      const part = (used: number, limit: number | null, unit: string) =>
        `${used}${unit} of ${limit === null ? 'no limit' : `${limit}${unit} (${Math.round((used / limit) * 100)}%)`}`;
      return `${r.user}: storage ${part(r.bytes, r.storageLimit, ' bytes')}, messages ${part(r.messages, r.messageLimit, '')}\n`;
    }
    case 'sieve': {
      const r = result as { user: string; filtered: boolean; actions: string; targets: Array<{ folder: string; flags: string[] }>; reject: string | null };
      if (!r.filtered) return `${r.user}: no script applies: kept in INBOX\n`;
      const where = r.targets.length ? r.targets.map((t) => `${t.folder}${t.flags.length ? ` (flags ${t.flags.join(' ')})` : ''}`).join(', ') : 'nowhere (discarded)';
      return `${r.user}: ${r.actions}\n  store in: ${where}\n${r.reject !== null ? `  reject: ${r.reject}\n` : ''}`;
    }
    default:
      return JSON.stringify(result, null, 2) + '\n';
  }
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n').join('');
}
