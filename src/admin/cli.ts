// `maildir-imapd admin …`: what operators use doveadm for. who, kick and
// reindex go to the running server over the admin socket; expunge and quota
// go there too when it runs (so its sessions hear of it and its caches stay
// right) and work on the Maildirs directly when no server is running;
// `sieve test` never needs one.
import net from 'node:net';
import { promises as fs } from 'node:fs';
import pino from 'pino';
import type { Argv } from 'yargs';
import { ConfigError, loadConfig, parseAge, type Config } from '../config.js';
import { configFileOption, configOptions, flagValues } from '../cli-options.js';
import { ImapServer } from '../server.js';
import { dropPrivileges } from '../privileges.js';
import { runAdmin } from './actions.js';
import { AdminError, type AdminReply, type AdminRequest } from './protocol.js';
import { formatResult } from './format.js';

/** The socket is absent or nobody answers on it: no server runs. */
class NotRunning extends Error {}

/** Biggest message `sieve test` reads. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** One request over the admin socket. */
export function adminRequest(socketPath: string, req: AdminRequest): Promise<AdminReply> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let buf = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(JSON.stringify(req) + '\n'));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      s.end();
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as AdminReply);
      } catch {
        reject(new Error('the server sent something that is not a reply'));
      }
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new NotRunning(`no server is listening on ${socketPath}`));
      else if (err.code === 'EACCES') reject(new AdminError(`${socketPath}: permission denied (the socket's mode, admin.socket_mode, decides who may use it: run as root or the service user)`));
      else reject(err);
    });
    s.on('close', () => reject(new Error('the server closed the admin connection without a reply')));
  });
}

/** Runs a request without a server: on the Maildirs directly, as the service user. */
async function runLocally(cfg: Config, req: AdminRequest): Promise<unknown> {
  dropPrivileges(cfg); // never as root: files it writes (maildirsize, indexes) must stay the mail owner's
  const server = new ImapServer(cfg, pino({ level: 'warn' }, pino.destination(2)));
  try {
    await server.users.load();
    return await runAdmin(req, server.adminDeps(false));
  } finally {
    await server.stop();
  }
}

async function config(argv: Record<string, unknown>): Promise<Config> {
  return loadConfig(flagValues(argv), argv.config as string | undefined, { requireListener: false });
}

/** Sends `req` to the server; when none runs and `local` allows it, does it here. Prints the result. */
async function perform(argv: Record<string, unknown>, req: AdminRequest, local: boolean): Promise<void> {
  const cfg = await config(argv);
  let result: unknown;
  try {
    if (!cfg.adminSocket) throw new NotRunning('admin.socket is "" (no admin socket)');
    const reply = await adminRequest(cfg.adminSocket.slice('unix:'.length), req);
    if (!reply.ok) throw new AdminError(reply.error);
    result = reply.result;
  } catch (err) {
    if (!(err instanceof NotRunning)) throw err;
    if (!local) throw new AdminError(`${err.message}: \`admin ${req.cmd}\` needs the running server (is it started? is admin.socket the same as the server's?)`);
    process.stderr.write(`(${err.message}: working on the Maildirs directly)\n`);
    result = await runLocally(cfg, req);
  }
  print(argv, req.cmd, result);
}

function print(argv: Record<string, unknown>, cmd: string, result: unknown): void {
  process.stdout.write(argv.json ? JSON.stringify(result, null, 2) + '\n' : formatResult(cmd, result));
}

/** Operator mistakes and refusals: one line, exit 1 (2 for the config), no stack trace. */
async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof AdminError) {
      process.stderr.write(`maildir-imapd admin: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`maildir-imapd admin: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}

/** The `admin` subcommands. */
export function adminCommands(y: Argv): Argv {
  return y
    .option('config', configFileOption)
    .option('json', { type: 'boolean', describe: 'Print the result as JSON' })
    .options(configOptions)
    .command('who', 'List the IMAP sessions: user, IP, since, selected folder, IDLE', {}, (argv) => guarded(() => perform(argv, { cmd: 'who' }, false)))
    .command('kick <login>', "End every IMAP session of LOGIN (they get * BYE)", {}, (argv) =>
      guarded(() => perform(argv, { cmd: 'kick', user: String(argv.login) }, false)),
    )
    .command(
      'expunge <login> <folder>',
      'Expunge what came into FOLDER longer ago than --before',
      (c) =>
        c
          .option('before', { type: 'string', demandOption: true, describe: 'An age like 30d, 12h, 2w' })
          .option('dry-run', { type: 'boolean', describe: 'Only list what would go' }),
      (argv) =>
        guarded(async () => {
          const age = parseAge(argv.before);
          if (typeof age !== 'number') throw new AdminError(`--before must be an age like "30d", "12h" or "2w", got ${JSON.stringify(argv.before)}`);
          const req: AdminRequest = { cmd: 'expunge', user: String(argv.login), folder: String(argv.folder), beforeMs: Date.now() - age, dryRun: argv['dry-run'] === true };
          await perform(argv, req, true);
        }),
    )
    .command('reindex <login> [folder]', "Drop and rebuild the server's caches of LOGIN's folders (all, or FOLDER)", {}, (argv) =>
      guarded(() => perform(argv, { cmd: 'reindex', user: String(argv.login), folder: argv.folder === undefined ? null : String(argv.folder) }, false)),
    )
    .command('quota <login> [recalc-login]', 'Usage against the limits of LOGIN; `quota recalc LOGIN` counts it afresh', {}, (argv) =>
      guarded(async () => {
        const second = argv['recalc-login'];
        const recalc = argv.login === 'recalc' && second !== undefined;
        if (!recalc && second !== undefined) throw new AdminError(`unexpected ${JSON.stringify(second)}: quota LOGIN, or quota recalc LOGIN`);
        await perform(argv, { cmd: 'quota', user: String(recalc ? second : argv.login), recalc }, true);
      }),
    )
    .command('sieve <action> <login> <message>', "sieve test LOGIN MESSAGE: what LOGIN's scripts would do with the message in the file MESSAGE (nothing is delivered or sent)", {}, (argv) =>
      guarded(async () => {
        if (argv.action !== 'test') throw new AdminError(`unknown: sieve ${String(argv.action)} (sieve test LOGIN MESSAGE-FILE)`);
        const cfg = await config(argv);
        const file = String(argv.message);
        const st = await fs.stat(file).catch(() => null);
        if (!st?.isFile()) throw new AdminError(`${file}: no such file`);
        if (st.size > MAX_MESSAGE_BYTES) throw new AdminError(`${file}: bigger than ${MAX_MESSAGE_BYTES} bytes`);
        const bytes = await fs.readFile(file);
        dropPrivileges(cfg);
        const server = new ImapServer(cfg, pino({ level: 'warn' }, pino.destination(2)));
        try {
          await server.users.load();
          const o = await server.sieveTest(String(argv.login), bytes);
          print(argv, 'sieve', { user: String(argv.login), filtered: o.filtered, actions: o.summary, targets: o.targets, reject: o.reject });
        } finally {
          await server.stop();
        }
      }),
    )
    .demandCommand(1, 'Name one: who, kick, expunge, reindex, quota or sieve test')
    .strict();
}
