// THREAD (RFC 5256 §2.1 ORDEREDSUBJECT, §2.2 REFERENCES; REFS as Dovecot
// implements draft-ietf-morg-inthread §5) over the numbers of
// thread-input.ts, and the thread-list wire form of §4.
//
// Containers are rows of typed arrays (parent, first and last child,
// siblings) rather than objects, every walk is a loop rather than recursion
// (a reply chain 50,000 deep is a thread like any other), and a long run
// gives the event loop back every few milliseconds: it runs here, not in a
// worker thread, whose heap was the memory bench's peak (issue 14).
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { ThreadInput, type FrozenThreadInput } from './thread-input.js';
import { OutBuffer } from '../out-buffer.js';

export type ThreadAlgorithm = 'REFERENCES' | 'ORDEREDSUBJECT' | 'REFS';
export const THREAD_ALGORITHMS: readonly string[] = ['REFERENCES', 'ORDEREDSUBJECT', 'REFS'];

/** Work runs in slices this long; between them pushes and other clients go. */
const SLICE_MS = 10;

class Pacer {
  private n = 0;
  private until = performance.now() + SLICE_MS;
  /** Cheap to call per step: true (now and then) when the slice is used up. */
  due(): boolean {
    return (++this.n & 1023) === 0 && performance.now() >= this.until;
  }
  async pause(): Promise<void> {
    await yieldLoop();
    this.until = performance.now() + SLICE_MS;
  }
}

/**
 * -1, 0 or 1 as a is below, equal to or above b. Comparators return this
 * rather than a difference: dates (and 32-bit UIDs) are past V8's small
 * integers, and a difference of them was a heap number per comparison.
 */
