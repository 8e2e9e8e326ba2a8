// The in-process fuzz targets: the framer, the tokenizer, every command's
// argument parsers, and the message parsers behind FETCH ENVELOPE and
// BODYSTRUCTURE. Pure code, so each input's verdict is exact:
//  - only the errors that become a tagged BAD/NO may be thrown
//    (ParseError, BadError, NoError, MailError, Mutf7Error);
//  - framing the bytes in one piece, or in random pieces with hold/release,
//    gives the same commands, continuations and errors;
//  - the framer never holds more than its limits allow;
//  - every input finishes in time (the caller watches the clock).
import { isDeepStrictEqual } from 'node:util';
import { Rng } from './prng.js';
import { SEEDS, serialize, SIMPLE_MESSAGE, MULTIPART_MESSAGE, manyAddressMessage, deepMimeMessage, manyHeadersMessage } from './corpus.js';
import { mutate, damage } from './mutate.js';
import { CommandFramer, DEFAULT_LIMITS, PREAUTH_LIMITS, parseCommand, ParseError, type FramedCommand, type FrameError, type LiteralSink, type ParserLimits, type Token } from '../../src/wire/parser.js';
import { BadError, NoError } from '../../src/wire/errors.js';
import { ArgReader, flagList } from '../../src/wire/args.js';
import { parseSequenceSet, resolveSeqs, resolveUids } from '../../src/wire/sequence-set.js';
import { charsetAndCriteria } from '../../src/wire/search-criteria.js';
import { ListPattern } from '../../src/wire/list-pattern.js';
import { decodeMutf7, isValidMutf7, Mutf7Error } from '../../src/wire/mutf7.js';
import { summarize } from '../../src/wire/summary.js';
import { parseMime } from '../../src/wire/mime.js';
import { envelope } from '../../src/wire/envelope.js';
import { bodystructure } from '../../src/wire/bodystructure.js';
import { encodeToString } from '../../src/wire/encoder.js';
import { parseFetchItems } from '../../src/imap/fetch/items.js';
import { statusItems } from '../../src/imap/commands/status.js';
import { parseDateTime } from '../../src/imap/commands/append.js';
import { parseSortCriteria } from '../../src/imap/search/sort.js';
import { checkName, normalizeName, MailError } from '../../src/mail/api.js';

/** Inputs slower than this are counted (a parser should take microseconds; the largest inputs a few ms). */
export const SLOW_MS = 100;

/** What one input did wrong; null when it passed. */
export interface Verdict {
  kind: 'crash' | 'mismatch' | 'memory';
  message: string;
}

/** Errors that are a tagged BAD or NO, never the end of a session. */
function allowed(err: unknown): boolean {
  return err instanceof ParseError || err instanceof BadError || err instanceof NoError || err instanceof MailError || err instanceof Mutf7Error;
}

class Unexpected extends Error {
  constructor(
    readonly where: string,
    override readonly cause: unknown,
  ) {
    super(`${where}: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`);
  }
}

function guard<T>(where: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (allowed(err)) return undefined;
    throw new Unexpected(where, err);
  }
}

type Event = ['cmd', unknown] | ['cont'] | ['err', FrameError] | ['sink', string, number];

/** A streamed literal's sink that only counts, and checks it is used as promised. */
class CountingSink implements LiteralSink {
  written = 0;
  state: 'open' | 'finished' | 'discarded' = 'open';
  constructor(
    readonly size: number,
    readonly problems: string[],
  ) {}
  write(chunk: Buffer): void {
    if (this.state !== 'open') this.problems.push(`sink written after ${this.state}`);
    this.written += chunk.length;
    if (this.written > this.size) this.problems.push(`sink got ${this.written} bytes of a ${this.size}-byte literal`);
  }
  finish(): void {
    if (this.written !== this.size) this.problems.push(`sink finished at ${this.written} of ${this.size} bytes`);
    this.state = 'finished';
  }
  discard(): void {
    this.state = 'discarded';
  }
}

