// imapflow set up the way the tests use it: bob on the server under test, no
// automatic IDLE (the tests decide when to idle), quiet.
import { ImapFlow } from 'imapflow';

export function bobClient(port: number): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: 'bob', pass: 'bob-pass' }, logger: false, disableAutoIdle: true });
}
