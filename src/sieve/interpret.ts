// Runs a compiled script on one message and answers the actions. Pure: the
// message bytes, the envelope and the few facts about the world a script can
// ask (does a folder exist, what time is it) come in; nothing goes out but
// the result. Every loop is paid for from a step budget and a time budget;
// running out, like any runtime error, answers `status: "error"`, and the
// caller then keeps the message in INBOX and logs why.

import type { AddressPart, Command, CompiledScript, IncludeLocation, IndexSpec, SieveLimits, Test, ZoneSpec } from './compile.js';
import { DEFAULT_LIMITS } from './compile.js';
import { ResultBuilder, RuntimeError, type SieveAction, checkRedirectAddress, flagList, validMailboxName } from './actions.js';
import { asciiLower, compareValues, relationHolds, simpleMatch, wildcardMatch, type MatchSpec } from './match.js';
import { SieveMessage, type SieveAddress } from './message.js';
import { datePart, localZone, parseHeaderDate } from './date.js';

export interface SieveEnvelope {
  /** MAIL FROM without angle brackets; "" for the null sender <>. */
  from: string;
  /** RCPT TO of this delivery. */
  to: string;
  /** The SASL identity, when the message was submitted authenticated. */
  auth?: string;
}

export interface RunOptions {
  limits?: Partial<SieveLimits>;
  /** "Now" for currentdate; default: the clock. */
  now?: Date;
  /** The zone dates are shown in without :zone (minutes east of UTC); default: the server's. */
  zone?: number;
  /** mailboxexists (RFC 5490): whether the user has this folder. Default: none exists. */
  mailboxExists?: (name: string) => boolean;
  /** Subaddress separator (RFC 5233), as Postfix's recipient_delimiter; default "+". */
  separator?: string;
  /** RFC 6609: the compiled script an `include` names (the loader resolved them all beforehand); null: none. */
  include?: (location: IncludeLocation, name: string) => CompiledScript | null;
}

export type SieveResult =
  | {
      status: 'ok';
      /** In the order the script took them, duplicates merged (see actions.ts). */
      actions: SieveAction[];
      /** The implicit keep, when no action cancelled it: store in INBOX with these flags (null: none). */
      implicitKeep: { flags: string[] | null } | null;
    }
  | {
      /** A runtime error or an exhausted limit: keep the message in INBOX and log `error`. */
      status: 'error';
      error: string;
      line: number;
    };

class Stop {}
/** RFC 6609 `return`: ends the current (included) script; in the main script it is `stop`. */
class Return {}

/** One script being run: its own variables, and the names it made global. */
interface Frame {
  script: CompiledScript;
  vars: Map<string, string>;
  globalNames: Set<string>;
}

const MAX_EXPANDED = 1024 * 1024;
const TEXT_TYPES = ['text', 'application/xhtml+xml'];

class Run {
  private readonly limits: SieveLimits;
  private readonly result: ResultBuilder;
  private frame: Frame;
  /** Frames of the scripts that included the current one. */
  private readonly callers: Frame[] = [];
  /** RFC 6609 §3.3: variables shared by every script of the run. */
  private readonly globals = new Map<string, string>();
  /** `location:name` of every script included so far, for :once. */
  private readonly included = new Set<string>();
  /** Whether any script of the run required imap4flags (the implicit keep then carries the flags). */
  private usesFlags: boolean;
  private matchValues: string[] = [];
  private internalFlags: string[] = [];
  private readonly work = { steps: 0 };
  private readonly deadline: number;
  private readonly msg: SieveMessage;
  private bodyBudget: { bytes: number };

  constructor(
    private readonly script: CompiledScript,
    message: Buffer,
    private readonly envelope: SieveEnvelope,
    private readonly opts: RunOptions,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.result = new ResultBuilder(this.limits.maxActions, this.limits.maxRedirects);
    this.deadline = Date.now() + this.limits.maxMillis;
    this.msg = new SieveMessage(message);
    this.bodyBudget = { bytes: this.limits.maxBodyBytes };
    this.frame = { script, vars: new Map(), globalNames: new Set() };
    this.usesFlags = script.imap4flags;
  }

  private getVar(name: string): string | undefined {
    const n = name.toLowerCase();
    if (n.startsWith('global.')) return this.globals.get(n.slice(7));
    return this.frame.globalNames.has(n) ? this.globals.get(n) : this.frame.vars.get(n);
  }

  private setVar(name: string, value: string): void {
    const n = name.toLowerCase();
    if (n.startsWith('global.')) this.globals.set(n.slice(7), value);
    else if (this.frame.globalNames.has(n)) this.globals.set(n, value);
    else this.frame.vars.set(n, value);
  }