function frameAll(input: Buffer, limits: ParserLimits, rng: Rng | null, problems: string[]): { events: Event[]; cmds: FramedCommand[] } {
  const events: Event[] = [];
  const cmds: FramedCommand[] = [];
  const framer: CommandFramer = new CommandFramer(
    {
      onCommand(cmd) {
        cmds.push(cmd);
        events.push(['cmd', cmd.parts.map((p) => (p.kind === 'text' ? p.text : p.sink ? `sink:${p.nonSync}` : `lit:${p.nonSync}:${p.data.toString('latin1')}`)).concat(String(cmd.bytes))]);
        if (rng?.chance(0.5)) framer.hold();
      },
      onContinuation: () => events.push(['cont']),
      onError: (e) => events.push(['err', e]),
      // APPEND's message literal streams to a sink, as the connection does it.
      literalSink(req) {
        if (!/^\S+ APPEND /i.test(req.text)) return null;
        return {
          maxBytes: 50 * 1024 * 1024,
          open: () => {
            events.push(['sink', req.tag ?? '', req.size]);
            return new CountingSink(req.size, problems);
          },
        };
      },
    },
    limits,
  );
  const bound = limits.maxCommandBytes + limits.maxLineBytes + 2 + limits.maxLiteralBytes;
  const check = () => {
    // Held input is at most one chunk (the rest of the one a command ended in).
    const held = framer.bufferedBytes;
    if (held > bound + input.length) problems.push(`framer holds ${held} bytes (bound ${bound})`);
  };
  if (!rng) {
    framer.push(input);
    check();
  } else {
    let pos = 0;
    while (pos < input.length) {
      const n = rng.chance(0.3) ? 1 + rng.int(4) : 1 + rng.int(Math.max(1, input.length >> rng.int(6)));
      framer.push(input.subarray(pos, pos + n));
      check();
      // The connection releases a held framer once the command has run.
      while (framer.isHolding) framer.release();
      pos += n;
    }
  }
  framer.close();
  return { events, cmds };
}

function depth(tokens: Token[]): number {
  let d = 0;
  for (const t of tokens) if (t.type === 'list') d = Math.max(d, 1 + depth(t.items));
  return d;
}

const FOLDERS = ['INBOX', 'INBOX.x', 'Archive', 'Archive.2024', 'F&AOQ-lder', 'a.b.c.d.e', 'Sent Items', '__proto__'];
/** Message counts and UIDs to resolve sets against: big enough that a quadratic resolve would show. */
const COUNT = 5000;
const UIDS = Array.from({ length: COUNT }, (_, i) => 1 + i * 3);

function str(t: Token | undefined): string | null {
  if (!t) return null;
  return t.type === 'atom' ? t.value : t.type === 'string' ? t.value.toString('utf8') : null;
}

function mailbox(t: Token | undefined): void {
  const name = str(t);
  if (name === null) return;
  guard('mailbox name', () => {
    isValidMutf7(name);
    const n = normalizeName(name);
    if (n !== 'INBOX') checkName(n);
    decodeMutf7(name);
  });
}

function sequenceSet(t: Token | undefined): void {
  if (t?.type !== 'atom') return;
  const ranges = guard('sequence set', () => parseSequenceSet(t.value));
  if (!ranges) return;
  guard('resolveSeqs', () => resolveSeqs(ranges, COUNT));
  guard('resolveUids', () => resolveUids(ranges, UIDS));
}

function flags(t: Token | undefined, what: string): void {
  if (t) guard(`${what} flags`, () => flagList(t, what));
}

/** Each command's arguments through the parsers its command file uses. */
function commandArgs(name: string, args: Token[]): void {
  if (name === 'UID') {
    const sub = str(args[0])?.toUpperCase();
    if (sub) commandArgs(sub, args.slice(1));
    return;
  }
  switch (name) {
    case 'LOGIN':
      guard('LOGIN', () => {
        const r = new ArgReader(args, 'LOGIN');
        r.astring('user');
        r.astring('password');
        r.end();
      });
      break;
    case 'SELECT':
    case 'EXAMINE':
    case 'CREATE':
    case 'DELETE':
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
      mailbox(args[0]);
      break;
    case 'RENAME':
      mailbox(args[0]);
      mailbox(args[1]);
      break;
    case 'STATUS':
      mailbox(args[0]);
      if (args[1]?.type === 'list') guard('STATUS items', () => statusItems((args[1] as { items: Token[] }).items));
      break;
    case 'APPEND':
      mailbox(args[0]);
      for (const a of args.slice(1)) {
        if (a.type === 'list') flags(a, 'APPEND');
        else if (a.type === 'string' && !a.literal) guard('APPEND date', () => parseDateTime(a.value.toString('latin1')));
      }
      break;
    case 'LIST':
    case 'LSUB': {
      const strings = args.map(str).filter((s): s is string => s !== null);
      const ref = strings[0] ?? '';
      for (const p of strings.slice(1, 8)) {
        guard('LIST pattern', () => {
          if ([...(ref + p)].length > 1024) return;
          const m = new ListPattern(ref + p, '.');
          for (const f of FOLDERS) m.matches(f);
          decodeMutf7(p);
        });
      }
      break;
    }
    case 'FETCH':
      sequenceSet(args[0]);
      if (args[1]) guard('FETCH items', () => parseFetchItems(args[1]!));
      break;
    case 'STORE':
      sequenceSet(args[0]);
      for (const a of args.slice(2)) flags(a, 'STORE');
      break;
    case 'COPY':
    case 'MOVE':
      sequenceSet(args[0]);
      mailbox(args[1]);
      break;
    case 'EXPUNGE':
      sequenceSet(args[0]);
      break;
    case 'SEARCH': {
      const rest = str(args[0])?.toUpperCase() === 'RETURN' ? args.slice(2) : args;
      guard('SEARCH criteria', () => charsetAndCriteria(rest, 'SEARCH', false));
      break;
    }
    case 'SORT':
      guard('SORT criteria', () => parseSortCriteria(args[0]));
      guard('SORT search', () => charsetAndCriteria(args.slice(1), 'SORT', true));
      break;
    case 'THREAD':
      guard('THREAD search', () => charsetAndCriteria(args.slice(1), 'THREAD', true));
      break;
  }
}

