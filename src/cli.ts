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

import { configOptions, configFileOption, flagValues } from './cli-options.js';
import { dropPrivileges } from './privileges.js';
import { runCheck } from './check/run.js';
import { LoopStats } from './loop-stats.js';

async function serve(cfg: Config, banner?: (url: string) => string): Promise<void> {
  const log = createLogger(cfg.logLevel, cfg.logFormat);
  // One failed background task (a folder rescan, a file someone made unreadable) must not end
  // every user's session: log it loudly and keep serving.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled error in a background task'));
  const server = new ImapServer(cfg, log);
  new LoopStats(() => server.connectionCount).onSignal(log);
  const listeners = await server.listen();
  // Ports are bound; as root, become service.user before reading users or mail (the demo keeps the invoking user).
  const as = cfg.source === 'demo' ? null : dropPrivileges(cfg);
  if (as) log.info({ user: as.user, uid: as.uid, group: as.group, gid: as.gid }, 'dropped privileges');
  await server.open();
  const urls = listeners.map((l) => l.url);
  const sasl = server.saslListeners;
  log.info({ urls, ...(sasl.length ? { sasl } : {}), users: server.users.size, maildir: cfg.maildir, config: cfg.source }, 'ready');
  const saslText = sasl.length ? `; Postfix SMTP AUTH (smtpd_sasl_type = dovecot) on ${sasl.map((w) => (w.startsWith('unix:') ? w : `inet:${w}`)).join(' ')}` : '';
  process.stderr.write(banner ? banner(urls[0]) : `maildir-imapd ready on ${urls.join(' ')}${saslText} (${server.users.size} users from ${cfg.users})\n`);
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
  process.on('SIGHUP', () => void server.reload()); // re-read the TLS certificate (and not die: SIGHUP's default)
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
      process.stderr.write(`maildir-imapd: cannot listen on ${e.address}${e.port !== undefined ? `:${e.port}` : ''}: ${e.code === 'EADDRINUSE' ? 'address already in use' : 'permission denied'}\n`);
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
    'check',
    'Check config, users file, Maildirs, TLS files and Postfix delivery; print each problem with its fix',
    (y) =>
      y
        .option('config', configFileOption)
        .option('postconf-dir', { type: 'string', describe: 'Check this Postfix config directory (postconf -c DIR) instead of the system one' })
        .options(configOptions),
    async (argv) => {
      process.exitCode = await runCheck({ flags: flagValues(argv), configFile: argv.config as string | undefined, postconfDir: argv['postconf-dir'] as string | undefined });
    },
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
  .command(
    'passwd',
    'Ask for a password (twice, no echo; or one line on stdin) and print its {ARGON2ID} line for the users file',
    (y) => y,
    async () => {
      const { passwdCommand, PasswdError } = await import('./auth/passwd-command.js');
      await passwdCommand().catch((err: Error) => {
        if (!(err instanceof PasswdError)) throw err;
        process.stderr.write(`maildir-imapd passwd: ${err.message}\n`);
        process.exitCode = 2;
      });
    },
  )
  .demandCommand(1, 'Name a command: serve or demo')
  .strict()
  .help()
  .parseAsync();
