// Issue: "A Maildir that Dovecot has served keeps every UID, its UIDVALIDITY and
// every flag and keyword when we serve it, and the reverse. Test both directions
// against the real Dovecot." Both servers are driven with the same raw IMAP
// commands; what each reports for the same Maildir must match exactly, except
// \Recent (per-session by definition) and the order of flags inside FLAGS (...).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeMailTree, startServer, deliver, type MailTree } from '../support/server.js';
import { RawImap } from '../support/raw-imap.js';
import { startDovecot, dovecotAvailable, chownToVmail, type DovecotPeer } from '../support/dovecot.js';


/** A Postfix-like message: LF line endings, virtual(8)'s three prepended headers. */
function message(n: number, extra = ''): string {
  return (
    `Return-Path: <carol@example.org>\nX-Original-To: bob@localdomain\nDelivered-To: bob@localdomain\n` +
    `From: Carol <carol@example.org>\nTo: bob@localdomain\nSubject: interop ${n}\n` +
    `Date: Thu, 26 Nov 2026 08:0${n % 10}:00 +0000\nMessage-Id: <interop-${n}@example.org>\n` +
    `MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n` +
    `Message number ${n}.\n${'line of body text\n'.repeat(n)}${extra}`
  );
}
// 8-bit UTF-8 body bytes: BODY[] must come back byte-identical, not re-encoded.
const UTF8 = 'Grüße, naïve café — ✓\n';

