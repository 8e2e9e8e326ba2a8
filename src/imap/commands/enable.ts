// ENABLE (RFC 5161). Extensions that need enabling add their name to
// ENABLABLE; a session's enabled set is read with enabledOf(conn).
import { BadError } from '../errors.js';
import type { Connection } from '../connection.js';
import { AUTHED, type Command } from './types.js';

/** Capability names a client may ENABLE (upper-case). None yet: CONDSTORE, UTF8=ACCEPT … add theirs. */
export const ENABLABLE = new Set<string>();

const enabled = new WeakMap<Connection, Set<string>>();

export function enabledOf(conn: Connection): ReadonlySet<string> {
  return enabled.get(conn) ?? new Set();
}

export const enable: Command = {
  names: ['ENABLE'],
  states: AUTHED,
  async run(ctx) {
    if (!ctx.args.length) throw new BadError('ENABLE: missing capability');
    let set = enabled.get(ctx.conn);
    if (!set) enabled.set(ctx.conn, (set = new Set()));
    const now: string[] = [];
    for (const t of ctx.args) {
      if (t.type !== 'atom') throw new BadError('ENABLE: expected capability names');
      const name = t.value.toUpperCase();
      if (ENABLABLE.has(name) && !set.has(name)) {
        set.add(name);
        now.push(name);
      }
    }
    ctx.conn.write(`* ENABLED${now.map((n) => ' ' + n).join('')}\r\n`);
  },
};
