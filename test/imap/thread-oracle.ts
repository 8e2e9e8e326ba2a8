// The object-based THREAD algorithms the server ran until issue 14 (RFC 5256
// §2.1, §2.2; REFS as Dovecot): kept as the oracle the compact ones are checked against.
import { asciiUpper } from '../../src/wire/base-subject.js';
import type { ThreadMsg } from '../../src/imap/search/thread-input.js';
import type { ThreadAlgorithm } from '../../src/imap/search/thread.js';

export interface ThreadNode {
  msg: ThreadMsg | null; // null: a dummy
  children: ThreadNode[];
}

// ---------------------------------------------------------------------------
// ORDEREDSUBJECT (§2.1 "ORDEREDSUBJECT")

const subjectKeys = new WeakMap<ThreadMsg, string>();
const subjKey = (m: ThreadMsg): string => {
  let k = subjectKeys.get(m);
  if (k === undefined) subjectKeys.set(m, (k = asciiUpper(m.subject.base)));
  return k;
};
const byDate = (a: ThreadMsg, b: ThreadMsg): number => a.date - b.date || a.seq - b.seq;

export function orderedSubject(msgs: ThreadMsg[]): ThreadNode[] {
  // sorted by base subject, then sent date (as SORT (SUBJECT DATE))
  const sorted = [...msgs].sort((a, b) => {
    const x = subjKey(a);
    const y = subjKey(b);
    return x !== y ? Buffer.compare(Buffer.from(x), Buffer.from(y)) : byDate(a, b);
  });
  const threads: ThreadNode[] = [];
  let cur: ThreadNode | null = null;
  let curKey = '';
  for (const m of sorted) {
    const k = subjKey(m);
    if (cur && k === curKey) cur.children.push({ msg: m, children: [] });
    else {
      cur = { msg: m, children: [] };
      curKey = k;
      threads.push(cur);
    }
  }
  // threads in order of the sent date of their first message
  return threads.sort((a, b) => byDate(a.msg!, b.msg!));
}

// ---------------------------------------------------------------------------
// REFERENCES (§2.2 "REFERENCES")

interface Container {
  msg: ThreadMsg | null;
  parent: Container | null;
  children: Container[];
}

/**
 * True when `target` is `from` or one of its descendants. Walks up from
 * `target` (the depth of one thread) rather than down from `from` (a whole
 * subtree: a big mailing-list thread made linking quadratic).
 */
function reaches(from: Container, target: Container): boolean {
  for (let c: Container | null = target; c; c = c.parent) if (c === from) return true;
  return false;
}