/** ENVELOPE and BODYSTRUCTURE of a (possibly hostile) message, and its stored summary. */
export function messageTarget(msg: Buffer): void {
  guard('message', () => {
    const root = parseMime(msg);
    encodeToString(envelope(root.header));
    encodeToString(bodystructure(root, true));
    summarize(msg);
  });
}

function mutatedMessage(rng: Rng): Buffer {
  const base = rng.pick([SIMPLE_MESSAGE, MULTIPART_MESSAGE, manyAddressMessage(1 + rng.int(300)), deepMimeMessage(1 + rng.int(80)), manyHeadersMessage(1 + rng.int(200))]);
  let lines = base.split('\r\n');
  for (let i = 0, n = 1 + rng.int(4); i < n; i++) {
    const at = rng.int(lines.length);
    switch (rng.int(4)) {
      case 0:
        lines.splice(at, 0, ...Array.from({ length: rng.count(200) }, () => lines[at] ?? ''));
        break;
      case 1:
        lines.splice(at, 1);
        break;
      case 2:
        lines[at] = (lines[at] ?? '') + rng.pick(['(', ')', '"', '\\', '<', '>', ',', ';', ':', '=?UTF-8?B?', '?=', '=?x?q?', ' boundary=', '\t', '\0', ' (((((((((']);
        break;
      case 3:
        lines = lines.slice(0, at);
        break;
    }
  }
  let bytes: Buffer = Buffer.from(lines.join(rng.chance(0.9) ? '\r\n' : '\n'));
  if (rng.chance(0.3)) bytes = damage(bytes, rng);
  return bytes;
}

/** The seed of input `i` of a run with `seed`: any input can be replayed alone. */
export function inputSeed(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x01000193) + Math.imul(i, 0x9e3779b1)) >>> 0;
}

export interface WireInput {
  /** Wire bytes (framer targets) or a message (message target). */
  bytes: Buffer;
  target: 'framer' | 'message';
  preauth: boolean;
}

/** Input `i`: mostly one to three mutated commands pipelined, sometimes a mutated message. */
export function makeWireInput(seed: number, i: number): WireInput {
  const rng = new Rng(inputSeed(seed, i));
  if (rng.chance(0.08)) return { bytes: mutatedMessage(rng), target: 'message', preauth: false };
  const preauth = rng.chance(0.3);
  const pool = preauth ? SEEDS.filter((s) => s.state === 'notauth') : SEEDS;
  const parts: Buffer[] = [];
  for (let k = 0, n = 1 + rng.int(rng.chance(0.2) ? 3 : 1); k < n; k++) {
    const s = rng.pick(pool);
    parts.push(rng.chance(0.1) ? serialize(s.elems) : mutate(s, rng));
  }
  return { bytes: Buffer.concat(parts), target: 'framer', preauth };
}

/** Runs input `i` through its target; returns what went wrong, or null. */
export function runWireInput(seed: number, i: number): Verdict | null {
  const input = makeWireInput(seed, i);
  try {
    if (input.target === 'message') {
      messageTarget(input.bytes);
      return null;
    }
    const limits = input.preauth ? PREAUTH_LIMITS : DEFAULT_LIMITS;
    const problems: string[] = [];
    const whole = frameAll(input.bytes, limits, null, problems);
    const split = frameAll(input.bytes, limits, new Rng(inputSeed(seed, i) ^ 0xa5a5a5a5), problems);
    if (problems.length) return { kind: 'memory', message: problems.join('; ') };
    if (!isDeepStrictEqual(whole.events, split.events)) {
      const at = whole.events.findIndex((e, k) => !isDeepStrictEqual(e, split.events[k]));
      return { kind: 'mismatch', message: `framing depends on how the bytes arrive: event ${at}: ${JSON.stringify(whole.events[at])?.slice(0, 200)} vs ${JSON.stringify(split.events[at])?.slice(0, 200)}` };
    }
    for (const cmd of whole.cmds) {
      const parsed = guard('parseCommand', () => parseCommand(cmd, 16));
      if (!parsed) continue;
      if (depth(parsed.args) > 16) return { kind: 'crash', message: `parser returned lists ${depth(parsed.args)} deep` };
      commandArgs(parsed.name, parsed.args);
    }
    return null;
  } catch (err) {
    if (err instanceof Unexpected) return { kind: 'crash', message: err.message };
    return { kind: 'crash', message: `harness: ${err instanceof Error ? err.stack : String(err)}` };
  }
}
