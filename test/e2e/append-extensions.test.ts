// MULTIAPPEND (RFC 3502) and APPEND of a literal8 (RFC 3516 §4.4) against the
// real server process, and the same raw commands against Dovecot 2.3: the
// shape of every reply must match (UIDVALIDITY values and texts aside).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';
import { startDovecot, dovecotAvailable } from '../support/dovecot.js';

const MSG = (n: number) => `From: a@example.org\r\nSubject: m${n}\r\n\r\nbody ${n}\r\n`;
const lit = (s: string | Buffer) => `{${Buffer.byteLength(s)}+}\r\n${s}`;
const BIN = 'Subject: bin\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\na\x00b\x00c\r\n';

/** The commands both servers get, in order. */
const SCRIPT = [
  'LOGIN bob bob-pass',
  'SELECT INBOX',
  // RFC 3502 §6.3.11: several messages, APPENDUID with a uid-set (RFC 4315 §3).
  `APPEND INBOX (\\Seen) "05-Mar-2024 10:00:00 +0100" ${lit(MSG(1))} (\\Flagged) ${lit(MSG(2))}`,
  // All or none: the zero-byte second message fails the first one too.
  `APPEND INBOX ${lit(MSG(3))} {0+}\r\n`,
  `APPEND Nowhere ${lit(MSG(3))} ${lit(MSG(4))}`,
  'STATUS INBOX (MESSAGES UIDNEXT)',
  // RFC 3516 §4.4: APPEND with a literal8 holding NUL bytes, then one more message.
  `APPEND INBOX ~${lit(BIN)} ${lit(MSG(5))}`,
  'NOOP',
  // RFC822.SIZE is left out: Dovecot re-encodes a saved binary part holding NUL as base64 (103 bytes for BIN), we keep the bytes.
  'UID FETCH 1:* (UID FLAGS)',
  'STATUS INBOX (MESSAGES UIDNEXT)',
];

/** What must match: each reply with UIDVALIDITY values, texts after OK/NO/BAD and the order of flags made neutral. */
function shape(reply: string): string {
  return reply
    // Dovecot's hint on STATUS of the selected folder (RFC 3501 §6.3.10 SHOULD NOT), outside what is compared here.
    .replace(/ OK \[CLIENTBUG\]/g, ' OK')
    .replace(/APPENDUID \d+ /g, 'APPENDUID V ')
    .replace(/\[UIDVALIDITY \d+\]/g, '[UIDVALIDITY V]')
    .replace(/^(\S+ (?:OK|NO|BAD))(?: \[([A-Z-]+)[^\]]*\])?[^\r]*/gm, (_, head: string, code?: string) => (code ? `${head} [${code}]` : head))
    .replace(/^\* (OK|NO) \[([A-Z-]+)[^\]]*\][^\r]*/gm, '* $1 [$2]')
    .replace(/FLAGS \(([^)]*)\)/g, (_, f: string) => `FLAGS (${f.split(' ').sort().join(' ')})`);
}

const FORWARD = 'From: a@example.org\r\nSubject: orig\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n--b--\r\n';

/** RFC 4469 §5: CATENATE from TEXT and URL parts (UIDVALIDITY differs between the servers, so the URLs leave it out). */
const CATENATE_SCRIPT = [
  'LOGIN bob bob-pass',
  'SELECT INBOX',
  `APPEND INBOX ${lit(FORWARD)}`,
  `APPEND INBOX (\\Seen) CATENATE (TEXT ${lit('Subject: fwd\r\n\r\n')} URL "/INBOX/;UID=1/;SECTION=1" URL ";UID=1/;SECTION=HEADER.FIELDS%20(SUBJECT)" TEXT ${lit('end\r\n')})`,
  'APPEND INBOX CATENATE (URL "/INBOX/;UID=1/;SECTION=1/;PARTIAL=2.4")',
  `APPEND INBOX CATENATE (TEXT ${lit('x\r\n')} URL "/INBOX/;UID=9")`,
  'APPEND INBOX CATENATE (URL "/Nowhere/;UID=1")',
  'UID FETCH 2:* (FLAGS BODY.PEEK[])',
  'STATUS INBOX (MESSAGES UIDNEXT)',
];

async function runScript(port: number, script = SCRIPT): Promise<string[]> {
  const c = await RawImap.connect(port);
  try {
    const out: string[] = [];
    for (const [i, cmd] of script.entries()) out.push(await c.command(`s${i}`, cmd));
    return out;
  } finally {
    c.close();
  }
}

