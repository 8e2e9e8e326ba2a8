// What THREAD needs of each message, held as numbers: Message-IDs and base
// subjects are interned (from the stored summaries' bytes), so 50,000
// messages are a few typed arrays and two byte tables, not 50,000 objects
// with arrays of strings (issue 14: the objects, copied to a worker thread,
// were the memory bench's peak).
import type { BaseSubject } from '../../wire/base-subject.js';
import { ByteInterner } from '../../wire/byte-interner.js';
import { ThreadFactNumbers } from '../../wire/summary.js';

/** One message's thread identifiers, as the header gives them. */
export interface ThreadFacts {
  base: BaseSubject;
  messageId: string | null;
  references: string[];
  inReplyTo: string | null;
}

/** A message as a list (tests and small callers): its facts and where it stands. */
export interface ThreadMsg {
  /** What the response names the message by: sequence number or UID. */
  id: number;
  /** Mailbox order (sequence number): ties and duplicate Message-IDs go by it. */
  seq: number;
  /** Sent date (Date: header in UTC, else INTERNALDATE), milliseconds. */
  date: number;
  subject: BaseSubject;
  messageId: string | null;
  references: string[];
  inReplyTo: string | null;
}

/** A growable list of numbers kept in a typed array. */
class NumberList<T extends Int32Array | Float64Array> {
  length = 0;
  constructor(
    public a: T,
    private readonly make: (n: number) => T,
  ) {}
  push(v: number): number {
    if (this.length === this.a.length) {
      const b = this.make(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length] = v;
    return this.length++;
  }
}

const ints = (n: number) => new Int32Array(n);
const floats = (n: number) => new Float64Array(n);

/**
 * Messages' thread facts as numbers: Message-IDs and base subjects interned,
 * one entry per message read, with its Date: header. A folder's table can
 * outlive one THREAD (search/thread-facts.ts): entries are only ever added,
 * so what a THREAD froze stays valid while another adds more.
 */
export class ThreadFactTable {
  readonly ids = new ByteInterner();
  /** Base subjects, by their i;ascii-casemap form (what §2.1 and §2.2 compare). */
  readonly subjects = new ByteInterner(true);
  /** What `add` reads one message's facts from, reused (StoredSummary.threadFactsInto fills it). */
  readonly scratch = new ThreadFactNumbers();

  readonly mid = new NumberList(ints(1024), ints);
  readonly subject = new NumberList(ints(1024), ints);
  /** Bit 0: the subject was a reply or forward. */
  readonly bits = new NumberList(ints(1024), ints);
  readonly refStart = new NumberList(ints(1024), ints);
  readonly refs = new NumberList(ints(4096), ints);
  /** The Date: header in ms, NaN when there is none. */
  readonly sent = new NumberList(floats(1024), floats);

  /** Entries so far: they are numbered 0 to count - 1. */
  get count(): number {
    return this.mid.length;
  }

  /** Adds the facts in `n` (numbers of this table's interners) and the sent date; returns the entry's number. */
  add(n: ThreadFactNumbers, sentMs: number): number {
    this.mid.push(n.messageId);
    this.subject.push(n.subject);
    this.bits.push(n.replyOrFwd ? 1 : 0);
    this.refStart.push(this.refs.length);
    // §2.2 (1): the References, else the In-Reply-To's first id
    if (n.refCount) for (let i = 0; i < n.refCount; i++) this.refs.push(n.refs[i]);
    else if (n.inReplyTo >= 0) this.refs.push(n.inReplyTo);
    this.sent.push(sentMs);
    return this.mid.length - 1;
  }

  /** Bytes held, roughly (typed arrays and the interners' tables). */
  get bytes(): number {
    const lists = [this.mid, this.subject, this.bits, this.refStart, this.refs, this.sent];
    return lists.reduce((n, l) => n + l.a.byteLength, 0) + this.ids.bytes + this.subjects.bytes;
  }
}

export class ThreadInput {
  /** `table`: where the facts are (a folder's, kept between THREADs), or a table of this input's own. */
  constructor(readonly table = new ThreadFactTable()) {}

  // Per message (from `message()`), in the order given
  private readonly msgFacts = new NumberList(ints(1024), ints);
  private readonly msgId = new NumberList(floats(1024), floats);
  private readonly msgSeq = new NumberList(floats(1024), floats);
  private readonly msgDate = new NumberList(floats(1024), floats);

  /** Records one message's facts; the number returned is given to `message()` (a message gone meanwhile never is). */
  facts(f: ThreadFacts): number {
    this.table.scratch.fromFacts(f, this.table.ids, this.table.subjects);
    return this.table.add(this.table.scratch, NaN);
  }

  /** A message to thread: its facts (from `facts()`), the number the answer names it by, its sequence number and sent date. */
  message(facts: number, id: number, seq: number, date: number): void {
    this.msgFacts.push(facts);
    this.msgId.push(id);
    this.msgSeq.push(seq);
    this.msgDate.push(date);
  }

  /** The input as arrays by message number, once every message is in (the threading works on numbers only). */
  freeze(): FrozenThreadInput {
    const t = this.table;
    const n = this.msgFacts.length;
    const f = this.msgFacts.a;
    const pick = (list: NumberList<Int32Array>) => {
      const out = new Int32Array(n);
      const a = list.a;
      for (let m = 0; m < n; m++) out[m] = a[f[m]];
      return out;
    };
    // Read once: entries another THREAD adds meanwhile do not change these.
    const entries = t.count;
    const refsEnd = t.refs.length;
    const refStart = new Int32Array(n);
    const refEnd = new Int32Array(n);
    for (let m = 0; m < n; m++) {
      refStart[m] = t.refStart.a[f[m]];
      refEnd[m] = f[m] + 1 < entries ? t.refStart.a[f[m] + 1] : refsEnd;
    }
    return {
      count: n,
      idCount: t.ids.count,
      id: this.msgId.a.subarray(0, n),
      seq: this.msgSeq.a.subarray(0, n),
      date: this.msgDate.a.subarray(0, n),
      mid: pick(t.mid),
      subject: pick(t.subject),
      replyOrFwd: pick(t.bits),
      refStart,
      refEnd,
      refs: t.refs.a,
      subjects: t.subjects,
      emptySubject: t.subjects.internString(''),
    };
  }

  /** The input for a list of messages (tests, small callers). */
  static of(msgs: readonly ThreadMsg[]): ThreadInput {
    const input = new ThreadInput();
    for (const m of msgs) input.message(input.facts({ base: m.subject, messageId: m.messageId, references: m.references, inReplyTo: m.inReplyTo }), m.id, m.seq, m.date);
    return input;
  }
}

/** The messages to thread, as arrays indexed by message number (the order they were given in). */
export interface FrozenThreadInput {
  count: number;
  /** Distinct Message-IDs: they are numbered 0 to idCount - 1. */
  idCount: number;
  id: Float64Array;
  seq: Float64Array;
  date: Float64Array;
  /** The message's own Message-ID's number, or -1. */
  mid: Int32Array;
  /** The base subject's number in `subjects`. */
  subject: Int32Array;
  /** 1 when the subject was a reply or forward. */
  replyOrFwd: Int32Array;
  /** The message's references are refs[refStart[m]] to refs[refEnd[m] - 1]. */
  refStart: Int32Array;
  refEnd: Int32Array;
  refs: Int32Array;
  /** Base subjects (i;ascii-casemap form), numbered. */
  subjects: ByteInterner;
  /** The number of the empty base subject (it may be one no message has). */
  emptySubject: number;
}
