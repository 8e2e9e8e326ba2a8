// Store failures → IMAP replies, in one place (mail-errors.ts, mail/api.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noFor } from '../../src/imap/mail-errors.js';
import { MailError, mailErrorOf } from '../../src/mail/api.js';

test('each kind has its RFC 5530 code; a missing target of APPEND/COPY/MOVE is TRYCREATE', () => {
  assert.equal(noFor('notfound', 'x', 'SELECT').code, 'NONEXISTENT');
  assert.equal(noFor('notfound', 'x', 'COPY').code, 'TRYCREATE');
  assert.equal(noFor('notfound', 'x', 'APPEND').code, 'TRYCREATE');
  assert.equal(noFor('exists', 'x', 'CREATE').code, 'ALREADYEXISTS');
  assert.equal(noFor('expunged', 'x', 'COPY').code, 'EXPUNGEISSUED');
  assert.equal(noFor('invalid', 'x', 'CREATE').code, 'CANNOT');
  assert.equal(noFor('permission', 'x', 'FETCH').code, 'NOPERM');
  assert.equal(noFor('quota', 'x', 'APPEND').code, 'OVERQUOTA');
  assert.equal(noFor('temporary', 'x', 'FETCH').code, 'UNAVAILABLE');
  assert.equal(noFor('limit', 'x', 'CREATE').code, 'LIMIT');
  assert.equal(noFor('limit', 'the reason', 'CREATE').message, 'the reason');
});

test('file-system errors from races and full disks are MailErrors; others are not', () => {
  const errno = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(mailErrorOf(errno('ENOENT'))?.kind, 'notfound');
  assert.equal(mailErrorOf(errno('ENOTEMPTY'))?.kind, 'exists');
  assert.equal(mailErrorOf(errno('EACCES'))?.kind, 'permission');
  assert.equal(mailErrorOf(errno('ENOSPC'))?.kind, 'quota');
  assert.equal(mailErrorOf(errno('ENAMETOOLONG'))?.kind, 'limit');
  const own = new MailError('exists', 'There');
  assert.equal(mailErrorOf(own), own);
  assert.equal(mailErrorOf(new TypeError('bug')), null);
  assert.equal(mailErrorOf(null), null);
  assert.equal(mailErrorOf(errno('__proto__')), null);
});
