// pino root logger: JSON lines on stdout (journald reads them), or a readable
// pretty form, also one line per event (time, level, message, then the fields
// as compact JSON). Quiet by default: one line per connection event.
import pino, { type Logger } from 'pino';

export type LogFormat = 'json' | 'pretty';

export function createLogger(level: string, format: LogFormat): Logger {
  if (format === 'pretty') {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true } },
    });
  }
  return pino({ level, base: { pid: process.pid } });
}

export type { Logger };
