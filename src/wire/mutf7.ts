// IMAP modified UTF-7 (RFC 3501 §5.1.3), the form mailbox names take on the
// wire and, as in Dovecot's default layout, on disk. Written here rather than
// taken from npm: the maintained-looking packages (utf7, emailjs-utf7) decode
// leniently, and a server needs the strict check — one name, one spelling —
// so that "&AGE-" (an encoded "a") or "&AOQ-&AOQ-" can never alias "a" or "&AOQA5A-".

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const B64_VALUE = new Map<string, number>([...B64].map((c, i) => [c, i]));

export class Mutf7Error extends Error {}

const isDirect = (c: number) => c >= 0x20 && c <= 0x7e;

/** Unicode → modified UTF-7. */
export function encodeMutf7(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x26) {
      out += '&-';
      i++;
    } else if (isDirect(c)) {
      out += text[i++];
    } else {
      // One base64 run for all consecutive non-direct UTF-16 code units.
      const units: number[] = [];
      while (i < text.length && !isDirect(text.charCodeAt(i))) units.push(text.charCodeAt(i++));
      const bytes = Buffer.alloc(units.length * 2);
      units.forEach((u, k) => bytes.writeUInt16BE(u, k * 2));
      out += '&' + bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
    }
  }
  return out;
}

/** Modified UTF-7 → Unicode. Throws Mutf7Error unless `name` is the one canonical spelling of its text. */
export function decodeMutf7(name: string): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const c = name.charCodeAt(i);
    if (!isDirect(c)) throw new Mutf7Error('Mailbox name is not valid mUTF-7: 8-bit or control character');
    if (c !== 0x26) {
      out += name[i++];
      continue;
    }
    const end = name.indexOf('-', i + 1);
    if (end < 0) throw new Mutf7Error('Mailbox name is not valid mUTF-7: unterminated "&"');
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    let bits = 0;
    let acc = 0;
    const units: number[] = [];
    for (let k = i + 1; k < end; k++) {
      const v = B64_VALUE.get(name[k]);
      if (v === undefined) throw new Mutf7Error('Mailbox name is not valid mUTF-7: bad base64 character');
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 16) {
        bits -= 16;
        units.push((acc >> bits) & 0xffff);
        acc &= (1 << bits) - 1;
      }
    }
    if (bits >= 6 || acc !== 0) throw new Mutf7Error('Mailbox name is not valid mUTF-7: bad base64 padding');
    for (let k = 0; k < units.length; k++) {
      const u = units[k];
      if (isDirect(u)) throw new Mutf7Error('Mailbox name is not valid mUTF-7: encoded printable ASCII');
      if (u >= 0xd800 && u <= 0xdbff) {
        const lo = units[k + 1];
        if (lo === undefined || lo < 0xdc00 || lo > 0xdfff) throw new Mutf7Error('Mailbox name is not valid mUTF-7: broken surrogate pair');
        out += String.fromCharCode(u, lo);
        k++;
      } else if (u >= 0xdc00 && u <= 0xdfff) {
        throw new Mutf7Error('Mailbox name is not valid mUTF-7: broken surrogate pair');
      } else {
        out += String.fromCharCode(u);
      }
    }
    i = end + 1;
  }
  // Canonical form only: catches adjacent runs ("&AOQ-&AOQ-") and any other second spelling.
  if (encodeMutf7(out) !== name) throw new Mutf7Error('Mailbox name is not valid mUTF-7: not in canonical form');
  return out;
}

export function isValidMutf7(name: string): boolean {
  try {
    decodeMutf7(name);
    return true;
  } catch {
    return false;
  }
}