async function ours(t: TestContext): Promise<number> {
  const tree = await makeMailTree('mimapd-append-');
  const server = await startServer(tree);
  t.after(async () => {
    await server.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  return server.port;
}

test('end to end: MULTIAPPEND and a literal8 APPEND on the real server (RFC 3502 §6.3.11, RFC 3516 §4.4)', { timeout: 60_000 }, async (t) => {
  const port = await ours(t);
  const out = await runScript(port);
  assert.match(out[2]!, /^s2 OK \[APPENDUID \d+ 1:2\] /m);
  assert.match(out[3]!, /^s3 NO /m);
  assert.match(out[4]!, /^s4 NO \[TRYCREATE\] /m);
  assert.match(out[5]!, /STATUS INBOX \(MESSAGES 2 UIDNEXT 3\)/, 'the failed MULTIAPPEND saved nothing and used no UID');
  assert.match(out[6]!, /^s6 OK \[APPENDUID \d+ 3:4\] /m);
  assert.match(out[8]!, /UID 3 FLAGS \(\\Recent\)\)/, '\\Recent for every message of the MULTIAPPEND');
  const c = await RawImap.connect(port);
  t.after(() => c.close());
  await c.command('f1', 'LOGIN bob bob-pass');
  await c.command('f2', 'EXAMINE INBOX');
  assert.match(await c.command('f3', 'UID FETCH 3 RFC822.SIZE'), new RegExp(`RFC822.SIZE ${BIN.length}\\)`), 'the literal8 saved as sent, NUL bytes and all');
});

test('differential: the same MULTIAPPEND / literal8 APPEND script gives replies of the same shape as Dovecot 2.3', { timeout: 90_000 }, async (t) => {
  if (!dovecotAvailable()) return t.skip('dovecot is not installed (apt-get install dovecot-imapd)');
  const tree = await makeMailTree('mimapd-append-dv-');
  await fs.chmod(tree.dir, 0o711);
  const peer = await startDovecot({ mailRoot: path.join(tree.dir, 'mail'), stateDir: path.join(tree.dir, 'dovecot') });
  t.after(async () => {
    await peer.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const theirs = (await runScript(peer.port)).map(shape);
  const mine = (await runScript(await ours(t))).map(shape);
  for (let i = 2; i < SCRIPT.length; i++) assert.equal(mine[i], theirs[i], `${JSON.stringify(SCRIPT[i]!.slice(0, 60))}`);
});

test('end to end: REPLACE and UID REPLACE on the real server (RFC 8508 §3.4; Dovecot 2.3 has no REPLACE to compare with)', { timeout: 60_000 }, async (t) => {
  const c = await RawImap.connect(await ours(t));
  t.after(() => c.close());
  await c.command('r1', 'LOGIN bob bob-pass');
  await c.command('r2', 'SELECT Drafts');
  assert.match(await c.command('r3', `APPEND Drafts (\\Draft) ${lit(MSG(1))} (\\Draft) ${lit(MSG(2))}`), /^r3 OK \[APPENDUID (\d+) 1:2\] /m);
  const validity = /APPENDUID (\d+) 3\]/.exec(await c.command('r4', `REPLACE 1 Drafts (\\Draft \\Seen) ${lit(MSG(3))}`));
  assert.ok(validity, 'the replacement gets UID 3');
  assert.match(await c.command('r5', `UID REPLACE 2 INBOX ${lit(MSG(4))}`), /^\* OK \[APPENDUID \d+ 1\] Replacement Message ready\r\n\* 1 EXPUNGE\r\nr5 OK Replace completed/m);
  assert.match(await c.command('r6', 'UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])'), /^\* 1 FETCH \(UID 3 FLAGS \([^)]*\\Seen[^)]*\) BODY\[HEADER.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: m3\r\n\r\n\)\r\nr6 OK /m);
  assert.match(await c.command('r7', 'STATUS INBOX (MESSAGES)'), /MESSAGES 1\)/);
});

test('CATENATE on the real server, and differential against Dovecot 2.3: same replies, same bytes (RFC 4469 §5, §6)', { timeout: 90_000 }, async (t) => {
  const mine = await runScript(await ours(t), CATENATE_SCRIPT);
  assert.match(mine[3]!, /^s3 OK \[APPENDUID \d+ 2\] /m);
  assert.match(mine[7]!, /BODY\[\] \{48\}\r\nSubject: fwd\r\n\r\nfirst partSubject: orig\r\n\r\nend\r\n\)/);
  assert.match(mine[5]!, /^s5 NO \[BADURL \/INBOX\/;UID=9\] /m);
  if (!dovecotAvailable()) return t.skip('dovecot is not installed (apt-get install dovecot-imapd)');
  const tree = await makeMailTree('mimapd-catenate-dv-');
  await fs.chmod(tree.dir, 0o711);
  const peer = await startDovecot({ mailRoot: path.join(tree.dir, 'mail'), stateDir: path.join(tree.dir, 'dovecot') });
  t.after(async () => {
    await peer.stop();
    await fs.rm(tree.dir, { recursive: true, force: true });
  });
  const theirs = (await runScript(peer.port, CATENATE_SCRIPT)).map(shape);
  for (let i = 2; i < CATENATE_SCRIPT.length; i++) assert.equal(shape(mine[i]!), theirs[i], JSON.stringify(CATENATE_SCRIPT[i]!.slice(0, 70)));
});
