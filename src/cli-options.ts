// The yargs options shared by every command that reads the Config (serve, check):
// one option per config key, none with a default, so an unset flag leaves the
// config file's value alone.
import type { Options } from 'yargs';
import { KEYS } from './config.js';

export const configOptions: Record<string, Options> = Object.fromEntries(
  KEYS.map((k) => [
    k.flag,
    {
      describe: `${k.describe} [${k.key}]`,
      type: k.kind === 'number' ? 'number' : k.kind === 'boolean' ? 'boolean' : k.kind === 'strings' || k.kind === 'listens' || k.kind === 'paths' || k.kind === 'ages' ? 'array' : 'string',
      group: 'Settings (override the config file):',
    } satisfies Options,
  ]),
);

export const configFileOption: Options = {
  type: 'string',
  describe: 'TOML config file (default /etc/maildir-imapd/config.toml if it exists)',
};

/** The flag values yargs parsed, by flag name, for loadConfig(). */
/** CLI values by flag; a single-valued flag given twice keeps the last, as command lines usually do. */
export function flagValues(argv: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    KEYS.map((k) => {
      const v = argv[k.flag];
      const list = k.kind === 'strings' || k.kind === 'cidrs' || k.kind === 'listens' || k.kind === 'paths' || k.kind === 'ages';
      return [k.flag, !list && Array.isArray(v) ? v[v.length - 1] : v];
    }),
  );
}
