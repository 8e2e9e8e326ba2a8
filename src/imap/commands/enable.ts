// ENABLE (RFC 5161). Extensions that need enabling add their name to
// ENABLABLE; a session's enabled set is read with enabledOf(conn).
import { BadError } from '../../wire/errors.js';
import type { Connection } from '../connection.js';
import { AUTHED, type Command } from './types.js';

/** Capability names a client may ENABLE (upper-case). */
export const ENABLABLE = new Set<string>(['CONDSTORE', 'QRESYNC']);

const enabled = new WeakMap<Connection, Set<string>>();

export function enabledOf(conn: Connection): ReadonlySet<string> {
  return enabled.get(conn) ?? new Set();
}

/** Turns an extension on for a session without ENABLE (RFC 7162 §3.1: a CONDSTORE-enabling command does). */
export function enableFor(conn: Connection, name: string): void {
  let set = enabled.get(conn);
  if (!set) enabled.set(conn, (set = new Set()));
  set.add(name);
  if (name === 'QRESYNC') set.add('CONDSTORE'); // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE
}

/** Whether the session has CONDSTORE / QRESYNC on. */
export function syncState(conn: Connection): { condstore: boolean; qresync: boolean } {
  const set = enabled.get(conn);
  return { condstore: !!set?.has('CONDSTORE'), qresync: !!set?.has('QRESYNC') };
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
        enableFor(ctx.conn, name);
        now.push(name);
      }
    }
    ctx.conn.write(`* ENABLED${now.map((n) => ' ' + n).join('')}\r\n`);
  },
};
