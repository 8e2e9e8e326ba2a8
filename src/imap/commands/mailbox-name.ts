// How mailbox names are written in responses.
import { quote } from '../../wire/encoder.js';

/** A mailbox name as an atom when it can be one, else quoted (names are 7-bit mUTF-7). */
export function mailboxName(name: string): string {
  return /^[\x21\x23-\x27\x2a-\x5b\x5d-\x7a\x7c-\x7e]+$/.test(name) ? name : quote(name);
}
