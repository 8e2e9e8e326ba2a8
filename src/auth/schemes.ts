// Dovecot password schemes, so an existing Dovecot users file works as is.
// Every check is asynchronous: argon2 runs in libuv's pool, bcrypt and
// SHA-crypt run in worker threads (crypt-pool.ts). bcryptjs's own async mode
// only yields between rounds: the loop stayed busy for the whole hash.
import crypto from 'node:crypto';
import argon2 from 'argon2';
import { cryptPool } from './crypt-pool.js';

/** What `maildir-imapd passwd` writes: ~100 ms per check on a 2-core machine (measured), 46 MiB. p=1 so Dovecot (libsodium) verifies it too. */
export const ARGON2ID_PARAMS = { type: argon2.argon2id, memoryCost: 47_104, timeCost: 2, parallelism: 1 } as const;

type Check = (secret: string, password: string) => Promise<boolean>;

/** Salted or plain digests stored base64 (Dovecot's default encoding for them): digest(password + salt) + salt. */
function digest(algorithm: string, salted: boolean): Check {
  const size = crypto.createHash(algorithm).digest().length;
  return async (secret, password) => {
    // As Dovecot: a string exactly twice the digest size in hex digits is hex, anything else base64.
    const hex = secret.length === size * 2 && /^[0-9a-f]+$/i.test(secret);
    const raw = Buffer.from(secret, hex ? 'hex' : 'base64');
    if (salted ? raw.length <= size : raw.length !== size) return false;
    const salt = raw.subarray(size);
    const want = raw.subarray(0, size);
    const got = crypto.createHash(algorithm).update(password, 'utf8').update(salt).digest();
    return crypto.timingSafeEqual(want, got);
  };
}

const argon: Check = async (secret, password) => {
  if (!/^\$argon2(id|i)\$/.test(secret)) return false;
  try {
    return await argon2.verify(secret, password);
  } catch {
    return false; // malformed hash
  }
};

const blowfish: Check = async (secret, password) => {
  if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(secret)) return false;
  return cryptPool.verify(password, secret);
};

const shaCrypt = (prefix: '$5$' | '$6$'): Check => async (secret, password) => (secret.startsWith(prefix) ? cryptPool.verify(password, secret) : false);

const plain: Check = async (secret, password) => {
  // Hash both sides so lengths do not leak through the comparison.
  const a = crypto.createHash('sha256').update(secret).digest();
  const b = crypto.createHash('sha256').update(password).digest();
  return crypto.timingSafeEqual(a, b);
};

/** {CRYPT}: whatever crypt(3) would do with the hash's prefix; DES and MD5-crypt are refused (see resolve). */
const libcCrypt: Check = async (secret, password) => {
  if (secret.startsWith('$6$')) return SCHEMES['SHA512-CRYPT'](secret, password);
  if (secret.startsWith('$5$')) return SCHEMES['SHA256-CRYPT'](secret, password);
  return blowfish(secret, password);
};

/** The crypt(3) hash kind of a {CRYPT} secret that we cannot check (DES, MD5-CRYPT …), or null. */
function uncheckableCrypt(secret: string): string | null {
  if (secret.startsWith('$6$') || secret.startsWith('$5$') || /^\$2[aby]\$/.test(secret)) return null;
  return secret.startsWith('$1$') ? 'MD5-CRYPT' : secret.startsWith('$') ? secret.split('$')[1] : 'DES';
}

const SCHEMES: Record<string, Check> = {
  ARGON2ID: argon,
  ARGON2I: argon,
  'BLF-CRYPT': blowfish,
  'SHA512-CRYPT': shaCrypt('$6$'),
  'SHA256-CRYPT': shaCrypt('$5$'),
  CRYPT: libcCrypt,
  PLAIN: plain,
  CLEAR: plain,
  CLEARTEXT: plain,
  SHA512: digest('sha512', false),
  SSHA512: digest('sha512', true),
  SHA256: digest('sha256', false),
  SSHA256: digest('sha256', true),
  SHA: digest('sha1', false),
  SHA1: digest('sha1', false),
  SSHA: digest('sha1', true),
};

export const SUPPORTED_SCHEMES = Object.keys(SCHEMES);

export class UnsupportedScheme extends Error {}

/**
 * The check for `{SCHEME}secret` and the secret it compares with, or why
 * there is none. Dovecot's `.B64`/`.HEX` suffixes (secret stored encoded) are
 * understood. LOGIN and `check` both ask this, so they never disagree.
 */
function resolve(scheme: string, secret: string): { check: Check; secret: string } | { problem: string } {
  let name = scheme.toUpperCase();
  const enc = /\.(B64|BASE64|HEX)$/.exec(name);
  if (enc) {
    name = name.slice(0, enc.index);
    if (name in SCHEMES) {
      // Binary digests decode to bytes directly; the others stored their text form encoded.
      const bytes = Buffer.from(secret, enc[1] === 'HEX' ? 'hex' : 'base64');
      secret = isDigest(name) ? bytes.toString('base64') : bytes.toString('utf8');
    }
  }
  const check = SCHEMES[name];
  if (!check) return { problem: `password scheme {${scheme}} is not supported` };
  const kind = name === 'CRYPT' ? uncheckableCrypt(secret) : null;
  if (kind) return { problem: `password scheme {${scheme}} with a ${kind} hash is not supported` };
  return { check, secret };
}

/**
 * Checks a password against `{SCHEME}secret`'s parts. Throws UnsupportedScheme
 * for a scheme we cannot check (the caller fails closed and says which).
 */
export async function verifyScheme(scheme: string, secret: string, password: string): Promise<boolean> {
  const r = resolve(scheme, secret);
  if ('problem' in r) throw new UnsupportedScheme(r.problem);
  return r.check(r.secret, password);
}

/** Why a `{SCHEME}secret` could never be checked, or null when LOGIN can check it. */
export function schemeProblem(scheme: string, secret: string): string | null {
  const r = resolve(scheme, secret);
  return 'problem' in r ? r.problem : null;
}

function isDigest(name: string): boolean {
  return /^S?SHA(1|256|512)?$/.test(name);
}

/** An `{ARGON2ID}$argon2id$…` line for a users file. */
export async function hashArgon2id(password: string): Promise<string> {
  return `{ARGON2ID}${await argon2.hash(password, ARGON2ID_PARAMS)}`;
}
