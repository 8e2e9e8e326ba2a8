// `maildir-imapd passwd`: asks for a password twice without echo (or reads it
// from stdin when that is not a terminal, for scripts) and prints the
// `{ARGON2ID}$argon2id$…` secret to put in the users file.
import { hashArgon2id } from './schemes.js';

export class PasswdError extends Error {}

/** `prefix` is written before the secret: "name:" makes the output a users-file line. */
export async function passwdCommand(input: NodeJS.ReadStream = process.stdin, out: NodeJS.WritableStream = process.stdout, prompt: NodeJS.WritableStream = process.stderr, prefix = ''): Promise<void> {
  let password: string;
  if (input.isTTY) {
    password = await readHidden(input, prompt, 'Password: ');
    const again = await readHidden(input, prompt, 'Repeat password: ');
    if (again !== password) throw new PasswdError('the passwords do not match');
  } else {
    // First line is the password; a second line, if given, must repeat it.
    const lines = (await readAll(input)).split(/\r?\n/);
    password = lines[0];
    if (lines[1] && lines[1] !== password) throw new PasswdError('the passwords on the first two lines of stdin do not match');
  }
  if (!password) throw new PasswdError('empty password');
  out.write(prefix + (await hashArgon2id(password)) + '\n');
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

/** One line from the terminal in raw mode, echoing nothing. */
function readHidden(input: NodeJS.ReadStream, prompt: NodeJS.WritableStream, question: string): Promise<string> {
  prompt.write(question);
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (err: Error | null) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      prompt.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003' || ch === '\u0004') return done(new PasswdError('cancelled'));
        if (ch === '\u007f' || ch === '\b') line = [...line].slice(0, -1).join('');
        else if (ch === '\u0015') line = ''; // Ctrl-U
        else if (ch >= ' ') line += ch;
      }
    };
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}
