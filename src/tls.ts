// The TLS certificate: read from the PEM files at start, and read again when
// they change or on SIGHUP, without dropping anyone: a reload only changes
// what the next handshake uses.
import { promises as fs, watch as fsWatch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { ConfigError } from './config.js';

/** TLS 1.0 and 1.1 are deprecated (RFC 8996). */
export const MIN_TLS_VERSION = 'TLSv1.2';

/** certbot renews by re-pointing several live/ symlinks one after the other: wait for it to finish. */
const SETTLE_MS = 300;

export class Certificates {
  private opts: tls.SecureContextOptions;
  private ctx: tls.SecureContext;
  private watchers: FSWatcher[] = [];
  private settle: NodeJS.Timeout | null = null;
  private readonly listeners: Array<() => void> = [];

  private constructor(
    readonly certFile: string,
    readonly keyFile: string,
    private readonly log: Logger,
    loaded: { opts: tls.SecureContextOptions; ctx: tls.SecureContext },
  ) {
    this.opts = loaded.opts;
    this.ctx = loaded.ctx;
  }

  /** Reads both files; a missing file or a key that does not match the certificate is the operator's to fix. */
  static async load(certFile: string, keyFile: string, log: Logger): Promise<Certificates> {
    let loaded;
    try {
      loaded = await read(certFile, keyFile);
    } catch (err) {
      throw new ConfigError(`cannot use tls.cert ${certFile} with tls.key ${keyFile}: ${(err as Error).message}`);
    }
    const certs = new Certificates(certFile, keyFile, log, loaded);
    log.info({ cert: certFile, ...describe(loaded.opts.cert as Buffer) }, 'tls certificate loaded');
    return certs;
  }

  /** For new STARTTLS handshakes. */
  get context(): tls.SecureContext {
    return this.ctx;
  }

  /** For tls.Server (createServer / setSecureContext take options, not a context). */
  get options(): tls.SecureContextOptions {
    return this.opts;
  }

  onReload(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** Reads the files again; on any error the previous certificate stays in use. */
  async reload(reason: string): Promise<void> {
    let loaded;
    try {
      loaded = await read(this.certFile, this.keyFile);
    } catch (err) {
      // After the privilege drop the service user must be able to read both files.
      this.log.error({ reason, cert: this.certFile, key: this.keyFile, err: (err as Error).message }, 'tls certificate not reloaded; keeping the previous one');
      return;
    }
    if (same(loaded.opts, this.opts)) {
      // An operator who sent SIGHUP wants an answer; a watcher event on an unrelated write does not.
      this.log[reason === 'SIGHUP' ? 'info' : 'debug']({ reason, cert: this.certFile }, 'tls certificate unchanged');
      return;
    }
    this.opts = loaded.opts;
    this.ctx = loaded.ctx;
    for (const fn of this.listeners) fn();
    this.log.info({ reason, cert: this.certFile, ...describe(loaded.opts.cert as Buffer) }, 'tls certificate reloaded');
  }

  /**
   * Watches the directories that hold the files, not the files: certbot
   * replaces the live/ symlinks by rename, which a watch on the old link
   * never reports. A plain fs.watch per directory: chokidar, closed right
   * after the directory was deleted, could leave an fs.watch handle open
   * that nothing would ever close (it kept a test process alive, 1 run in
   * 5-8). Watching never keeps the process alive by itself.
   */
  async watch(): Promise<void> {
    const files = new Set([path.resolve(this.certFile), path.resolve(this.keyFile)]);
    const dirs = [...new Set([...files].map((f) => path.dirname(f)))];
    for (const dir of dirs) {
      let watcher: FSWatcher;
      try {
        watcher = fsWatch(dir, { persistent: false }, (_event, name) => {
          // No name (some file systems): any change in the directory may be ours.
          if (name && !files.has(path.join(dir, name.toString()))) return;
          if (this.settle) clearTimeout(this.settle);
          this.settle = setTimeout(() => {
            this.settle = null;
            void this.reload('file changed');
          }, SETTLE_MS);
          this.settle.unref();
        });
      } catch (err) {
        this.log.warn({ err: (err as Error).message, dir }, 'cannot watch the tls files; SIGHUP still reloads them');
        continue;
      }
      // The directory went away (or the watch broke): SIGHUP still reloads.
      watcher.on('error', (err) => {
        this.log.warn({ err: err.message, dir }, 'cannot watch the tls files any more; SIGHUP still reloads them');
        watcher.close();
      });
      this.watchers.push(watcher);
    }
  }

  async close(): Promise<void> {
    if (this.settle) clearTimeout(this.settle);
    this.settle = null;
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}

async function read(certFile: string, keyFile: string): Promise<{ opts: tls.SecureContextOptions; ctx: tls.SecureContext }> {
  const [cert, key] = await Promise.all([fs.readFile(certFile), fs.readFile(keyFile)]);
  const opts: tls.SecureContextOptions = { cert, key, minVersion: MIN_TLS_VERSION };
  return { opts, ctx: tls.createSecureContext(opts) }; // throws when the key does not match
}

function same(a: tls.SecureContextOptions, b: tls.SecureContextOptions): boolean {
  return (a.cert as Buffer).equals(b.cert as Buffer) && (a.key as Buffer).equals(b.key as Buffer);
}

/** What an operator wants in the log: which certificate, until when. */
function describe(chain: Buffer): { subject?: string; validTo?: string; fingerprint256?: string } {
  try {
    const x = new X509Certificate(chain);
    return { subject: x.subject, validTo: x.validTo, fingerprint256: x.fingerprint256 };
  } catch {
    return {};
  }
}