  run(): SieveResult {
    try {
      this.block(this.script.commands);
    } catch (e) {
      if (e instanceof RuntimeError) return { status: 'error', error: e.message, line: e.line };
      if (!(e instanceof Stop) && !(e instanceof Return)) throw e;
    }
    return {
      status: 'ok',
      actions: this.result.actions,
      implicitKeep: this.result.implicitKeep ? { flags: this.usesFlags ? [...this.internalFlags] : null } : null,
    };
  }

  private tick(line: number, cost = 1): void {
    this.work.steps += cost;
    if (this.work.steps > this.limits.maxSteps) throw new RuntimeError(line, `script used more than its ${this.limits.maxSteps} steps`);
    if (Date.now() > this.deadline) throw new RuntimeError(line, `script ran longer than ${this.limits.maxMillis} ms`);
  }

  // -------------------------------------------------------------------------
  // Strings

  /** Variable references expanded (RFC 5229 §3), in one pass; a namespaced name (none is supported) is empty, as Pigeonhole. */
  private x(s: string, line: number): string {
    if (!this.frame.script.variables || !s.includes('${')) return s;
    let total = 0;
    const out = s.replace(/\$\{([A-Za-z0-9_.]*)\}/g, (whole, name: string) => {
      let v: string;
      if (/^[0-9]+$/.test(name)) v = this.matchValues[Number(name)] ?? '';
      else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) v = this.getVar(name) ?? '';
      else if (/^global\.[A-Za-z_][A-Za-z0-9_]*$/i.test(name) && this.frame.script.extensions.has('include')) v = this.getVar(name) ?? '';
      else if (/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(name)) v = '';
      else v = whole;
      total += v.length;
      if (total > MAX_EXPANDED) throw new RuntimeError(line, `a string expanded to more than ${MAX_EXPANDED} characters`);
      return v;
    });
    this.tick(line, 1 + (out.length >> 6));
    return out;
  }

  private xs(list: string[], line: number): string[] {
    return list.map((s) => this.x(s, line));
  }

  private truncate(v: string): string {
    const max = this.limits.maxVariableSize;
    if (v.length <= max && Buffer.byteLength(v) <= max) return v;
    let b = Buffer.from(v).subarray(0, max);
    // do not cut a UTF-8 sequence in half
    while (b.length > 0 && (b[b.length - 1] & 0xc0) === 0x80) b = b.subarray(0, b.length - 1);
    if (b.length > 0 && b[b.length - 1] >= 0xc0) b = b.subarray(0, b.length - 1);
    return b.toString('utf8');
  }

  // -------------------------------------------------------------------------
  // Commands

  private block(cmds: Command[]): void {
    for (const c of cmds) this.command(c);
  }

  private flagsFor(explicit: string[] | null, line: number): string[] | null {
    if (!this.frame.script.imap4flags) return null;
    if (explicit === null) return [...this.internalFlags];
    return flagList(this.xs(explicit, line), false);
  }

  private command(c: Command): void {
    this.tick(c.line);
    switch (c.op) {
      case 'if':
        for (const b of c.branches) {
          if (this.test(b.test)) return this.block(b.block);
        }
        if (c.otherwise) this.block(c.otherwise);
        return;
      case 'stop':
        throw new Stop();
      case 'keep':
        return this.result.store(null, this.flagsFor(c.flags, c.line), false, false, c.line);
      case 'discard':
        return this.result.discard(c.line);
      case 'fileinto': {
        const mailbox = this.x(c.mailbox, c.line);
        if (!validMailboxName(mailbox)) throw new RuntimeError(c.line, `fileinto: invalid folder name ${JSON.stringify(mailbox)}`);
        return this.result.store(mailbox, this.flagsFor(c.flags, c.line), c.create, c.copy, c.line);
      }
      case 'redirect': {
        const address = this.x(c.address, c.line);
        const problem = checkRedirectAddress(address);
        if (problem) throw new RuntimeError(c.line, `redirect: the address ${JSON.stringify(address)} is invalid: ${problem}`);
        return this.result.redirect(address, c.copy, c.line);
      }
      case 'reject':
        return this.result.reject(this.x(c.reason, c.line), c.extended, c.line);
      case 'vacation': {
        const from = c.from === null ? null : this.x(c.from, c.line);
        return this.result.vacation(
          {
            type: 'vacation',
            reason: this.x(c.reason, c.line),
            subject: c.subject === null ? null : this.x(c.subject, c.line),
            from,
            addresses: this.xs(c.addresses, c.line),
            mime: c.mime,
            handle: this.x(c.handle, c.line),
            seconds: c.seconds,
          },
          c.line,
        );
      }
      case 'setflag':
      case 'addflag':
      case 'removeflag': {
        const given = flagList(this.xs(c.flags, c.line), false);
        const name = c.variable === null ? null : this.x(c.variable, c.line).toLowerCase();
        const current = name === null ? this.internalFlags : flagList([this.getVar(name) ?? ''], false);
        let next: string[];
        if (c.op === 'setflag') next = given;
        else if (c.op === 'addflag') next = flagList([...current, ...given], false);
        else {
          const drop = new Set(given.map((f) => f.toLowerCase()));
          next = current.filter((f) => !drop.has(f.toLowerCase()));
        }
        if (name === null) this.internalFlags = next;
        else this.setVar(name, this.truncate(next.join(' ')));
        return;
      }
      case 'set': {
        let v = this.x(c.value, c.line);
        for (const m of c.modifiers) v = modify(v, m);
        this.setVar(c.name, this.truncate(v));
        return;
      }
      case 'include':
        return this.include(c);
      case 'return':
        throw new Return();
      case 'global':
        for (const n of c.names) this.frame.globalNames.add(n);
        return;
    }
  }

  /** RFC 6609 §3.2: the included script runs here with its own variables (globals shared); `return` ends it. */
  private include(c: Extract<Command, { op: 'include' }>): void {
    const key = `${c.location}:${c.name}`;
    if (c.once && this.included.has(key)) return;
    const script = this.opts.include?.(c.location, c.name) ?? null;
    if (!script) {
      if (c.optional) return;
      throw new RuntimeError(c.line, `included ${c.location} script '${c.name}' does not exist`);
    }
    if (this.callers.length >= this.limits.maxIncludeDepth) throw new RuntimeError(c.line, `includes nested deeper than ${this.limits.maxIncludeDepth}`);
    this.included.add(key);
    this.usesFlags ||= script.imap4flags;
    this.callers.push(this.frame);
    this.frame = { script, vars: new Map(), globalNames: new Set() };
    try {
      this.block(script.commands);
    } catch (e) {
      if (!(e instanceof Return)) throw e;
    } finally {
      this.frame = this.callers.pop()!;
    }
  }

  // -------------------------------------------------------------------------
  // Tests

  private test(t: Test): boolean {
    this.tick(t.line);
    switch (t.op) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not':
        return !this.test(t.test);
      case 'allof':
        return t.tests.every((s) => this.test(s));
      case 'anyof':
        return t.tests.some((s) => this.test(s));
      case 'exists':
        return this.xs(t.headers, t.line).every((h) => this.msg.exists(h));
      case 'size':
        return t.over ? this.msg.size > t.limit : this.msg.size < t.limit;
      case 'header': {
        const values: string[] = [];
        for (const h of this.xs(t.headers, t.line)) values.push(...pick(this.msg.headerValues(h), t.index));
        return this.match(values, this.xs(t.keys, t.line), t.match, t.line);
      }
      case 'address': {
        const values: string[] = [];
        for (const h of this.xs(t.headers, t.line)) {
          for (const raw of pick(this.msg.rawValues(h), t.index)) {
            for (const a of SieveMessage.addresses(raw)) {
              if ('unparsed' in a) {
                if (t.part === 'all' || a.unparsed === '') values.push(a.unparsed);
                continue;
              }
              const v = this.addressPart(a, t.part);
              if (v !== null) values.push(v);
            }
          }
        }
        return this.match(values, this.xs(t.keys, t.line), t.match, t.line);
      }
      case 'envelope': {
        const values: string[] = [];
        for (const p of this.xs(t.parts, t.line)) {
          const lower = p.toLowerCase();
          const addr = lower === 'from' ? this.envelope.from : lower === 'to' ? this.envelope.to : lower === 'auth' ? this.envelope.auth : undefined;
          if (addr === undefined) continue;
          if (addr === '') {
            // the null sender <>: the empty string, whatever the address part (as Pigeonhole)
            values.push('');
            continue;
          }
          const at = addr.lastIndexOf('@');
          const a: SieveAddress = at < 0 ? { localpart: addr, domain: null } : { localpart: addr.slice(0, at), domain: addr.slice(at + 1) };
          const v = this.addressPart(a, t.part);
          if (v !== null) values.push(v);
        }
        return this.match(values, this.xs(t.keys, t.line), t.match, t.line);
      }
      case 'body': {
        let values: string[];
        if (t.transform === 'raw') values = [this.msg.rawBody().toString('utf8')];
        else {
          const types = t.transform === 'text' ? TEXT_TYPES : this.xs(t.types, t.line);
          values = this.msg.parts(types, t.transform === 'text', this.bodyBudget);
          if (this.bodyBudget.bytes < 0) throw new RuntimeError(t.line, `body test: the message has more than ${this.limits.maxBodyBytes} bytes of body to decode`);
        }
        for (const v of values) this.tick(t.line, v.length >> 10);
        return this.match(values, this.xs(t.keys, t.line), t.match, t.line);
      }
      case 'string': {
        const sources = this.xs(t.sources, t.line);
        // RFC 5229 §5: for :count, empty strings are not counted
        const values = t.match.type === 'count' ? sources.filter((s) => s !== '') : sources;
        return this.match(values, this.xs(t.keys, t.line), t.match, t.line);
      }
      case 'hasflag': {
        const flags =
          t.variables === null
            ? this.internalFlags
            : flagList(
                this.xs(t.variables, t.line).map((n) => this.getVar(n) ?? ''),
                false,
              );
        const keys = t.match.type === 'count' || t.match.type === 'value' ? this.xs(t.keys, t.line) : flagList(this.xs(t.keys, t.line), true);
        return this.match(flags, keys, t.match, t.line);
      }
      case 'mailboxexists': {
        const check = this.opts.mailboxExists;
        return this.xs(t.names, t.line).every((n) => (check ? check(n) : false));
      }
      case 'date': {
        const header = this.x(t.header, t.line);
        const values: string[] = [];
        for (let raw of pick(this.msg.rawValues(header), t.index)) {
          if (header.toLowerCase() === 'received') raw = raw.slice(raw.lastIndexOf(';') + 1);
          const d = parseHeaderDate(raw);
          const v = d === null ? null : datePart(d.ms, this.zoneOf(t.zone, d.ms, d.zone), t.part);
          if (v !== null) values.push(v);
        }
        return this.match(values, this.xs(t.keys, t.line), t.match, t.line);
      }
      case 'currentdate': {
        const ms = (this.opts.now ?? new Date()).getTime();
        const v = datePart(ms, this.zoneOf(t.zone, ms, 0), t.part);
        return this.match(v === null ? [] : [v], this.xs(t.keys, t.line), t.match, t.line);
      }
    }
  }

  private zoneOf(z: ZoneSpec, ms: number, original: number): number {
    if (z.kind === 'fixed') return z.minutes;
    if (z.kind === 'original') return original;
    return this.opts.zone ?? localZone(ms);
  }

  private addressPart(a: SieveAddress, part: AddressPart): string | null {
    const sep = this.opts.separator ?? '+';
    switch (part) {
      case 'all':
        return a.domain === null ? a.localpart : `${a.localpart}@${a.domain}`;
      case 'localpart':
        return a.localpart;
      case 'domain':
        return a.domain ?? '';
      case 'user': {
        const i = a.localpart.indexOf(sep);
        return i < 0 ? a.localpart : a.localpart.slice(0, i);
      }
      case 'detail': {
        const i = a.localpart.indexOf(sep);
        return i < 0 ? null : a.localpart.slice(i + sep.length);
      }
    }
  }

  /** Any value against any key; :matches sets ${0}…${9} from the first value and key that match. */
  private match(values: string[], keys: string[], m: MatchSpec, line: number): boolean {
    if (m.type === 'count') {
      const n = String(values.length);
      return keys.some((k) => relationHolds(compareValues(n, k, m.comparator), m.relation!));
    }
    for (const v of values) {
      for (const k of keys) {
        if (m.type === 'matches') {
          const caps = wildcardMatch(v, k, m.comparator, this.work);
          if (caps) {
            if (this.frame.script.variables) this.matchValues = caps.map((c) => this.truncate(c));
            this.tick(line);
            return true;
          }
        } else if (simpleMatch(v, k, m, this.work)) {
          this.tick(line);
          return true;
        }
      }
      this.tick(line);
    }
    return false;
  }
}

function pick(values: string[], index: IndexSpec | null): string[] {
  if (index === null) return values;
  const i = index.last ? values.length - index.index : index.index - 1;
  return i >= 0 && i < values.length ? [values[i]] : [];
}

function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

function modify(v: string, m: string): string {
  switch (m) {
    case 'lower':
      return asciiLower(v);
    case 'upper':
      return asciiUpper(v);
    case 'lowerfirst':
      return asciiLower(v.slice(0, 1)) + v.slice(1);
    case 'upperfirst':
      return asciiUpper(v.slice(0, 1)) + v.slice(1);
    case 'quotewildcard':
      return v.replace(/[*?\\]/g, (c) => '\\' + c);
    case 'length':
      return String(Array.from(v).length);
  }
  return v;
}

/** Runs a compiled script on a message (its bytes as delivered) with its envelope. */
export function runSieve(script: CompiledScript, message: Buffer, envelope: SieveEnvelope, options: RunOptions = {}): SieveResult {
  return new Run(script, message, envelope, options).run();
}
