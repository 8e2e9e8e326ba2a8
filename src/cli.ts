#!/usr/bin/env node
// maildir-imapd command line: thin, parses flags and calls in.
import yargs, { type Options } from 'yargs';
import { hideBin } from 'yargs/helpers';
import path from 'node:path';
import { createLogger } from './log.js';
import { ImapServer } from './server.js';
import { demoBanner, prepareDemo } from './demo.js';
import { ConfigError, KEYS, loadConfig, type Config } from './config.js';
import { UsersFileError } from './auth/passwd-file.js';

import { configOptions, configFileOption, flagValues } from './cli-options.js';
import { dropPrivileges } from './privileges.js';
import { runCheck } from './check/run.js';
import { LoopStats } from './loop-stats.js';
import { DEFAULT_HEAP_GROWTH, heapGrowthPercent, limitHeapGrowth, startIdleGc } from './runtime/idle-gc.js';
import { adminCommands } from './admin/cli.js';

async function serve(cfg: Config, banner?: (url: string) => string): Promise<void> {
  const log = createLogger(cfg.logLevel, cfg.logFormat);
  // One failed background task (a folder rescan, a file someone made unreadable) must not end
  // every user's session: log it loudly and keep serving.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled error in a background task'));
  const server = new ImapServer(cfg, log);
  new LoopStats(() => server.connectionCount, () => server.mailMemory()).onSignal(log);
  const growth = heapGrowthPercent(process.env.MAILDIR_IMAPD_HEAP_GROWTH);
  if (growth === null)
    log.warn({ MAILDIR_IMAPD_HEAP_GROWTH: process.env.MAILDIR_IMAPD_HEAP_GROWTH }, `MAILDIR_IMAPD_HEAP_GROWTH must be a whole number from 0 to 300 (percent); using ${DEFAULT_HEAP_GROWTH}`);
  limitHeapGrowth(growth ?? DEFAULT_HEAP_GROWTH);
  startIdleGc();
  const listeners = await server.listen();
  // Ports are bound; as root, become service.user before reading users or mail (the demo keeps the invoking user).
  const as = cfg.source === 'demo' ? null : dropPrivileges(cfg);
  if (as) log.info({ user: as.user, uid: as.uid, group: as.group, gid: as.gid }, 'dropped privileges');
  await server.open();
  const urls = listeners.map((l) => l.url);
  const lmtp = server.lmtpListeners.length ? { lmtp: server.lmtpListeners } : {};
  const managesieve = server.managesieveListeners.length ? { managesieve: server.managesieveListeners } : {};
  const quotaStatus = server.quotaStatusListeners.length ? { quotaStatus: server.quotaStatusListeners } : {};
  const sasl = server.saslListeners;
  log.info({ urls, ...lmtp, ...managesieve, ...quotaStatus, ...(sasl.length ? { sasl } : {}), users: server.users.size, maildir: cfg.maildir, config: cfg.source }, 'ready');
  const notes =
    (server.lmtpListeners.length ? `, LMTP on ${server.lmtpListeners.join(' ')}` : '') +
    (server.managesieveListeners.length ? `, ManageSieve on ${server.managesieveListeners.join(' ')}` : '') +
    (server.quotaStatusListeners.length ? `, quota policy on ${server.quotaStatusListeners.join(' ')}` : '') +
    (server.adminListener ? `, admin on ${server.adminListener}` : '') +
    (sasl.length ? `, Postfix SMTP AUTH (smtpd_sasl_type = dovecot) on ${sasl.map((w) => (w.startsWith('unix:') ? w : `inet:${w}`)).join(' ')}` : '');
  process.stderr.write(banner ? banner(urls[0]) : `maildir-imapd ready on ${urls.join(' ')}${notes} (${server.users.size} users from ${cfg.users})\n`);
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

/** Every command below, for the message shown when none is named. */
const COMMANDS = ['serve', 'check', 'demo', 'passwd', 'admin'];

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
        .option('log-format', { type: 'string', choices: ['json', 'pretty'], default: 'pretty' })
        .option('log-level', { type: 'string', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'debug', describe: 'debug shows each connection event and each push to an idling client' }),
    (argv) =>
      run(async () => {
        const demo = await prepareDemo(path.resolve(argv.dir));
        const cfg = await loadConfig(
          // No admin socket: the default one may belong to an installed server.
          { listen: [argv.listen], users: demo.usersFile, maildir: demo.maildirTemplate, 'log-level': argv.logLevel, 'log-format': argv.logFormat, 'admin-socket': '' },
          null,
        );
        await serve({ ...cfg, source: 'demo' }, (url) => demoBanner(url, demo, process.cwd()));
      }),
  )
  .command(
    'passwd [name]',
    'Ask for a password (twice, no echo; or one line on stdin) and print the users-file line name:{ARGON2ID}… (the secret alone without a name)',
    (y) =>
      y
        .positional('name', { type: 'string', describe: 'The login name, e.g. bob@example.org: `maildir-imapd passwd bob@example.org >> /etc/maildir-imapd/users`' })
        .check((argv) => {
          const name = argv.name;
          if (name !== undefined && (name === '' || /[:\s]/.test(name))) throw new Error(`maildir-imapd passwd: ${JSON.stringify(name)} cannot be a login name in a users file (no ':', spaces or line breaks)`);
          return true;
        }),
    async (argv) => {
      const { passwdCommand, PasswdError } = await import('./auth/passwd-command.js');
      await passwdCommand(undefined, undefined, undefined, argv.name === undefined ? '' : `${argv.name}:`).catch((err: Error) => {
        if (!(err instanceof PasswdError)) throw err;
        process.stderr.write(`maildir-imapd passwd: ${err.message}\n`);
        process.exitCode = 2;
      });
    },
  )
  .command('admin', 'Operator commands (as doveadm): who, kick, expunge, reindex, quota, sieve test', (y) => adminCommands(y))
  .demandCommand(1, `Name a command: ${COMMANDS.slice(0, -1).join(', ')} or ${COMMANDS.at(-1)} (maildir-imapd COMMAND --help shows its flags)`)
  .strict()
  .help()
  .parseAsync();