function unlink(c: Container): void {
  const p = c.parent;
  if (!p) return;
  p.children.splice(p.children.indexOf(c), 1);
  c.parent = null;
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

/** The message that stands for a node when sorting (a dummy: its first child, §2.2 steps 4 and 6). */
function rep(n: { msg: ThreadMsg | null; children: Array<{ msg: ThreadMsg | null; children: unknown[] }> }): ThreadMsg | null {
  return n.msg ?? (n.children[0] ? rep(n.children[0] as typeof n) : null);
}

function cmpNodes(a: Container, b: Container): number {
  const x = rep(a);
  const y = rep(b);
  if (!x || !y) return x ? -1 : y ? 1 : 0;
  return byDate(x, y);
}

/** REFERENCES steps (1) to (4): the messages linked by References/In-Reply-To, dummies pruned; the roots. */
function linkedRoots(msgs: ThreadMsg[]): Container[] {
  const ordered = [...msgs].sort((a, b) => a.seq - b.seq);
  const table = new Map<string, Container>();
  const all: Container[] = [];
  const get = (id: string): Container => {
    let c = table.get(id);
    if (!c) {
      c = { msg: null, parent: null, children: [] };
      table.set(id, c);
      all.push(c);
    }
    return c;
  };

  // (1) link messages by References / In-Reply-To
  for (const m of ordered) {
    let self: Container;
    const existing = m.messageId === null ? undefined : table.get(m.messageId);
    if (m.messageId !== null && (!existing || existing.msg === null)) {
      self = get(m.messageId);
      self.msg = m;
    } else {
      // no Message-ID, or a duplicate: a unique one of its own
      self = { msg: m, parent: null, children: [] };
      all.push(self);
    }
    const refs = m.references.length ? m.references : m.inReplyTo !== null ? [m.inReplyTo] : [];
    // (A) chain the references: first is parent of second, and so on
    for (let i = 0; i + 1 < refs.length; i++) {
      const parent = get(refs[i]);
      const child = get(refs[i + 1]);
      if (child.parent || parent === child) continue; // already linked: keep it
      if (reaches(child, parent) || reaches(parent, child)) continue; // would loop
      link(parent, child);
    }
    // (B) the last reference is the parent of this message
    unlink(self);
    if (refs.length) {
      const parent = get(refs[refs.length - 1]);
      if (!reaches(self, parent) && !reaches(parent, self)) link(parent, self);
    }
  }

  // (2) the root set: everything without a parent
  let roots = all.filter((c) => c.parent === null);
  // (3) the ID table is no longer needed.

  // (4) prune dummies
  const prune = (nodes: Container[], atRoot: boolean, parent: Container | null): Container[] => {
    const out: Container[] = [];
    for (const n of nodes) {
      n.children = prune(n.children, false, n);
      if (n.msg) {
        out.push(n);
      } else if (n.children.length === 0) {
        // (A) a dummy without children goes
      } else if (!atRoot || n.children.length === 1) {
        // (B) its children take its place (at the root only if there is just one)
        for (const c of n.children) {
          c.parent = parent;
          out.push(c);
        }
      } else out.push(n);
    }
    return out;
  };
  return prune(roots, true, null);
}

/** Every set of siblings by sent date (then mailbox order), deepest first. */
function sortDeep(nodes: Container[]): void {
  for (const n of nodes) sortDeep(n.children);
  nodes.sort(cmpNodes);
}

const strip = (c: Container): ThreadNode => ({ msg: c.msg, children: c.children.map(strip) });

export function references(msgs: ThreadMsg[]): ThreadNode[] {
  let roots = linkedRoots(msgs);

  // (5) sort the top level by sent date; a dummy by its (sorted) children's first
  for (const r of roots) if (!r.msg) r.children.sort(cmpNodes);
  roots.sort(cmpNodes);

  // (6) merge threads with the same base subject
  const subjectOf = (r: Container): ThreadMsg | null => (r.msg ? r.msg : (r.children[0]?.msg ?? null));
  const table2 = new Map<string, Container>();
  for (const r of roots) {
    const m = subjectOf(r);
    if (!m || m.subject.base === '') continue;
    const k = subjKey(m);
    const t = table2.get(k);
    if (!t) table2.set(k, r);
    else if (t.msg !== null && (r.msg === null || (subjectOf(t)!.subject.replyOrFwd && !m.subject.replyOrFwd))) table2.set(k, r);
  }
  // Removals and replacements are applied once at the end (splicing each one was quadratic).
  const removed = new Set<Container>();
  const replaced = new Map<Container, Container>();
  for (const r of [...roots]) {
    const m = subjectOf(r);
    if (!m || m.subject.base === '') continue;
    const k = subjKey(m);
    const t = table2.get(k)!;
    // r already moved under a dummy that took its place (it was the table's entry): nothing left to do.
    if (t === r || replaced.has(r)) continue;
    const remove = (): void => {
      removed.add(r);
    };
    if (t.msg === null && r.msg === null) {
      // both dummies: the current one's children join the table's
      for (const c of r.children) link(t, c);
      r.children = [];
      remove();
    } else if (t.msg === null && r.msg !== null) {
      link(t, r);
      remove();
    } else if (r.msg !== null && m.subject.replyOrFwd && !subjectOf(t)!.subject.replyOrFwd) {
      link(t, r);
      remove();
    } else {
      const dummy: Container = { msg: null, parent: null, children: [] };
      replaced.set(t, dummy);
      link(dummy, t);
      link(dummy, r);
      remove();
      table2.set(k, dummy);
    }
  }

  roots = roots.filter((r) => !removed.has(r)).map((r) => replaced.get(r) ?? r);

  // (7) sort every set of siblings by sent date, deepest first
  sortDeep(roots);
  return roots.map(strip);
}

// ---------------------------------------------------------------------------
// REFS (draft-ietf-morg-inthread §5, as Dovecot implements it): REFERENCES
// without the base-subject merging, and threads ordered by their newest
// message (sent date, else arrival), so the thread with the latest reply
// comes last; ties go by the root's mailbox order, a dummy root first.

function newest(c: Container): number {
  let max = c.msg ? c.msg.date : -Infinity;
  for (const k of c.children) max = Math.max(max, newest(k));
  return max;
}

export function refs(msgs: ThreadMsg[]): ThreadNode[] {
  const roots = linkedRoots(msgs);
  sortDeep(roots);
  const keyed = roots.map((r) => ({ r, latest: newest(r), seq: r.msg ? r.msg.seq : 0 }));
  keyed.sort((a, b) => a.latest - b.latest || a.seq - b.seq);
  return keyed.map((k) => strip(k.r));
}

// ---------------------------------------------------------------------------
// Wire form (§4: thread-list)

function members(n: ThreadNode): string {
  const kids = n.children;
  if (!n.msg) return kids.map((c) => `(${members(c)})`).join('');
  const id = String(n.msg.id);
  if (kids.length === 0) return id;
  if (kids.length === 1) return `${id} ${members(kids[0])}`;
  return `${id} ${kids.map((c) => `(${members(c)})`).join('')}`;
}

/** "(1 2)(3 (4)(5))": the data of `* THREAD`. */
export function formatThreads(threads: ThreadNode[]): string {
  return threads.map((t) => `(${members(t)})`).join('');
}

/** Each algorithm by its THREAD name. */
export const ALGORITHMS: Record<ThreadAlgorithm, (msgs: ThreadMsg[]) => ThreadNode[]> = { REFERENCES: references, ORDEREDSUBJECT: orderedSubject, REFS: refs };