function order(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** 0 to n - 1. */
function numbers(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Threading containers: a message (or none, a dummy) and its place in the tree. */
class Forest {
  readonly parent: Int32Array;
  readonly first: Int32Array;
  readonly last: Int32Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** The message a container holds, -1 for a dummy. */
  readonly msg: Int32Array;
  size: number;

  constructor(
    capacity: number,
    reserved: number,
    private readonly t: FrozenThreadInput,
  ) {
    this.parent = new Int32Array(capacity).fill(-1);
    this.first = new Int32Array(capacity).fill(-1);
    this.last = new Int32Array(capacity).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-1);
    this.msg = new Int32Array(capacity).fill(-1);
    this.size = reserved;
  }

  add(msg: number): number {
    this.msg[this.size] = msg;
    return this.size++;
  }

  /** `child` (without a parent) becomes the last child of `parent`. */
  link(parent: number, child: number): void {
    this.parent[child] = parent;
    const tail = this.last[parent];
    this.prev[child] = tail;
    this.next[child] = -1;
    if (tail >= 0) this.next[tail] = child;
    else this.first[parent] = child;
    this.last[parent] = child;
  }

  unlink(c: number): void {
    const p = this.parent[c];
    if (p < 0) return;
    const before = this.prev[c];
    const after = this.next[c];
    if (before >= 0) this.next[before] = after;
    else this.first[p] = after;
    if (after >= 0) this.prev[after] = before;
    else this.last[p] = before;
    this.parent[c] = this.prev[c] = this.next[c] = -1;
  }

  /** True when `target` is `from` or below it: walks up from `target`, the depth of one thread. */
  reaches(from: number, target: number): boolean {
    if (this.first[from] < 0) return from === target; // a leaf (the usual case): no walk up a long chain
    for (let c = target; c >= 0; c = this.parent[c]) if (c === from) return true;
    return false;
  }

  children(p: number): number[] {
    const out: number[] = [];
    for (let c = this.first[p]; c >= 0; c = this.next[c]) out.push(c);
    return out;
  }

  setChildren(p: number, kids: readonly number[]): void {
    this.first[p] = this.last[p] = -1;
    for (const k of kids) this.link(p, k);
  }

  /** The message that stands for a container when sorting: a dummy's first child's (§2.2 steps 4, 6). */
  rep(c: number): number {
    while (this.msg[c] < 0) {
      c = this.first[c];
      if (c < 0) return -1;
    }
    return this.msg[c];
  }

  /** Sent date, then mailbox order; a container without a message first. */
  readonly compare = (a: number, b: number): number => {
    const x = this.rep(a);
    const y = this.rep(b);
    if (x < 0 || y < 0) return x >= 0 ? -1 : y >= 0 ? 1 : 0;
    // Inline, not through order(): doubles passed to a call are boxed.
    const dx = this.t.date[x];
    const dy = this.t.date[y];
    if (dx !== dy) return dx < dy ? -1 : 1;
    const sx = this.t.seq[x];
    const sy = this.t.seq[y];
    return sx < sy ? -1 : sx > sy ? 1 : 0;
  };

  /** Every container under `roots`, each before its children. */
  async preorder(roots: readonly number[], pacer: Pacer): Promise<number[]> {
    const order: number[] = [];
    const stack = [...roots];
    while (stack.length) {
      if (pacer.due()) await pacer.pause();
      const n = stack.pop()!;
      order.push(n);
      for (let c = this.first[n]; c >= 0; c = this.next[c]) stack.push(c);
    }
    return order;
  }

  /**
   * Every set of siblings by sent date, deepest first (a dummy sorts by its
   * sorted first child); then `roots`. Returns the pre-order it walked (read
   * backwards, still children before parents: sorting moves no node to another parent).
   */
  async sortDeep(roots: number[], pacer: Pacer): Promise<number[]> {
    const order = await this.preorder(roots, pacer);
    for (let i = order.length - 1; i >= 0; i--) {
      if (pacer.due()) await pacer.pause();
      const n = order[i];
      if (this.first[n] !== this.last[n]) this.setChildren(n, this.children(n).sort(this.compare));
    }
    roots.sort(this.compare);
    return order;
  }
}

/** REFERENCES steps (1) to (4): the messages linked by References / In-Reply-To, dummies pruned; the roots. */
async function linkedRoots(t: FrozenThreadInput, pacer: Pacer): Promise<{ forest: Forest; roots: number[] }> {
  // Containers 0 to idCount - 1 are the Message-IDs' (made when first met); then messages
  // without one (or with a duplicate), then the dummies step (6) adds: at most one per root.
  const forest = new Forest(2 * (t.idCount + t.count) + 1, t.idCount, t);
  const made = new Uint8Array(t.idCount);
  const get = (id: number): number => {
    made[id] = 1;
    return id;
  };
  const bySeq = numbers(t.count).sort((a, b) => (t.seq[a] < t.seq[b] ? -1 : t.seq[a] > t.seq[b] ? 1 : 0));

  // (1) link messages by References / In-Reply-To
  for (let k = 0; k < bySeq.length; k++) {
    if (pacer.due()) await pacer.pause();
    const m = bySeq[k];
    const mid = t.mid[m];
    let self: number;
    if (mid >= 0 && (!made[mid] || forest.msg[mid] < 0)) {
      self = get(mid);
      forest.msg[self] = m;
    } else self = forest.add(m); // no Message-ID, or a duplicate: a unique one of its own
    const start = t.refStart[m];
    const end = t.refEnd[m];
    // (A) chain the references: first is parent of second, and so on
    for (let i = start; i + 1 < end; i++) {
      const parent = get(t.refs[i]);
      const child = get(t.refs[i + 1]);
      if (forest.parent[child] >= 0 || parent === child) continue; // already linked: keep it
      if (forest.reaches(child, parent) || forest.reaches(parent, child)) continue; // would loop
      forest.link(parent, child);
    }
    // (B) the last reference is the parent of this message
    forest.unlink(self);
    if (end > start) {
      const parent = get(t.refs[end - 1]);
      if (!forest.reaches(self, parent) && !forest.reaches(parent, self)) forest.link(parent, self);
    }
  }

  // (2) the root set: everything without a parent. (3) The ID table is no longer needed.
  const all: number[] = [];
  for (let c = 0; c < forest.size; c++) if ((c >= t.idCount || made[c]) && forest.parent[c] < 0) all.push(c);

  // (4) prune dummies, children before their parents: a dummy below the top gives way to its children
  const { msg, first, next } = forest;
  const order = await forest.preorder(all, pacer);
  for (let i = order.length - 1; i >= 0; i--) {
    if (pacer.due()) await pacer.pause();
    const n = order[i];
    let dummies = false;
    for (let c = first[n]; c >= 0 && !dummies; c = next[c]) dummies = msg[c] < 0;
    if (!dummies) continue;
    const kids: number[] = [];
    for (let c = first[n]; c >= 0; c = next[c]) {
      if (msg[c] >= 0) kids.push(c);
      else for (let g = first[c]; g >= 0; g = next[g]) kids.push(g); // (A) none: it goes; (B) its children take its place
    }
    forest.setChildren(n, kids);
  }
  // at the top, a dummy stays unless it has no child or only one
  const roots: number[] = [];
  for (let i = 0; i < all.length; i++) {
    const r = all[i];
    if (msg[r] >= 0) roots.push(r);
    else if (first[r] < 0) continue;
    else if (first[r] === forest.last[r]) {
      const only = first[r];
      forest.parent[only] = forest.prev[only] = forest.next[only] = -1;
      roots.push(only);
    } else roots.push(r);
  }
  return { forest, roots };
}

async function references(t: FrozenThreadInput, pacer: Pacer): Promise<{ forest: Forest; roots: number[] }> {
  const { forest, roots } = await linkedRoots(t, pacer);
  const { msg, first } = forest;

  // (5) sort the top level by sent date; a dummy by its (sorted) children's first
  for (let i = 0; i < roots.length; i++) if (msg[roots[i]] < 0) forest.setChildren(roots[i], forest.children(roots[i]).sort(forest.compare));
  roots.sort(forest.compare);

  // (6) merge threads with the same base subject
  const subjectOf = (r: number): number => (msg[r] >= 0 ? msg[r] : first[r] >= 0 ? msg[first[r]] : -1);
  const empty = t.emptySubject;
  const keyOf = (m: number): number => (m < 0 || t.subject[m] === empty ? -1 : t.subject[m]);
  const table = new Int32Array(t.subjects.count).fill(-1);
  for (let i = 0; i < roots.length; i++) {
    const r = roots[i];
    const m = subjectOf(r);
    const k = keyOf(m);
    if (k < 0) continue;
    const e = table[k];
    if (e < 0) table[k] = r;
    else if (msg[e] >= 0 && (msg[r] < 0 || (t.replyOrFwd[subjectOf(e)] && !t.replyOrFwd[m]))) table[k] = r;
  }
  // Removals and replacements are applied once at the end.
  const removed = new Uint8Array(forest.msg.length);
  const replaced = new Map<number, number>();
  for (let i = 0, n = roots.length; i < n; i++) {
    if (pacer.due()) await pacer.pause();
    const r = roots[i];
    const m = subjectOf(r);
    const k = keyOf(m);
    if (k < 0) continue;
    const e = table[k];
    // r already moved under a dummy that took its place (it was the table's entry): nothing left to do.
    if (e === r || replaced.has(r)) continue;
    removed[r] = 1;
    if (msg[e] < 0 && msg[r] < 0) {
      // both dummies: the current one's children join the table's
      for (const c of forest.children(r)) {
        forest.unlink(c);
        forest.link(e, c);
      }
    } else if (msg[e] < 0 || (msg[r] >= 0 && t.replyOrFwd[m] && !t.replyOrFwd[subjectOf(e)])) {
      forest.link(e, r); // under the dummy, or a reply under the original
    } else {
      const dummy = forest.add(-1);
      replaced.set(e, dummy);
      forest.link(dummy, e);
      forest.link(dummy, r);
      table[k] = dummy;
    }
  }
  const merged = roots.filter((r) => !removed[r]).map((r) => replaced.get(r) ?? r);

  // (7) sort every set of siblings by sent date, deepest first
  await forest.sortDeep(merged, pacer);
  return { forest, roots: merged };
}

/** REFERENCES without the base-subject merging; threads ordered by their newest message, ties by the root's mailbox order (a dummy first). */
async function refs(t: FrozenThreadInput, pacer: Pacer): Promise<{ forest: Forest; roots: number[] }> {
  const { forest, roots } = await linkedRoots(t, pacer);
  const order = await forest.sortDeep(roots, pacer);
  const newest = new Float64Array(forest.size).fill(-Infinity);
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i];
    let max = forest.msg[n] >= 0 ? t.date[forest.msg[n]] : -Infinity;
    for (let c = forest.first[n]; c >= 0; c = forest.next[c]) if (newest[c] > max) max = newest[c];
    newest[n] = max;
  }
  const seqOf = (r: number): number => (forest.msg[r] >= 0 ? t.seq[forest.msg[r]] : 0);
  roots.sort((a, b) => newest[a] - newest[b] || seqOf(a) - seqOf(b));
  return { forest, roots };
}

