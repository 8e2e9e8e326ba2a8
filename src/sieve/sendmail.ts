// Handing a message to the local MTA through its sendmail(1) interface, as
// Pigeonhole does for redirect and vacation (`sendmail -i -f SENDER -- RCPT`):
// Postfix's sendmail queues it through postdrop, so no SMTP listener and no
// credentials are involved. Success is exit status 0 within the time limit.
import { spawn } from 'node:child_process';

export interface SendmailOptions {
  /** The sendmail binary (Postfix: /usr/sbin/sendmail). */
  path: string;
  /** Kill it and fail after this long. */
  timeoutMs: number;
}

export class SendmailError extends Error {}

/**
 * Submits `message` for `recipients` with envelope sender `from` ('' is the
 * null sender, passed as "<>", which Postfix's sendmail takes for it).
 */
export function sendmail(opts: SendmailOptions, from: string, recipients: string[], message: Buffer): Promise<void> {
  const args = ['-i', '-f', from === '' ? '<>' : from, '--', ...recipients];
  return new Promise((resolve, reject) => {
    let stderr = '';
    let settled = false;
    const done = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    let child;
    try {
      child = spawn(opts.path, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    } catch (err) {
      done(new SendmailError(`cannot run ${opts.path}: ${(err as Error).message}`));
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(new SendmailError(`${opts.path} did not finish within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    child.on('error', (err) => done(new SendmailError(`cannot run ${opts.path}: ${err.message}`)));
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString('utf8');
    });
    child.stdin!.on('error', () => undefined); // a sendmail that exits early: its status tells
    child.on('close', (code, signal) => {
      if (code === 0) done(null);
      else done(new SendmailError(`${opts.path} ${signal ? `killed by ${signal}` : `exited with ${code}`}${stderr ? `: ${stderr.trim().slice(0, 500)}` : ''}`));
    });
    child.stdin!.end(message);
  });
}
