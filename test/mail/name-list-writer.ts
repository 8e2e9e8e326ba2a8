// Child process of name-list.test.ts's kill -9 test: flips flags (renames in
// cur/) of a Maildir folder and opens and closes it, over and over, so the
// name list is being rewritten when the test kills it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { Mailbox, settleOptions } from '../../src/mail/mailbox.js';

settleOptions.ms = 0;
const dir = process.argv[2];
const log = pino({ level: 'silent' });
for (let round = 0; ; round++) {
  const names = await fs.readdir(path.join(dir, 'cur'));
  for (let i = round % 7; i < names.length; i += 7) {
    const name = names[i];
    const flipped = name.endsWith(':2,S') ? name.slice(0, -1) : name.endsWith(':2,') ? `${name}S` : name;
    await fs.rename(path.join(dir, 'cur', name), path.join(dir, 'cur', flipped)).catch(() => undefined);
  }
  const box = new Mailbox('INBOX', dir, log, 60_000);
  await box.load();
  if (round === 0) process.stdout.write('writing\n');
  await box.close();
}