/** Threads of one base subject each (compared as SORT SUBJECT does), ordered by their first message's sent date. */
function orderedSubject(t: FrozenThreadInput): { forest: Forest; roots: number[] } {
  // Only the candidates' subjects are ranked: the table may be the whole folder's (thread-facts.ts).
  const rank = new Int32Array(t.subjects.count).fill(-1);
  const used: number[] = [];
  for (let m = 0; m < t.count; m++) {
    const s = t.subject[m];
    if (rank[s] < 0) {
      rank[s] = 0;
      used.push(s);
    }
  }
  used.sort((a, b) => t.subjects.compare(a, b)).forEach((s, i) => (rank[s] = i));
  const byDate = (a: number, b: number): number => order(t.date[a], t.date[b]) || order(t.seq[a], t.seq[b]);
  const sorted = numbers(t.count).sort((a, b) => rank[t.subject[a]] - rank[t.subject[b]] || byDate(a, b));
  const forest = new Forest(t.count, 0, t);
  const roots: number[] = [];
  let root = -1;
  for (const m of sorted) {
    const c = forest.add(m);
    if (root >= 0 && rank[t.subject[m]] === rank[t.subject[forest.msg[root]]]) forest.link(root, c);
    else roots.push((root = c));
  }
  roots.sort((a, b) => byDate(forest.msg[a], forest.msg[b]));
  return { forest, roots };
}