/** A logged-in raw session with auto-tagging; every command must end in OK. */
class Session {
  private n = 0;
  private constructor(readonly raw: RawImap) {}
  static async open(port: number): Promise<Session> {
    const s = new Session(await RawImap.connect(port));
    await s.ok('LOGIN bob bob-pass');
    return s;
  }
  async ok(cmd: string): Promise<string> {
    const tag = `t${++this.n}`;
    const out = await this.raw.command(tag, cmd);
    assert.match(out, new RegExp(`(^|\\r\\n)${tag} OK`), `${cmd} -> ${out}`);
    return out;
  }
  /** NOOP until the server reports `* n EXISTS` (a server may take a moment to see new/). */
  async waitExists(n: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = '';
    for (;;) {
      seen += await this.ok('NOOP');
      if (new RegExp(`\\* ${n} EXISTS\\r\\n`).test(seen)) return;
      if (Date.now() > deadline) assert.fail(`never saw * ${n} EXISTS; got ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  close(): void {
    this.raw.close();
  }
}

interface Msg {
  seq: number;
  uid: number;
  flags: string[];
  size: number;
}
interface Facts {
  uidValidity: number;
  uidNext: number;
  exists: number;
  messages: Msg[];
  bodies: Map<number, string>; // uid -> BODY[] bytes (latin1, so 1 char = 1 byte)
}

/** Splits untagged FETCH responses, pulling out {n} literals byte-exactly. */
function parseFetches(out: string): Array<{ seq: number; text: string; literals: string[] }> {
  const res: Array<{ seq: number; text: string; literals: string[] }> = [];
  let i = 0;
  while (i < out.length) {
    let lineEnd = out.indexOf('\r\n', i);
    if (lineEnd < 0) break;
    const m = /^\* (\d+) FETCH /.exec(out.slice(i, lineEnd));
    if (!m) {
      i = lineEnd + 2;
      continue;
    }
    let text = '';
    const literals: string[] = [];
    for (;;) {
      const line = out.slice(i, lineEnd);
      const lit = /\{(\d+)\}$/.exec(line);
      text += line;
      if (!lit) break;
      const len = Number(lit[1]);
      literals.push(out.slice(lineEnd + 2, lineEnd + 2 + len));
      i = lineEnd + 2 + len;
      lineEnd = out.indexOf('\r\n', i);
    }
    i = lineEnd + 2;
    res.push({ seq: Number(m[1]), text, literals });
  }
  return res;
}

/** Flags as a set: \Recent dropped (each server gives it to its own first session), order ignored. */
const normFlags = (list: string) =>
  list
    .split(' ')
    .filter((f) => f && f.toLowerCase() !== '\\recent')
    .sort();

async function collect(s: Session): Promise<Facts> {
  const sel = await s.ok('SELECT INBOX');
  const num = (re: RegExp) => {
    const m = re.exec(sel);
    assert.ok(m, `${re} missing in ${sel}`);
    return Number(m[1]);
  };
  const facts: Facts = {
    uidValidity: num(/\[UIDVALIDITY (\d+)\]/),
    uidNext: num(/\[UIDNEXT (\d+)\]/),
    exists: num(/\* (\d+) EXISTS/),
    messages: [],
    bodies: new Map(),
  };
  for (const f of parseFetches(await s.ok('UID FETCH 1:* (UID FLAGS RFC822.SIZE)'))) {
    const uid = /\bUID (\d+)/.exec(f.text);
    const flags = /\bFLAGS \(([^)]*)\)/.exec(f.text);
    const size = /\bRFC822\.SIZE (\d+)/.exec(f.text);
    assert.ok(uid && flags && size, `incomplete FETCH: ${f.text}`);
    facts.messages.push({ seq: f.seq, uid: Number(uid[1]), flags: normFlags(flags[1]), size: Number(size[1]) });
  }
  for (const f of parseFetches(await s.ok('UID FETCH 1:* (UID BODY.PEEK[])'))) {
    const uid = /\bUID (\d+)/.exec(f.text);
    assert.ok(uid && f.literals.length === 1, `bad BODY[] response: ${f.text}`);
    facts.bodies.set(Number(uid[1]), f.literals[0]);
  }
  return facts;
}

/** Same mailbox, same answers: every UID, flag, size and BODY[] byte. */
function assertSameMailbox(ours: Facts, theirs: Facts, label: string): void {
  assert.equal(ours.uidValidity, theirs.uidValidity, `${label}: UIDVALIDITY`);
  assert.equal(ours.uidNext, theirs.uidNext, `${label}: UIDNEXT`);
  assert.equal(ours.exists, theirs.exists, `${label}: EXISTS`);
  assert.deepEqual(ours.messages, theirs.messages, `${label}: UID FETCH (UID FLAGS RFC822.SIZE)`);
  assert.deepEqual([...ours.bodies.keys()], [...theirs.bodies.keys()], `${label}: UIDs of BODY[]`);
  for (const [uid, body] of theirs.bodies) {
    // Compare as Buffers so a mismatch shows bytes, not a 1 KB string diff.
    assert.ok(Buffer.from(ours.bodies.get(uid)!, 'latin1').equals(Buffer.from(body, 'latin1')), `${label}: BODY[] of UID ${uid} differs`);
  }
  // RFC822.SIZE is the size of the CRLF form that BODY[] returns, on both servers.
  for (const f of [ours, theirs]) for (const m of f.messages) assert.equal(m.size, f.bodies.get(m.uid)!.length, `${label}: RFC822.SIZE of UID ${m.uid}`);
}

/** The flag changes both directions apply, by sequence number on a fresh 6-message INBOX. */
async function changeFlags(s: Session): Promise<void> {
  await s.ok('STORE 1 +FLAGS (\\Seen)');
  await s.ok('STORE 2 +FLAGS (\\Flagged \\Answered)');
  await s.ok('STORE 3 +FLAGS ($Forwarded custom1)');
  await s.ok('STORE 5 +FLAGS (\\Draft custom2 \\Seen)');
  // UID 4 goes away, so UIDs have a gap that neither side may close.
  await s.ok('STORE 4 +FLAGS (\\Deleted)');
  const exp = await s.ok('EXPUNGE');
  assert.match(exp, /\* 4 EXPUNGE\r\n/);
  // \Deleted without EXPUNGE must survive too.
  await s.ok('UID STORE 6 +FLAGS (\\Deleted custom1)');
}

/** pino lines at level error (50) or fatal (60). */
const serverErrors = (stdout: string) => stdout.split('\n').filter((l) => /"level":(5|6)\d\b/.test(l));

/** Cleanups run last-in first-out after the test, pass or fail: servers stop before their tree goes. */
function cleanups(t: TestContext): (fn: () => Promise<unknown>) => void {
  const stack: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const fn of stack.reverse()) await fn().catch((e: unknown) => errors.push(e));
    if (errors.length) throw errors[0];
  });
  return (fn) => stack.push(fn);
}

/** A temp tree both servers can use: vmail must traverse the 0700 mkdtemp dir. */
async function tree(onCleanup: (fn: () => Promise<unknown>) => void): Promise<{ tree: MailTree; mailRoot: string; stateDir: string }> {
  const tr = await makeMailTree('mimapd-interop-');
  onCleanup(() => fs.rm(tr.dir, { recursive: true, force: true }));
  await fs.chmod(tr.dir, 0o711);
  return { tree: tr, mailRoot: path.join(tr.dir, 'mail'), stateDir: path.join(tr.dir, 'dovecot') };
}

async function dovecot(onCleanup: (fn: () => Promise<unknown>) => void, mailRoot: string, stateDir: string): Promise<DovecotPeer> {
  const peer = await startDovecot({ mailRoot, stateDir });
  onCleanup(() => peer.stop());
  return peer;
}

test('a Maildir served by Dovecot keeps UIDs, UIDVALIDITY, flags and keywords when we serve it', { timeout: 30_000 }, async (t) => {
  if (!dovecotAvailable()) return t.skip('dovecot is not installed (apt-get install dovecot-imapd)');
  const onCleanup = cleanups(t);
  const { tree: tr, mailRoot, stateDir } = await tree(onCleanup);
  const bob = tr.maildir('bob');
  for (let n = 1; n <= 6; n++) await deliver(bob, message(n, n === 3 ? UTF8 : ''));

  const peer = await dovecot(onCleanup, mailRoot, stateDir);
  let theirs: Facts;
  try {
    const s = await Session.open(peer.port);
    try {
      await s.ok('SELECT INBOX'); // read-write: Dovecot moves new/ -> cur/:2, and assigns UIDs 1..6
      await changeFlags(s);
      // Two more arrive while Dovecot has the mailbox open (owned by vmail, as Postfix would leave them).
      await deliver(bob, message(7));
      await deliver(bob, message(8, UTF8));
      await chownToVmail(mailRoot);
      await s.waitExists(7);
      await s.ok('UID STORE 8 +FLAGS (\\Seen custom2)');
      await s.ok('LOGOUT');
    } finally {
      s.close();
    }
    const s2 = await Session.open(peer.port);
    try {
      theirs = await collect(s2);
    } finally {
      s2.close();
    }
  } catch (err) {
    t.diagnostic(`dovecot log:\n${await peer.log()}`);
    throw err;
  }
  // Sanity: the scenario is what we meant (gap at UID 4, keywords present).
  assert.deepEqual(
    theirs.messages.map((m) => m.uid),
    [1, 2, 3, 5, 6, 7, 8],
  );
  assert.equal(theirs.uidNext, 9);
  assert.deepEqual(theirs.messages[2]!.flags, ['$Forwarded', 'custom1']);
  await peer.stop(); // our server must not share the Maildir with a live Dovecot

  const ours = await startServer(tr);
  onCleanup(() => ours.stop());
  const s = await Session.open(ours.port);
  try {
    assertSameMailbox(await collect(s), theirs, 'Dovecot -> us');
    // We continue Dovecot's UID sequence: the next delivery gets its UIDNEXT, the gap stays.
    await deliver(bob, message(9));
    await s.waitExists(8);
    assert.match(await s.ok('FETCH 8 (UID)'), new RegExp(`\\* 8 FETCH \\(UID ${theirs.uidNext}\\)`));
  } finally {
    s.close();
  }
  assert.deepEqual(serverErrors(ours.stdout()), [], 'our server logged errors');
});

test('a Maildir served by us keeps UIDs, UIDVALIDITY, flags and keywords when Dovecot serves it', { timeout: 30_000 }, async (t) => {
  if (!dovecotAvailable()) return t.skip('dovecot is not installed (apt-get install dovecot-imapd)');
  const onCleanup = cleanups(t);
  const { tree: tr, mailRoot, stateDir } = await tree(onCleanup);
  const bob = tr.maildir('bob');
  for (let n = 1; n <= 6; n++) await deliver(bob, message(n, n === 2 ? UTF8 : ''));

  const ours = await startServer(tr);
  onCleanup(() => ours.stop());
  let mine: Facts;
  {
    const s = await Session.open(ours.port);
    try {
      await s.ok('SELECT INBOX');
      await changeFlags(s);
      // Deliveries while selected must get UIDs 7, 8 and be fetchable at once.
      await deliver(bob, message(7, UTF8));
      await deliver(bob, message(8));
      await s.waitExists(7);
      const fetched = await s.ok('UID FETCH 7:* (UID FLAGS)');
      assert.match(fetched, /\* 6 FETCH \(UID 7 FLAGS \(/);
      assert.match(fetched, /\* 7 FETCH \(UID 8 FLAGS \(/);
      await s.ok('UID STORE 8 +FLAGS (\\Seen custom2)');
      await s.ok('LOGOUT');
    } finally {
      s.close();
    }
    const s2 = await Session.open(ours.port);
    try {
      mine = await collect(s2);
    } finally {
      s2.close();
    }
  }
  assert.deepEqual(
    mine.messages.map((m) => m.uid),
    [1, 2, 3, 5, 6, 7, 8],
  );
  await ours.stop(); // Dovecot must not share the Maildir with our live server

  // Our server runs as root, so the files it wrote are root's; Dovecot runs as vmail.
  await chownToVmail(mailRoot);
  const peer = await dovecot(onCleanup, mailRoot, stateDir);
  try {
    const s = await Session.open(peer.port);
    try {
      const theirs = await collect(s);
      assertSameMailbox(mine, theirs, 'us -> Dovecot');
      // The next delivery gets our UIDNEXT: Dovecot continues our UID sequence, no reuse.
      await deliver(bob, message(9));
      await chownToVmail(mailRoot);
      await s.waitExists(8);
      const next = await s.ok('FETCH 8 (UID)');
      assert.match(next, new RegExp(`\\* 8 FETCH \\(UID ${mine.uidNext}\\)`));
      const st = await s.ok('STATUS INBOX (UIDNEXT UIDVALIDITY)');
      assert.match(st, new RegExp(`UIDNEXT ${mine.uidNext + 1}\\b`));
      assert.match(st, new RegExp(`UIDVALIDITY ${mine.uidValidity}\\b`));
      // Dovecot complains in its log about a uidlist or keywords file it finds broken.
      const complaints = (await peer.log()).split('\n').filter((l) => /\b(Error|Warning|Panic|Fatal):/.test(l));
      assert.deepEqual(complaints, [], 'Dovecot logged problems with our Maildir');
    } finally {
      s.close();
    }
  } catch (err) {
    t.diagnostic(`dovecot log:\n${await peer.log()}`);
    throw err;
  }
});
