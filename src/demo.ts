// The demo that `npm start` serves: a Maildir with a dozen messages for user demo,
// and the banner that says how to read one and how to watch a push. README's
// "Try it" quotes the banner and its commands; test/e2e/readme-demo.test.ts
// runs them from README, so the three cannot drift apart.
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface Demo {
  usersFile: string;
  maildirTemplate: string;
  inbox: string;
  sampleFile: string;
}

const SUBJECTS = [
  'Welcome to maildir-imapd',
  'Lunch on Friday?',
  'Re: Lunch on Friday?',
  'Quarterly numbers',
  'Photos from the trip',
  'Your invoice #1042',
  'Meeting notes',
  'Re: Meeting notes',
  'Weekend plans',
  'Server maintenance tonight',
  'A question about Maildir',
  'Thanks!',
];

function message(i: number, subject: string, date: Date): string {
  return [
    `From: Demo Sender ${i + 1} <sender${i + 1}@example.org>`,
    'To: Demo <demo@localhost>',
    `Subject: ${subject}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <demo-${i + 1}@example.org>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `This is demo message ${i + 1}: ${subject}.`,
    '',
  ].join('\n');
}

/** Creates the demo tree on first start; later starts reuse it (and every UID in it). */
export async function prepareDemo(dir: string): Promise<Demo> {
  const usersFile = path.join(dir, 'users');
  const inbox = path.join(dir, 'mail', 'demo', 'Maildir');
  const sampleFile = path.join(dir, 'new-message.eml');
  const demo = { usersFile, maildirTemplate: path.join(dir, 'mail', '%n', 'Maildir'), inbox, sampleFile };
  const exists = await fs.stat(usersFile).then(() => true, () => false);
  if (exists) return demo;
  for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(inbox, sub), { recursive: true, mode: 0o700 });
  const start = Date.now() - SUBJECTS.length * 3600_000;
  for (const [i, subject] of SUBJECTS.entries()) {
    const date = new Date(start + i * 3600_000);
    const secs = Math.floor(date.getTime() / 1000);
    const flags = i < 9 ? 'S' : '';
    const file = path.join(inbox, 'cur', `${secs}.M${i}P${process.pid}.demo:2,${flags}`);
    await fs.writeFile(file, message(i, subject, date), { mode: 0o600 });
    await fs.utimes(file, date, date);
  }
  await fs.writeFile(sampleFile, message(99, 'Pushed to you the moment it landed', new Date()));
  await fs.writeFile(usersFile, 'demo:{PLAIN}demo\n', { mode: 0o600 });
  return demo;
}

/**
 * What the demo prints once it listens: how to read a message, and the push
 * step — an IDLE client (curl's trace shows each untagged EXISTS), and a
 * delivery done as Postfix does it: written in tmp/, then renamed into new/
 * (a file written straight into new/ could be read half-written).
 */
export function demoBanner(url: string, demo: Demo, cwd: string): string {
  const rel = (p: string) => path.relative(cwd, p) || '.';
  return (
    `maildir-imapd demo ready on ${url}  (user demo, password demo)\n` +
    `  read message 1:  curl '${url}/INBOX;UID=1' -u demo:demo\n` +
    `  watch pushes:    curl -sNv '${url}/INBOX' -u demo:demo -X IDLE 2>&1 | grep --line-buffered EXISTS\n` +
    `  deliver one:     m=${rel(demo.inbox)} f=$(date +%s).$$.demo\n` +
    `                   cp ${rel(demo.sampleFile)} $m/tmp/$f && mv $m/tmp/$f $m/new/$f\n`
  );
}
