// What THREAD needs of each message, held as numbers: Message-IDs and base
// subjects are interned once, so 50,000 messages are a few typed arrays and
// two string tables, not 50,000 objects with arrays of strings (issue 14:
// the objects, copied to a worker thread, were the memory bench's peak).
import { asciiUpper, type BaseSubject } from '../../wire/base-subject.js';

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

export class ThreadInput {
  private readonly idTable = new Map<string, number>();
  private readonly subjectTable = new Map<string, number>();
  /** Base subjects as written, to their key's number: a thread's messages share one, upper-cased once. */
  private readonly baseTable = new Map<string, number>();
  /** Interned subject keys (i;ascii-casemap of the base subject), by number. */
  readonly subjectKeys: string[] = [];

  // Per facts entry (from `facts()`)
  private readonly factMid = new NumberList(ints(1024), ints);
  private readonly factSubject = new NumberList(ints(1024), ints);
  /** Bit 0: the subject was a reply or forward. */
  private readonly factBits = new NumberList(ints(1024), ints);
  private readonly factRefStart = new NumberList(ints(1024), ints);
  private readonly refs = new NumberList(ints(4096), ints);

  // Per message (from `message()`), in the order given
  private readonly msgFacts = new NumberList(ints(1024), ints);
  private readonly msgId = new NumberList(floats(1024), floats);
  private readonly msgSeq = new NumberList(floats(1024), floats);
  private readonly msgDate = new NumberList(floats(1024), floats);

  private intern(id: string): number {
    let n = this.idTable.get(id);
    if (n === undefined) this.idTable.set(id, (n = this.idTable.size));
    return n;
  }

  /** Records one message's facts; the number returned is given to `message()` (a message gone meanwhile never is). */
  facts(f: ThreadFacts): number {
    let s = this.baseTable.get(f.base.base);
    if (s === undefined) {
      const key = asciiUpper(f.base.base);
      s = this.subjectTable.get(key);
      if (s === undefined) {
        this.subjectTable.set(key, (s = this.subjectKeys.length));
        this.subjectKeys.push(key);
      }
      this.baseTable.set(f.base.base, s);
    }
    this.factMid.push(f.messageId === null ? -1 : this.intern(f.messageId));
    this.factSubject.push(s);
    this.factBits.push(f.base.replyOrFwd ? 1 : 0);
    // §2.2 (1): the References, else the In-Reply-To's first id
    const refs = f.references.length ? f.references : f.inReplyTo !== null ? [f.inReplyTo] : [];
    this.factRefStart.push(this.refs.length);
    for (const r of refs) this.refs.push(this.intern(r));
    return this.factMid.length - 1;
  }

  /** A message to thread: its facts (from `facts()`), the number the answer names it by, its sequence number and sent date. */
  message(facts: number, id: number, seq: number, date: number): void {
    this.msgFacts.push(facts);
    this.msgId.push(id);
    this.msgSeq.push(seq);
    this.msgDate.push(date);
  }

  /** The Message-ID strings are no longer needed once every message is in (the threading works on their numbers). */
  freeze(): FrozenThreadInput {
    const idCount = this.idTable.size;
    this.idTable.clear();
    this.subjectTable.clear();
    this.baseTable.clear();
    const n = this.msgFacts.length;
    const f = this.msgFacts.a;
    const pick = (list: NumberList<Int32Array>) => Int32Array.from({ length: n }, (_, m) => list.a[f[m]]);
    const refStart = new Int32Array(n);
    const refEnd = new Int32Array(n);
    for (let m = 0; m < n; m++) {
      refStart[m] = this.factRefStart.a[f[m]];
      refEnd[m] = f[m] + 1 < this.factRefStart.length ? this.factRefStart.a[f[m] + 1] : this.refs.length;
    }
    return {
      count: n,
      idCount,
      id: this.msgId.a.subarray(0, n),
      seq: this.msgSeq.a.subarray(0, n),
      date: this.msgDate.a.subarray(0, n),
      mid: pick(this.factMid),
      subject: pick(this.factSubject),
      replyOrFwd: pick(this.factBits),
      refStart,
      refEnd,
      refs: this.refs.a,
      subjectKeys: this.subjectKeys,
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
  /** Index into subjectKeys. */
  subject: Int32Array;
  /** 1 when the subject was a reply or forward. */
  replyOrFwd: Int32Array;
  /** The message's references are refs[refStart[m]] to refs[refEnd[m] - 1]. */
  refStart: Int32Array;
  refEnd: Int32Array;
  refs: Int32Array;
  subjectKeys: string[];
}
