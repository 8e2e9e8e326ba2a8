// How message files are opened: never through a symbolic link. A link planted
// in cur/ (to /etc/passwd, to another user's mail) must not be served as a
// message; the scan leaves links out, and this closes the window between a
// scan and an open.
import fs from 'node:fs';

export const READ_MESSAGE = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;

/** The same, for readFile and createReadStream, whose types want a string: Node takes the number there too. */
export const READ_MESSAGE_FLAG = READ_MESSAGE as unknown as string;
