// Turning a client's sequence set into the UIDs of the selected mailbox.
import { BadError } from '../../wire/errors.js';
import { parseSequenceSet, resolveSeqs, resolveUids } from '../../wire/sequence-set.js';
import type { MailboxView } from '../tracker.js';

/** RFC 5182 §3: "$" (seq-last-command) stands for a whole sequence set, never part of one (as in Dovecot). */
export const SAVED_RESULT = '$';

/** The UIDs a sequence set (or "$") names in the view, ascending. */
export function resolveMessages(view: MailboxView, set: string, byUid: boolean): number[] {
  // "$" names the saved messages in either space (RFC 5182 §2.1): SEARCH may save, UID FETCH use.
  if (set === SAVED_RESULT) return view.savedUids();
  const ranges = parseSequenceSet(set);
  if (byUid) return resolveUids(ranges, view.uidList);
  // A sequence number past EXISTS means the client is out of step: BAD, as Dovecot answers (RFC 3501 §9 seq-number).
  if (ranges.some(([a, b]) => (a !== Infinity && a > view.exists) || (b !== Infinity && b > view.exists)))
    throw new BadError('Invalid messageset: message sequence number out of range');
  return resolveSeqs(ranges, view.exists).map((s) => view.uidAt(s)!);
}
