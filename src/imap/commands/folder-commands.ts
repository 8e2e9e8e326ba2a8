// The commands of the "Complete IMAP" work: folders, APPEND, COPY/MOVE,
// UNSELECT, NAMESPACE, ID, ENABLE, COMPRESS (registered by index.ts).
import type { Command } from './types.js';
import { create } from './create.js';
import { del } from './delete.js';
import { rename } from './rename.js';
import { subscribe } from './subscribe.js';
import { append } from './append.js';
import { copy } from './copy.js';
import { unselect } from './unselect.js';
import { namespace } from './namespace.js';
import { id } from './id.js';
import { enable } from './enable.js';
import { compress } from './compress.js';

export const FOLDER_COMMANDS: Command[] = [create, del, rename, subscribe, append, copy, unselect, namespace, id, enable, compress];
