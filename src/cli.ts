#!/usr/bin/env node
// maildir-imapd command line: thin, parses flags and calls in.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import path from 'node:path';
import { createLogger, type LogFormat } from './log.js';
import { ImapServer, DEFAULT_IMAP_CONFIG } from './server.js';
import { prepareDemo } from './demo.js';

function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`--listen: expected HOST:PORT (e.g. 127.0.0.1:143), got "${value}"`);
  return { host: m[1] ?? m[2], port };
}

async function serve(opts: {
  listen: string;
  users: string;
  maildir: string;
  logLevel: string;
  logFormat: LogFormat;
  rescanSeconds: number;
  maxConnections: number;
  banner?: (url: string) => string;
}): Promise<void> {
  const log = createLogger(opts.logLevel, opts.logFormat);
  const { host, port } = parseListen(opts.listen);
  const server = new ImapServer(
    {
      host,
      port,
      usersFile: path.resolve(opts.users),
      maildirTemplate: opts.maildir,
      rescanMs: opts.rescanSeconds * 1000,
      maxConnections: opts.maxConnections,
      imap: DEFAULT_IMAP_CONFIG,
    },
    log,
  );
  const addr = await server.start();
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `imap://${shown}:${addr.port}`;
  log.info({ url, users: server.users.size, maildir: opts.maildir }, 'ready');
  process.stderr.write(opts.banner ? opts.banner(url) : `maildir-imapd ready on ${url} (${server.users.size} users from ${opts.users})\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await server.stop();
    log.flush?.();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

const common = {
  'log-level': { type: 'string', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], describe: 'Log level' },
  'log-format': { type: 'string', default: 'json', choices: ['json', 'pretty'], describe: 'pino JSON lines, or a readable form' },
  'rescan-seconds': { type: 'number', default: 30, describe: 'How often open folders are checked for changes the watcher missed' },
  'max-connections': { type: 'number', default: 10_000, describe: 'Connections accepted at once' },
} as const;

await yargs(hideBin(process.argv))
  .scriptName('maildir-imapd')
  .command(
    'serve',
    'Serve Maildirs over IMAP',
    (y) =>
      y
        .options(common)
        .option('listen', { type: 'string', demandOption: true, describe: 'HOST:PORT to listen on, e.g. 127.0.0.1:143' })
        .option('users', { type: 'string', demandOption: true, describe: 'Dovecot-style passwd-file' })
        .option('maildir', { type: 'string', demandOption: true, describe: "Maildir template: %u login, %n local part, %d domain, leading ~ home (e.g. '/var/mail/%d/%n/Maildir')" }),
    (argv) =>
      serve({
        listen: argv.listen,
        users: argv.users,
        maildir: argv.maildir,
        logLevel: argv.logLevel,
        logFormat: argv.logFormat as LogFormat,
        rescanSeconds: argv.rescanSeconds,
        maxConnections: argv.maxConnections,
      }),
  )
  .command(
    'demo',
    'Serve a demo Maildir (user demo, password demo) on 127.0.0.1:1143',
    (y) => y.options(common).option('dir', { type: 'string', default: 'demo', describe: 'Where the demo mail lives' }).option('listen', { type: 'string', default: '127.0.0.1:1143' }),
    async (argv) => {
      const demo = await prepareDemo(path.resolve(argv.dir));
      await serve({
        listen: argv.listen,
        users: demo.usersFile,
        maildir: demo.maildirTemplate,
        logLevel: argv.logLevel === 'info' ? 'warn' : argv.logLevel,
        logFormat: argv.logFormat as LogFormat,
        rescanSeconds: argv.rescanSeconds,
        maxConnections: argv.maxConnections,
        banner: (url) =>
          `maildir-imapd demo ready on ${url}  (user demo, password demo)\n` +
          `  read message 1:   curl '${url}/INBOX;UID=1' -u demo:demo\n` +
          `  watch the push:   an IDLE client sees new mail the moment you run\n` +
          `                    cp ${path.relative(process.cwd(), demo.sampleFile)} ${path.relative(process.cwd(), demo.inbox)}/new/$(date +%s).demo\n`,
      });
    },
  )
  .demandCommand(1, 'Name a command: serve or demo')
  .strict()
  .help()
  .parseAsync();