const OPEN = -1;
const CLOSE = -2;
const SPACE = -3;

/**
 * §4 thread-list: "(1 2)(3 (4)(5))". A message with one child is followed by
 * it; with more, each is parenthesised. Written as ASCII into an OutBuffer
 * from a stack of containers and tokens: a string and an array per message
 * were a fifth of a THREAD's garbage.
 */
async function format(t: FrozenThreadInput, forest: Forest, roots: readonly number[], pacer: Pacer): Promise<string> {
  const { msg, first, last, prev, next } = forest;
  const parts: string[] = [];
  const out = new OutBuffer((chunk, written) => {
    parts.push(chunk.toString('latin1'));
    written?.();
  });
  const put = (c: number) => (c >= 0 ? out.num(c) : out.ascii(c === OPEN ? '(' : c === CLOSE ? ')' : ' '));
  const todo: number[] = [];
  // Children are pushed last first, so they come off the stack in order.
  const eachChild = (p: number) => {
    for (let c = last[p]; c >= 0; c = prev[c]) todo.push(CLOSE, c, OPEN);
  };
  // One thread at a time: the stack holds that thread's open branches only.
  for (let r = 0; r < roots.length; r++) {
    todo.push(CLOSE, roots[r], OPEN);
    while (todo.length) {
      if (pacer.due()) await pacer.pause();
      const x = todo.pop()!;
      if (x < 0) {
        put(x);
        continue;
      }
      const m = msg[x];
      if (m < 0) {
        eachChild(x);
        continue;
      }
      put(t.id[m]);
      const kid = first[x];
      if (kid < 0) continue;
      if (next[kid] < 0) todo.push(kid, SPACE);
      else {
        eachChild(x);
        todo.push(SPACE);
      }
    }
  }
  out.close();
  return parts.join('');
}

/** The data of `* THREAD` for the messages of `input` (an empty string when there are none). */
export async function threadData(algorithm: ThreadAlgorithm, input: ThreadInput): Promise<string> {
  const t = input.freeze();
  if (!t.count) return '';
  const pacer = new Pacer();
  const { forest, roots } = algorithm === 'ORDEREDSUBJECT' ? orderedSubject(t) : algorithm === 'REFS' ? await refs(t, pacer) : await references(t, pacer);
  return format(t, forest, roots, pacer);
}
