// The SASL mechanisms offered to Postfix, as small state machines: each step
// takes the client's decoded response and says what to do next. The same two
// (and the same rules) as IMAP AUTHENTICATE (src/imap/commands/authenticate.ts):
//  - PLAIN (RFC 4616): authzid NUL authcid NUL password in one message;
//    without an initial response the server asks with an empty challenge.
//  - LOGIN (draft-murchison-sasl-login): "Username:" then "Password:"; an
//    initial response is the user name, an empty one is as if there were none
//    (as Dovecot's mech-login).

export type MechStep =
  | { kind: 'challenge'; challenge: string }
  | { kind: 'credentials'; login: string; password: string }
  | { kind: 'fail'; reason: string; login?: string };

export interface Mechanism {
  /** `response` is null for "no initial response"; every later step has one (maybe empty). */
  step(response: Buffer | null): MechStep;
}

/** What Postfix is told in the handshake: both send the password itself (`plaintext`). */
export const MECHANISMS = [
  { name: 'PLAIN', flags: ['plaintext'] },
  { name: 'LOGIN', flags: ['plaintext'] },
];

/** Longest user name and password looked at (as IMAP LOGIN). */
export const MAX_LOGIN = 256;
export const MAX_PASSWORD = 1024;

function credentials(login: string, password: string): MechStep {
  if (login.length > MAX_LOGIN || password.length > MAX_PASSWORD) return { kind: 'fail', reason: 'Credentials too long' };
  if (login === '') return { kind: 'fail', reason: 'Empty user name' };
  return { kind: 'credentials', login, password };
}

class Plain implements Mechanism {
  private asked = false;
  step(response: Buffer | null): MechStep {
    if (response === null) {
      if (this.asked) return { kind: 'fail', reason: 'No response' };
      this.asked = true;
      return { kind: 'challenge', challenge: '' };
    }
    const fields = response.toString('utf8').split('\0');
    if (fields.length !== 3) return { kind: 'fail', reason: 'Invalid PLAIN message' };
    const [authzid, authcid, password] = fields;
    if (authzid && authzid !== authcid) return { kind: 'fail', reason: 'Proxy authorization is not supported', login: authcid };
    return credentials(authcid, password);
  }
}

class Login implements Mechanism {
  private user: string | null = null;
  step(response: Buffer | null): MechStep {
    if (this.user === null) {
      const name = response === null ? '' : response.toString('utf8');
      if (name === '' && response !== null && this.askedName) return { kind: 'fail', reason: 'Empty user name' };
      if (name === '') {
        this.askedName = true;
        return { kind: 'challenge', challenge: 'Username:' };
      }
      if (name.length > MAX_LOGIN) return { kind: 'fail', reason: 'Credentials too long' };
      this.user = name;
      return { kind: 'challenge', challenge: 'Password:' };
    }
    return credentials(this.user, (response ?? Buffer.alloc(0)).toString('utf8'));
  }
  private askedName = false;
}

/** A fresh state machine for a mechanism name (upper case), or null when it is not offered. */
export function createMechanism(name: string): Mechanism | null {
  if (name === 'PLAIN') return new Plain();
  if (name === 'LOGIN') return new Login();
  return null;
}
