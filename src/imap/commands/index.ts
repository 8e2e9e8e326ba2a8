// The command table: one file per command.
import type { Command } from './types.js';
import { capability } from './capability.js';
import { starttls } from './starttls.js';
import { noop, check } from './noop.js';
import { logout } from './logout.js';
import { login } from './login.js';
import { authenticate } from './authenticate.js';
import { unauthenticate } from './unauthenticate.js';
import { select } from './select.js';
import { list } from './list.js';
import { status } from './status.js';
import { close } from './close.js';
import { expunge } from './expunge.js';
import { fetch } from './fetch.js';
import { store } from './store.js';
import { idle } from './idle.js';
import { getquota } from './getquota.js';
import { getquotaroot } from './getquotaroot.js';
import { setquota } from './setquota.js';
import { SEARCH_COMMANDS } from './search.js';
import { FOLDER_COMMANDS } from './folder-commands.js';
import { replace } from './replace.js';
import { notify } from './notify.js';

export type { CommandContext, Command } from './types.js';

const ALL: Command[] = [capability, starttls, noop, check, logout, login, authenticate, unauthenticate, select, list, status, close, expunge, fetch, store, idle, getquota, getquotaroot, setquota];

ALL.push(...SEARCH_COMMANDS);
ALL.push(...FOLDER_COMMANDS);
ALL.push(replace); // RFC 8508
ALL.push(notify); // RFC 5465

export const COMMANDS = new Map<string, Command>(ALL.flatMap((c) => c.names.map((n) => [n, c] as const)));
