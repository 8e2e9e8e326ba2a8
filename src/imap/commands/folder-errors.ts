// Store errors about folders → tagged NO with the response code (RFC 5530).
import { NoError } from '../errors.js';
import { FolderError, MailboxNameError } from '../../mail/store.js';
import { quote } from '../encoder.js';

/** Rethrows a store error as the NO it means; anything else passes through. */
export function asNo(err: unknown): never {
  if (err instanceof FolderError) throw new NoError(err.message, err.code);
  if (err instanceof MailboxNameError) throw new NoError(err.message, 'CANNOT');
  throw err;
}

/** A mailbox name as an atom when it can be one, else quoted (names are 7-bit mUTF-7). */
export function mailboxName(name: string): string {
  return /^[\x21\x23-\x27\x2a-\x5b\x5d-\x7a\x7c-\x7e]+$/.test(name) ? name : quote(name);
}
