// The TLS certificate and key: readable, parse, belong together, and are
// valid now (a warning when fewer than 14 days remain).
import crypto from 'node:crypto';
import { error, result, warn, type CheckResult } from './types.js';

export const EXPIRY_WARN_DAYS = 14;

/** A file's content, or why it could not be read. */
export type Read = { path: string; text: string } | { path: string; error: string };

const DAY = 86_400_000;

export function checkTls(cert: Read | null, key: Read | null, now: Date, serviceUser: string): CheckResult {
  const res = result('tls');
  if (!cert && !key) {
    res.passed.push('no TLS configured (tls.cert / tls.key unset): passwords only from loopback unless auth.allow_plaintext');
    return res;
  }
  let x509: crypto.X509Certificate | null = null;
  let pkey: crypto.KeyObject | null = null;
  if (cert) {
    if ('error' in cert) res.problems.push(error(`tls.cert ${cert.path}: cannot read: ${cert.error}`, `make it readable by ${serviceUser} (e.g. setfacl -m u:${serviceUser}:r ${cert.path}, and x on its directories)`));
    else {
      try {
        x509 = new crypto.X509Certificate(cert.text);
      } catch (err) {
        res.problems.push(error(`tls.cert ${cert.path}: not a PEM certificate: ${(err as Error).message}`, `point tls.cert at the full chain PEM (e.g. /etc/letsencrypt/live/HOST/fullchain.pem)`));
      }
    }
  }
  if (key) {
    if ('error' in key) res.problems.push(error(`tls.key ${key.path}: cannot read: ${key.error}`, `make it readable by ${serviceUser} only (e.g. setfacl -m u:${serviceUser}:r ${key.path}, and x on its directories)`));
    else {
      try {
        pkey = crypto.createPrivateKey(key.text);
      } catch (err) {
        res.problems.push(error(`tls.key ${key.path}: not a PEM private key: ${(err as Error).message}`, `point tls.key at the unencrypted private key PEM (e.g. /etc/letsencrypt/live/HOST/privkey.pem)`));
      }
    }
  }
  if (x509 && pkey && !x509.checkPrivateKey(pkey)) {
    res.problems.push(error(`tls.key ${key!.path} does not belong to the certificate in ${cert!.path}`, `use the key the certificate was issued for (fullchain.pem goes with privkey.pem from the same live/ directory)`));
  }
  if (x509) {
    const from = new Date(x509.validFrom);
    const to = new Date(x509.validTo);
    const days = Math.floor((to.getTime() - now.getTime()) / DAY);
    if (to.getTime() <= now.getTime()) {
      res.problems.push(error(`tls.cert ${cert!.path} (${x509.subject.replace(/\n/g, ', ')}) expired on ${to.toISOString()}`, `renew it (e.g. certbot renew) and restart maildir-imapd`));
    } else if (from.getTime() > now.getTime()) {
      res.problems.push(error(`tls.cert ${cert!.path} is not valid before ${from.toISOString()}`, `check the system clock, or use a certificate valid now`));
    } else if (days < EXPIRY_WARN_DAYS) {
      res.problems.push(warn(`tls.cert ${cert!.path} expires in ${days} day${days === 1 ? '' : 's'} (${to.toISOString()})`, `renew it (e.g. certbot renew) and restart maildir-imapd`));
    }
    if (pkey && x509.checkPrivateKey(pkey) && !res.problems.length) {
      res.passed.push(`certificate ${cert!.path} (${x509.subject.replace(/\n/g, ', ')}) matches its key, valid for ${days} more days`);
    }
  }
  return res;
}
