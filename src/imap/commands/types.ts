import type { Connection, ConnState } from '../connection.js';
import type { Token } from '../../wire/parser.js';

export interface CommandContext {
  conn: Connection;
  tag: string;
  /** Upper-cased; for "UID FETCH" this is FETCH and `uid` is true. */
  name: string;
  args: Token[];
  uid: boolean;
}

/** What the tagged OK carries; 'done' means the command wrote its own tagged reply. */
export type CommandResult = { code?: string; text?: string } | 'done' | void;

export interface Command {
  names: string[];
  states: ConnState[];
  /** Whether "UID <name>" exists. */
  uid?: boolean;
  run(ctx: CommandContext): Promise<CommandResult>;
}

export const AUTHED: ConnState[] = ['auth', 'selected'];
export const SELECTED: ConnState[] = ['selected'];
export const ANY: ConnState[] = ['notauth', 'auth', 'selected'];
