// Turning a client's sequence set into the UIDs of the selected mailbox.
import { parseSequenceSet, resolveSeqs, resolveUids } from '../sequence-set.js';
import type { MailboxView } from '../../mail/view.js';

export function resolveMessages(view: MailboxView, set: string, byUid: boolean): number[] {
  const ranges = parseSequenceSet(set);
  if (byUid) return resolveUids(ranges, view.uidList);
  return resolveSeqs(ranges, view.exists).map((s) => view.uidAt(s)!);
}
