#!/usr/bin/env node
// maildir-imapd command line: thin, parses flags and calls in.
import yargs, { type Options } from 'yargs';
import { hideBin } from 'yargs/helpers';
import path from 'node:path';
import { createLogger } from './log.js';
import { ImapServer } from './server.js';
import { prepareDemo } from './demo.js';
import { ConfigError, KEYS, loadConfig, type Config } from './config.js';
import { UsersFileError } from './auth/passwd-file.js';

/** One yargs option per config key, none with a default: unset flags leave the file's value alone. */
const configOptions: Record<string, Options> = Object.fromEntries(
  KEYS.map((k) => [
    k.flag,
    {
      describe: `${k.describe} [${k.key}]`,
      type: k.kind === 'number' ? 'number' : k.kind === 'boolean' ? 'boolean' : k.kind === 'strings' ? 'array' : 'string',
      group: 'Settings (override the config file):',
    } satisfies Options,
  ]),
);

function flagValues(argv: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(KEYS.map((k) => [k.flag, argv[k.flag]]));
}

async function serve(cfg: Config, banner?: (url: string) => string): Promise<void> {
  const log = createLogger(cfg.logLevel, cfg.logFormat);
  const server = new ImapServer(cfg, log);
  const listeners = await server.start();
  const urls = listeners.map((l) => l.url);
  log.info({ urls, users: server.users.size, maildir: cfg.maildir, config: cfg.source }, 'ready');
  process.stderr.write(banner ? banner(urls[0]) : `maildir-imapd ready on ${urls.join(' ')} (${server.users.size} users from ${cfg.users})\n`);
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

/** Configuration mistakes are the operator's to fix: say which key and file, no stack trace. */
async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsersFileError) {
      process.stderr.write(`maildir-imapd: ${(err as Error).message}\n`);
      process.exit(2);
    }
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' || (err as NodeJS.ErrnoException).code === 'EACCES') {
      const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
      process.stderr.write(`maildir-imapd: cannot listen on ${e.address}:${e.port}: ${e.code === 'EADDRINUSE' ? 'address already in use' : 'permission denied'}\n`);
      process.exit(2);
    }
    throw err;
  }
}

await yargs(hideBin(process.argv))
  .scriptName('maildir-imapd')
  .command(
    'serve',
    'Serve Maildirs over IMAP',
    (y) => y.option('config', { type: 'string', describe: 'TOML config file (default /etc/maildir-imapd/config.toml if it exists)' }).options(configOptions),
    (argv) => run(async () => serve(await loadConfig(flagValues(argv), argv.config as string | undefined))),
  )
  .command(
    'demo',
    'Serve a demo Maildir (user demo, password demo) on 127.0.0.1:1143',
    (y) =>
      y
        .option('dir', { type: 'string', default: 'demo', describe: 'Where the demo mail lives' })
        .option('listen', { type: 'string', default: '127.0.0.1:1143' })
        .option('log-format', { type: 'string', choices: ['json', 'pretty'], default: 'pretty' }),
    (argv) =>
      run(async () => {
        const demo = await prepareDemo(path.resolve(argv.dir));
        const cfg = await loadConfig(
          { listen: [argv.listen], users: demo.usersFile, maildir: demo.maildirTemplate, 'log-level': 'warn', 'log-format': argv.logFormat },
          null,
        );
        await serve({ ...cfg, source: 'demo' }, (url) =>
          `maildir-imapd demo ready on ${url}  (user demo, password demo)\n` +
          `  read message 1:   curl '${url}/INBOX;UID=1' -u demo:demo\n` +
          `  watch the push:   an IDLE client sees new mail the moment you run\n` +
          `                    cp ${path.relative(process.cwd(), demo.sampleFile)} ${path.relative(process.cwd(), demo.inbox)}/new/$(date +%s).demo\n`,
        );
      }),
  )
  .demandCommand(1, 'Name a command: serve or demo')
  .strict()
  .help()
  .parseAsync();
