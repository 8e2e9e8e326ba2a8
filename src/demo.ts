// The demo that `npm start` serves: a Maildir with a dozen messages for user demo.
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
