// Content-Transfer-Encoding decoders (RFC 2045): pure functions on bytes, used
// by SEARCH's body text (mail/facts.ts) and by Sieve's body test.

/** Quoted-printable (RFC 2045 §6.7), lenient like every real decoder. */
export function decodeQP(raw: Buffer): Buffer {
  const out = Buffer.allocUnsafe(raw.length);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== 0x3d /* = */) {
      out[o++] = c;
      continue;
    }
    // soft line break: "=" [WSP] CRLF
    let j = i + 1;
    while (j < raw.length && (raw[j] === 0x20 || raw[j] === 0x09)) j++;
    if (raw[j] === 0x0d && raw[j + 1] === 0x0a) {
      i = j + 1;
      continue;
    }
    if (raw[j] === 0x0a) {
      i = j;
      continue;
    }
    const h = hexVal(raw[i + 1]);
    const l = hexVal(raw[i + 2]);
    if (h >= 0 && l >= 0) {
      out[o++] = h * 16 + l;
      i += 2;
    } else out[o++] = c;
  }
  return out.subarray(0, o);
}

function hexVal(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}
