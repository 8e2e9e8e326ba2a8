// How mailbox names cross the wire. The store's names are modified UTF-7
// (RFC 3501 §5.1.3), as Dovecot keeps them in Maildir++ folder names; a
// session that has enabled UTF8=ACCEPT (RFC 6855 §3) reads and writes them as
// UTF-8 instead, converted here at the edge.
import { quote } from '../../wire/encoder.js';
import { BadError } from '../../wire/errors.js';
import { decodeMutf7, encodeMutf7, Mutf7Error } from '../../wire/mutf7.js';

/** RFC 6855 §3: no C0/C1 controls, DEL, LINE SEPARATOR or PARAGRAPH SEPARATOR in a UTF-8 name. */
const FORBIDDEN_IN_UTF8_NAME = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A name (or LIST pattern) as the client sent it → the store's spelling. */
export function fromClient(name: string, utf8: boolean): string {
  if (!utf8) return name;
  if (FORBIDDEN_IN_UTF8_NAME.test(name)) throw new BadError('Mailbox name contains a control character');
  if (name.includes('\ufffd')) throw new BadError('Mailbox name is not valid UTF-8');
  // Net-Unicode (RFC 5198) is NFC: "ü" typed either way names one folder.
  return encodeMutf7(name.normalize('NFC'));
}

/** The store's name as the client should read it (unquoted). A folder made outside the server with a name that is not mUTF-7 is shown as it is. */
export function toClient(name: string, utf8: boolean): string {
  if (!utf8) return name;
  try {
    return decodeMutf7(name);
  } catch (err) {
    if (err instanceof Mutf7Error) return name;
    throw err;
  }
}

/**
 * A mailbox name in a response: an atom when it can be one, else quoted (UTF-8 inside the quotes only with UTF8=ACCEPT).
 * A folder named NIL is quoted: an atom NIL reads as "no value" to many clients (RFC 9051 §4.5; Dovecot quotes it too).
 */
export function mailboxName(name: string, utf8 = false): string {
  const text = toClient(name, utf8);
  return /^[\x21\x23-\x27\x2a-\x5b\x5d-\x7a\x7c-\x7e]+$/.test(text) && text.toUpperCase() !== 'NIL' ? text : quote(text);
}
