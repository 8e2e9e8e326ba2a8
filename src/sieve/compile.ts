// Validation: the syntax tree checked against the commands, tests, tagged
// arguments and extensions we know, into a compiled script the interpreter
// runs without further checks. As Pigeonhole: a command, test or tag that
// belongs to an extension the script did not `require` is an error, and so is
// a `require` of an extension we do not offer.

import { type Argument, type CommandNode, type SieveError, SieveSyntaxError, type TestNode, parseScript } from './parse.js';
import { COMPARATORS, type Comparator, type MatchSpec, RELATIONS, type Relation } from './match.js';
import { type DatePart, parseZone } from './date.js';
import { checkRedirectAddress, validMailboxName } from './actions.js';

/** Every extension this interpreter implements. */
export const SUPPORTED_EXTENSIONS: readonly string[] = [
  'fileinto',
  'reject',
  'ereject',
  'envelope',
  'encoded-character',
  'comparator-i;octet',
  'comparator-i;ascii-casemap',
  'comparator-i;ascii-numeric',
  'imap4flags',
  'variables',
  'body',
  'relational',
  'subaddress',
  'copy',
  'mailbox',
  'date',
  'index',
  'vacation',
  'vacation-seconds',
  'include',
];

/** What the interpreter knows about one expanded-at-runtime string. */
export type Str = string;

export type AddressPart = 'all' | 'localpart' | 'domain' | 'user' | 'detail';

export interface IndexSpec {
  index: number;
  last: boolean;
}

export type Test =
  | { op: 'true' | 'false'; line: number }
  | { op: 'not'; test: Test; line: number }
  | { op: 'allof' | 'anyof'; tests: Test[]; line: number }
  | { op: 'exists'; headers: Str[]; line: number }
  | { op: 'size'; over: boolean; limit: number; line: number }
  | { op: 'header'; headers: Str[]; keys: Str[]; match: MatchSpec; index: IndexSpec | null; line: number }
  | { op: 'address'; headers: Str[]; keys: Str[]; match: MatchSpec; part: AddressPart; index: IndexSpec | null; line: number }
  | { op: 'envelope'; parts: Str[]; keys: Str[]; match: MatchSpec; part: AddressPart; line: number }
  | { op: 'body'; transform: 'raw' | 'text' | 'content'; types: Str[]; keys: Str[]; match: MatchSpec; line: number }
  | { op: 'string'; sources: Str[]; keys: Str[]; match: MatchSpec; line: number }
  | { op: 'hasflag'; variables: Str[] | null; keys: Str[]; match: MatchSpec; line: number }
  | { op: 'mailboxexists'; names: Str[]; line: number }
  | { op: 'date'; header: Str; zone: ZoneSpec; part: DatePart | string; keys: Str[]; match: MatchSpec; index: IndexSpec | null; line: number }
  | { op: 'currentdate'; zone: ZoneSpec; part: DatePart | string; keys: Str[]; match: MatchSpec; line: number };

/** Which zone a date is shown in: the server's (default), a fixed one (:zone), or the header's own (:originalzone). */
export type ZoneSpec = { kind: 'local' } | { kind: 'fixed'; minutes: number } | { kind: 'original' };

export type Command =
  | { op: 'if'; branches: Array<{ test: Test; block: Command[] }>; otherwise: Command[] | null; line: number }
  | { op: 'stop'; line: number }
  | { op: 'keep'; flags: Str[] | null; line: number }
  | { op: 'discard'; line: number }
  | { op: 'fileinto'; mailbox: Str; flags: Str[] | null; create: boolean; copy: boolean; line: number }
  | { op: 'redirect'; address: Str; copy: boolean; line: number }
  | { op: 'reject'; reason: Str; extended: boolean; line: number }
  | { op: 'setflag' | 'addflag' | 'removeflag'; variable: Str | null; flags: Str[]; line: number }
  | { op: 'set'; name: string; value: Str; modifiers: Modifier[]; line: number }
  /** RFC 6609: run another script here (resolved by the loader, see include.ts). */
  | { op: 'include'; location: IncludeLocation; name: string; once: boolean; optional: boolean; line: number }
  | { op: 'return'; line: number }
  /** RFC 6609 §3.3: these variables are shared with every script of the run. */
  | { op: 'global'; names: string[]; line: number }
  | {
      op: 'vacation';
      seconds: number;
      subject: Str | null;
      from: Str | null;
      addresses: Str[];
      mime: boolean;
      handle: Str;
      reason: Str;
      line: number;
    };

export type Modifier = 'lower' | 'upper' | 'lowerfirst' | 'upperfirst' | 'quotewildcard' | 'length';
const MODIFIER_PRECEDENCE: Record<Modifier, number> = { lower: 40, upper: 40, lowerfirst: 30, upperfirst: 30, quotewildcard: 20, length: 10 };

export type IncludeLocation = 'personal' | 'global';

/** One `include` of a script: what the loader must find before the script can run. */
export interface IncludeRef {
  location: IncludeLocation;
  name: string;
  optional: boolean;
  once: boolean;
  line: number;
}

export interface CompiledScript {
  commands: Command[];
  /** The scripts it includes (RFC 6609), in the order written; duplicates kept. */
  includes: IncludeRef[];
  /** The extensions the script requires. */
  extensions: ReadonlySet<string>;
  /** Whether strings are expanded (`variables` required). */
  variables: boolean;
  /** Whether the script uses imap4flags (flags on keep, fileinto and the implicit keep). */
  imap4flags: boolean;
}

export interface SieveLimits {
  /** Bytes of script text (Pigeonhole's sieve_max_script_size: 1M). */
  maxScriptSize: number;
  /** Blocks and tests nested in each other (Pigeonhole: 32). */
  maxNesting: number;
  /** Items in one string list. */
  maxListItems: number;
  /** Compile errors reported before giving up. */
  maxErrors: number;
  /** Distinct variable names in a script (Pigeonhole: 255). */
  maxVariables: number;
  /** Characters a variable holds; longer values are cut (Pigeonhole: 4096 bytes). */
  maxVariableSize: number;
  /** Actions in one result (Pigeonhole's sieve_max_actions: 32). */
  maxActions: number;
  /** Redirects in one result (Pigeonhole's sieve_max_redirects: 4). */
  maxRedirects: number;
  /** Work units per message: each command, test and comparison costs some. */
  maxSteps: number;
  /** Wall-clock time per message. */
  maxMillis: number;
  /** Bytes of decoded body text the body test may build for one message. */
  maxBodyBytes: number;
  /** Scripts included in each other (Pigeonhole's sieve_include_max_nesting_depth: 10). */
  maxIncludeDepth: number;
  /** Distinct scripts one script includes, all levels together (Pigeonhole's sieve_include_max_includes: 255). */
  maxIncludes: number;
}

export const DEFAULT_LIMITS: Readonly<SieveLimits> = Object.freeze({
  maxScriptSize: 1024 * 1024,
  maxNesting: 32,
  maxListItems: 1024,
  maxErrors: 10,
  maxVariables: 255,
  maxVariableSize: 4096,
  maxActions: 32,
  maxRedirects: 4,
  maxSteps: 2_000_000,
  maxMillis: 2_000,
  maxBodyBytes: 16 * 1024 * 1024,
  maxIncludeDepth: 10,
  maxIncludes: 255,
});

export interface CompileOptions {
  /** Extensions a script may require; default: all of SUPPORTED_EXTENSIONS. */
  extensions?: readonly string[];
  limits?: Partial<SieveLimits>;
}

export type CompileResult = { ok: true; script: CompiledScript } | { ok: false; errors: SieveError[] };

// ---------------------------------------------------------------------------

type ArgType = 'string' | 'strlist' | 'number';

interface TagSpec {
  arg?: ArgType;
  /** Tags of one group exclude each other (one match type, one comparator …). */
  group?: string;
  ext?: string;
}

const MATCH_TAGS: Record<string, TagSpec> = {
  is: { group: 'match type' },
  contains: { group: 'match type' },
  matches: { group: 'match type' },
  count: { group: 'match type', arg: 'string', ext: 'relational' },
  value: { group: 'match type', arg: 'string', ext: 'relational' },
  comparator: { group: 'comparator', arg: 'string' },
};
const ADDRESS_TAGS: Record<string, TagSpec> = {
  all: { group: 'address part' },
  localpart: { group: 'address part' },
  domain: { group: 'address part' },
  user: { group: 'address part', ext: 'subaddress' },
  detail: { group: 'address part', ext: 'subaddress' },
};
const INDEX_TAGS: Record<string, TagSpec> = {
  index: { arg: 'number', ext: 'index' },
  last: { ext: 'index' },
};

interface Shape {
  ext?: string;
  tags: Record<string, TagSpec>;
  positional: ArgType[];
  /** Names of the positional arguments, for messages. */
  names: string[];
  /** The first positional argument may be left out (imap4flags' variable name). */
  firstOptional?: boolean;
}

const TEST_SHAPES: Record<string, Shape> = {
  true: { tags: {}, positional: [], names: [] },
  false: { tags: {}, positional: [], names: [] },
  not: { tags: {}, positional: [], names: [] },
  allof: { tags: {}, positional: [], names: [] },
  anyof: { tags: {}, positional: [], names: [] },
  exists: { tags: {}, positional: ['strlist'], names: ['header names'] },
  size: { tags: { over: { group: 'size' }, under: { group: 'size' } }, positional: ['number'], names: ['limit'] },
  header: { tags: { ...MATCH_TAGS, ...INDEX_TAGS }, positional: ['strlist', 'strlist'], names: ['header names', 'key list'] },
  address: { tags: { ...MATCH_TAGS, ...ADDRESS_TAGS, ...INDEX_TAGS }, positional: ['strlist', 'strlist'], names: ['header list', 'key list'] },
  envelope: { ext: 'envelope', tags: { ...MATCH_TAGS, ...ADDRESS_TAGS }, positional: ['strlist', 'strlist'], names: ['envelope part', 'key list'] },
  body: {
    ext: 'body',
    tags: { ...MATCH_TAGS, raw: { group: 'transform' }, text: { group: 'transform' }, content: { group: 'transform', arg: 'strlist' } },
    positional: ['strlist'],
    names: ['key list'],
  },
  string: { ext: 'variables', tags: MATCH_TAGS, positional: ['strlist', 'strlist'], names: ['source', 'key list'] },
  hasflag: { ext: 'imap4flags', tags: MATCH_TAGS, positional: ['strlist', 'strlist'], names: ['variable list', 'list of flags'], firstOptional: true },
  mailboxexists: { ext: 'mailbox', tags: {}, positional: ['strlist'], names: ['mailbox names'] },
  date: {
    ext: 'date',
    tags: { ...MATCH_TAGS, ...INDEX_TAGS, zone: { group: 'zone', arg: 'string' }, originalzone: { group: 'zone' } },
    positional: ['string', 'string', 'strlist'],
    names: ['header name', 'date part', 'key list'],
  },
  currentdate: { ext: 'date', tags: { ...MATCH_TAGS, zone: { group: 'zone', arg: 'string' } }, positional: ['string', 'strlist'], names: ['date part', 'key list'] },
};

const FLAGS_TAG: TagSpec = { arg: 'strlist', ext: 'imap4flags' };
const COMMAND_SHAPES: Record<string, Shape> = {
  require: { tags: {}, positional: ['strlist'], names: ['capabilities'] },
  if: { tags: {}, positional: [], names: [] },
  elsif: { tags: {}, positional: [], names: [] },
  else: { tags: {}, positional: [], names: [] },
  stop: { tags: {}, positional: [], names: [] },
  keep: { tags: { flags: FLAGS_TAG }, positional: [], names: [] },
  discard: { tags: {}, positional: [], names: [] },
  redirect: { tags: { copy: { ext: 'copy' } }, positional: ['string'], names: ['address'] },
  fileinto: {
    ext: 'fileinto',
    tags: { flags: FLAGS_TAG, copy: { ext: 'copy' }, create: { ext: 'mailbox' } },
    positional: ['string'],
    names: ['folder'],
  },
  reject: { ext: 'reject', tags: {}, positional: ['string'], names: ['reason'] },
  ereject: { ext: 'ereject', tags: {}, positional: ['string'], names: ['reason'] },
  setflag: { ext: 'imap4flags', tags: {}, positional: ['strlist', 'strlist'], names: ['variable name', 'list of flags'], firstOptional: true },
  addflag: { ext: 'imap4flags', tags: {}, positional: ['strlist', 'strlist'], names: ['variable name', 'list of flags'], firstOptional: true },
  removeflag: { ext: 'imap4flags', tags: {}, positional: ['strlist', 'strlist'], names: ['variable name', 'list of flags'], firstOptional: true },
  set: {
    ext: 'variables',
    tags: {
      lower: { group: 'lower/upper' },
      upper: { group: 'lower/upper' },
      lowerfirst: { group: 'lowerfirst/upperfirst' },
      upperfirst: { group: 'lowerfirst/upperfirst' },
      quotewildcard: {},
      length: {},
    },
    positional: ['string', 'string'],
    names: ['name', 'value'],
  },
  include: {
    ext: 'include',
    tags: { personal: { group: 'location' }, global: { group: 'location' }, once: {}, optional: {} },
    positional: ['string'],
    names: ['script name'],
  },
  return: { ext: 'include', tags: {}, positional: [], names: [] },
  global: { ext: 'include', tags: {}, positional: ['strlist'], names: ['variable names'] },
  vacation: {
    ext: 'vacation',
    tags: {
      days: { arg: 'number', group: 'period' },
      seconds: { arg: 'number', group: 'period', ext: 'vacation-seconds' },
      subject: { arg: 'string' },
      from: { arg: 'string' },
      addresses: { arg: 'strlist' },
      mime: {},
      handle: { arg: 'string' },
    },
    positional: ['string'],
    names: ['reason'],
  },
};

interface Parsed {
  tags: Map<string, Argument | null>;
  pos: Argument[];
}

const VACATION_MIN_SECONDS = 24 * 3600;
const VACATION_DEFAULT_SECONDS = 7 * 24 * 3600;

class Validator {
  readonly errors: SieveError[] = [];
  readonly required = new Set<string>();
  readonly includes: IncludeRef[] = [];
  private readonly variableNames = new Set<string>();
  /** Names made global so far (RFC 6609 §3.3: `global` must come before their use as a local). */
  readonly globals = new Set<string>();
  private reportedUnknown = new Set<string>();

  constructor(
    private readonly allowed: ReadonlySet<string>,
    private readonly limits: SieveLimits,
  ) {}

  error(line: number, message: string): void {
    if (this.errors.length < this.limits.maxErrors) this.errors.push({ line, message });
  }

  get full(): boolean {
    return this.errors.length >= this.limits.maxErrors;
  }

  /** The arguments of a command or test checked against its shape. Null after an error. */
  private args(kind: 'command' | 'test', name: string, line: number, args: Argument[], shape: Shape): Parsed | null {
    const what = `${kind} '${name}'`;
    const tags = new Map<string, Argument | null>();
    const groups = new Map<string, string>();
    const pos: Argument[] = [];
    let ok = true;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a.kind !== 'tag') {
        pos.push(a);
        continue;
      }
      if (pos.length > 0) {
        this.error(a.line, `${what}: tagged argument ':${a.name}' after a positional argument`);
        return null;
      }
      const spec = shape.tags[a.name];
      if (!spec || (spec.ext && !this.required.has(spec.ext))) {
        if (spec?.ext) this.error(a.line, `${what}: tagged argument ':${a.name}' needs require "${spec.ext}"`);
        else if (a.name === 'regex') this.error(a.line, `${what}: the :regex match type is not supported here`);
        else this.error(a.line, `${what}: unknown tagged argument ':${a.name}'`);
        ok = false;
        continue;
      }
      if (tags.has(a.name)) {
        this.error(a.line, `${what}: tagged argument ':${a.name}' given twice`);
        ok = false;
        continue;
      }
      if (spec.group) {
        const other = groups.get(spec.group);
        if (other) {
          this.error(a.line, `${what}: ':${a.name}' conflicts with ':${other}' (only one ${spec.group})`);
          ok = false;
        }
        groups.set(spec.group, a.name);
      }
      let value: Argument | null = null;
      if (spec.arg) {
        const v = args[i + 1];
        if (!v || v.kind === 'tag' || !fits(v, spec.arg)) {
          this.error(a.line, `${what}: ':${a.name}' needs a ${typeName(spec.arg)} argument`);
          return null;
        }
        value = v;
        i++;
      }
      tags.set(a.name, value);
    }
    const positional = shape.firstOptional && pos.length === shape.positional.length - 1 ? shape.positional.slice(1) : shape.positional;
    const names = positional === shape.positional ? shape.names : shape.names.slice(1);
    if (pos.length !== positional.length) {
      const want = shape.positional.length;
      this.error(line, `${what} takes ${want} positional argument${want === 1 ? '' : 's'}${want ? ` (${shape.names.join(', ')})` : ''} but got ${pos.length}`);
      return null;
    }
    for (let k = 0; k < pos.length; k++) {
      if (!fits(pos[k], positional[k])) {
        this.error(pos[k].line, `${what}: the ${names[k]} must be a ${typeName(positional[k])}`);
        ok = false;
      }
    }
    return ok ? { tags, pos } : null;
  }

  private checkExt(kind: string, name: string, line: number, shape: Shape | undefined): boolean {
    if (!shape) {
      const key = `${kind} ${name}`;
      if (!this.reportedUnknown.has(key)) this.error(line, `unknown ${kind} '${name}'`);
      this.reportedUnknown.add(key);
      return false;
    }
    if (shape.ext && !this.required.has(shape.ext)) {
      const key = `${kind} ${name}`;
      if (!this.reportedUnknown.has(key)) this.error(line, `${kind} '${name}' needs require "${shape.ext}"`);
      this.reportedUnknown.add(key);
      return false;
    }
    return true;
  }

  // -------------------------------------------------------------------------
  // Commands

  block(nodes: CommandNode[], top: boolean): Command[] {
    const out: Command[] = [];
    let seenOther = false;
    let lastIf: Extract<Command, { op: 'if' }> | null = null;
    for (const n of nodes) {
      if (this.full) break;
      if (n.name === 'require') {
        if (!top || seenOther) this.error(n.line, 'require must come before every other command, at the top level');
        else this.require(n);
        continue;
      }
      seenOther = true;
      if (n.name === 'elsif' || n.name === 'else') {
        if (!lastIf) {
          this.error(n.line, `'${n.name}' without a preceding 'if'`);
          continue;
        }
        const c = this.conditional(n);
        if (c === null) {
          lastIf = null;
          continue;
        }
        if (n.name === 'elsif') lastIf.branches.push(c as { test: Test; block: Command[] });
        else {
          lastIf.otherwise = (c as { block: Command[] }).block;
          lastIf = null;
        }
        continue;
      }
      lastIf = null;
      if (n.name === 'if') {
        const c = this.conditional(n);
        if (c && 'test' in c) {
          lastIf = { op: 'if', branches: [c], otherwise: null, line: n.line };
          out.push(lastIf);
        }
        continue;
      }
      const c = this.command(n);
      if (c) out.push(c);
    }
    return out;
  }

  private require(n: CommandNode): void {
    const p = this.args('command', 'require', n.line, n.args, COMMAND_SHAPES.require);
    if (!p) return;
    if (n.block || n.tests.length) this.error(n.line, 'require takes no test and no block');
    for (const ext of strings(p.pos[0])) {
      if (!this.allowed.has(ext)) {
        this.error(n.line, ext === 'regex' ? 'require: the "regex" extension is not supported (JavaScript regular expressions can backtrack without bound)' : `require: unknown Sieve capability "${ext}"`);
        continue;
      }
      this.required.add(ext);
      if (ext === 'vacation-seconds') this.required.add('vacation');
      if (ext === 'index' || ext === 'date') this.required.add(ext);
    }
  }

  /** if/elsif (test + block) and else (block). */
  private conditional(n: CommandNode): { test: Test; block: Command[] } | { block: Command[] } | null {
    if (n.args.length) this.error(n.line, `'${n.name}' takes no arguments`);
    const needsTest = n.name !== 'else';
    if (needsTest && (n.tests.length !== 1 || n.testList)) {
      this.error(n.line, `'${n.name}' needs exactly one test`);
      return null;
    }
    if (!needsTest && n.tests.length) {
      this.error(n.line, "'else' takes no test");
      return null;
    }
    if (n.block === null) {
      this.error(n.line, `'${n.name}' needs a block`);
      return null;
    }
    const test = needsTest ? this.test(n.tests[0]) : null;
    const block = this.block(n.block, false);
    if (needsTest) return test ? { test, block } : null;
    return { block };
  }

  private command(n: CommandNode): Command | null {
    const shape = COMMAND_SHAPES[n.name];
    if (!this.checkExt('command', n.name, n.line, shape)) return null;
    if (n.tests.length) {
      this.error(n.line, `command '${n.name}' takes no test`);
      return null;
    }
    if (n.block) {
      this.error(n.line, `command '${n.name}' takes no block`);
      return null;
    }
    const p = this.args('command', n.name, n.line, n.args, shape);
    if (!p) return null;
    const line = n.line;
    const str = (a: Argument): Str => this.str(a);
    const list = (a: Argument): Str[] => strings(a).map((s) => this.literal(s, a.line));
    const flags = p.tags.has('flags') ? list(p.tags.get('flags')!) : null;
    switch (n.name) {
      case 'stop':
        return { op: 'stop', line };
      case 'keep':
        return { op: 'keep', flags, line };
      case 'discard':
        return { op: 'discard', line };
      case 'redirect': {
        const address = str(p.pos[0]);
        if (!this.hasVariables(address)) {
          const problem = checkRedirectAddress(address);
          if (problem) this.error(line, `redirect: the address ${JSON.stringify(address)} is invalid: ${problem}`);
        }
        return { op: 'redirect', address, copy: p.tags.has('copy'), line };
      }
      case 'fileinto': {
        const mailbox = str(p.pos[0]);
        if (!this.hasVariables(mailbox) && !validMailboxName(mailbox)) this.error(line, `fileinto: invalid folder name ${JSON.stringify(mailbox)}`);
        return { op: 'fileinto', mailbox, flags, create: p.tags.has('create'), copy: p.tags.has('copy'), line };
      }
      case 'reject':
      case 'ereject':
        return { op: 'reject', reason: str(p.pos[0]), extended: n.name === 'ereject', line };
      case 'setflag':
      case 'addflag':
      case 'removeflag': {
        // one argument: the flag list (internal variable); two: variable name, flag list
        let variable: Str | null = null;
        let flagArg: Argument;
        if (p.pos.length === 2) {
          variable = this.variableNameArg(p.pos[0]);
          flagArg = p.pos[1];
        } else flagArg = p.pos[0];
        return { op: n.name, variable, flags: list(flagArg), line };
      }
      case 'set': {
        const name = (p.pos[0] as { value: string }).value;
        const globalNs = this.required.has('include') && /^global\./i.test(name);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(globalNs ? name.slice(7) : name)) {
          this.error(line, `set: invalid variable name ${JSON.stringify(name)}`);
          return null;
        }
        this.declare(name.toLowerCase(), line);
        const modifiers = [...p.tags.keys()] as Modifier[];
        modifiers.sort((a, b) => MODIFIER_PRECEDENCE[b] - MODIFIER_PRECEDENCE[a]);
        return { op: 'set', name: name.toLowerCase(), value: str(p.pos[1]), modifiers, line };
      }
      case 'vacation':
        return this.vacation(p, line);
      case 'include': {
        const name = (p.pos[0] as { value: string }).value;
        // RFC 6609 §3.2: the name is a constant; Pigeonhole refuses a variable reference in it
        if (this.required.has('variables') && name.includes('${')) this.error(line, 'include: the script name cannot hold a variable');
        else if (!validScriptName(name)) this.error(line, `include: invalid script name ${JSON.stringify(name)}`);
        const location: IncludeLocation = p.tags.has('global') ? 'global' : 'personal';
        const optional = p.tags.has('optional');
        const once = p.tags.has('once');
        this.includes.push({ location, name, optional, once, line });
        return { op: 'include', location, name, once, optional, line };
      }
      case 'return':
        return { op: 'return', line };
      case 'global': {
        if (!this.required.has('variables')) {
          this.error(line, 'global needs require "variables"');
          return null;
        }
        const names: string[] = [];
        for (const raw of strings(p.pos[0])) {
          const name = raw.toLowerCase().replace(/^global\./, '');
          if (!/^[a-z_][a-z0-9_]*$/.test(name)) this.error(line, `global: invalid variable name ${JSON.stringify(raw)}`);
          else {
            this.declare(name, line);
            this.globals.add(name);
            names.push(name);
          }
        }
        return { op: 'global', names, line };
      }
    }
    this.error(line, `command '${n.name}' is not implemented`);
    return null;
  }

  private vacation(p: Parsed, line: number): Command {
    const reasonRaw = (p.pos[0] as { value: string }).value;
    const subjRaw = p.tags.has('subject') ? (p.tags.get('subject') as { value: string }).value : null;
    const fromRaw = p.tags.has('from') ? (p.tags.get('from') as { value: string }).value : null;
    const mime = p.tags.has('mime');
    let seconds = VACATION_DEFAULT_SECONDS;
    if (p.tags.has('days')) seconds = (p.tags.get('days') as { value: number }).value * 86400;
    if (p.tags.has('seconds')) seconds = (p.tags.get('seconds') as { value: number }).value;
    // Pigeonhole's sieve_vacation_min_period (1 day): shorter periods are raised to it (with a warning)
    if (seconds < VACATION_MIN_SECONDS && !(p.tags.has('seconds') && seconds === 0)) seconds = VACATION_MIN_SECONDS;
    if (fromRaw !== null && !this.hasVariables(fromRaw) && checkRedirectAddress(stripAngle(fromRaw)) !== null && !/<[^>]*@[^>]*>/.test(fromRaw)) {
      this.error(line, `vacation: the :from address ${JSON.stringify(fromRaw)} is invalid`);
    }
    // As Pigeonhole: without :handle, the handle is built from the unexpanded reason, subject and from
    const handle = p.tags.has('handle')
      ? this.str(p.tags.get('handle')!)
      : this.literal(reasonRaw + (subjRaw ?? '<default-subject>') + (fromRaw ?? '<default-from>') + (mime ? '<MIME>' : '<NO-MIME>'), line);
    return {
      op: 'vacation',
      seconds,
      subject: subjRaw === null ? null : this.literal(subjRaw, line),
      from: fromRaw === null ? null : this.literal(fromRaw, line),
      addresses: p.tags.has('addresses') ? strings(p.tags.get('addresses')!).map((s) => this.literal(s, line)) : [],
      mime,
      handle,
      reason: this.str(p.pos[0]),
      line,
    };
  }

  // -------------------------------------------------------------------------
  // Tests

  test(n: TestNode): Test | null {
    const shape = TEST_SHAPES[n.name];
    if (!this.checkExt('test', n.name, n.line, shape)) return null;
    const line = n.line;
    if (n.name === 'not') {
      if (n.args.length || n.tests.length !== 1 || n.testList) {
        this.error(line, "'not' takes exactly one test");
        return null;
      }
      const t = this.test(n.tests[0]);
      return t && { op: 'not', test: t, line };
    }
    if (n.name === 'allof' || n.name === 'anyof') {
      if (n.args.length || !n.testList) {
        this.error(line, `'${n.name}' takes a test list: ${n.name}(test, test …)`);
        return null;
      }
      const tests = n.tests.map((t) => this.test(t));
      if (tests.some((t) => t === null)) return null;
      return { op: n.name, tests: tests as Test[], line };
    }
    if (n.tests.length) {
      this.error(line, `test '${n.name}' takes no nested test`);
      return null;
    }
    const p = this.args('test', n.name, line, n.args, shape);
    if (!p) return null;
    const list = (a: Argument): Str[] => strings(a).map((s) => this.literal(s, a.line));
    const match = (): MatchSpec | null => this.matchSpec(n.name, line, p);
    const index = (): IndexSpec | null => {
      if (p.tags.has('last') && !p.tags.has('index')) this.error(line, `${n.name}: :last needs :index`);
      if (!p.tags.has('index')) return null;
      const i = (p.tags.get('index') as { value: number }).value;
      if (i < 1) this.error(line, `${n.name}: :index must be 1 or more`);
      return { index: i, last: p.tags.has('last') };
    };
    switch (n.name) {
      case 'true':
      case 'false':
        return { op: n.name, line };
      case 'exists':
        return { op: 'exists', headers: list(p.pos[0]), line };
      case 'size':
        if (!p.tags.has('over') && !p.tags.has('under')) {
          this.error(line, 'size needs :over or :under');
          return null;
        }
        return { op: 'size', over: p.tags.has('over'), limit: (p.pos[0] as { value: number }).value, line };
      case 'header':
      case 'address': {
        const m = match();
        if (!m) return null;
        const headers = list(p.pos[0]);
        if (n.name === 'address') {
          for (const h of headers) {
            if (!this.hasVariables(h) && !ADDRESS_HEADERS.has(h.toLowerCase()) && !/^(x-|resent-)/i.test(h)) {
              // RFC 5228 §5.1 lets implementations refuse non-address headers; Pigeonhole does
              this.error(line, `address: header ${JSON.stringify(h)} does not hold addresses`);
            }
          }
          return { op: 'address', headers, keys: list(p.pos[1]), match: m, part: addressPart(p), index: index(), line };
        }
        return { op: 'header', headers, keys: list(p.pos[1]), match: m, index: index(), line };
      }
      case 'envelope': {
        const m = match();
        if (!m) return null;
        const parts = list(p.pos[0]);
        for (const part of parts) {
          if (!this.hasVariables(part) && !['from', 'to', 'auth'].includes(part.toLowerCase())) this.error(line, `envelope: unknown envelope part ${JSON.stringify(part)}`);
        }
        return { op: 'envelope', parts, keys: list(p.pos[1]), match: m, part: addressPart(p), line };
      }
      case 'body': {
        const m = match();
        if (!m) return null;
        const transform = p.tags.has('raw') ? 'raw' : p.tags.has('content') ? 'content' : 'text';
        const types = p.tags.has('content') ? list(p.tags.get('content')!) : [];
        return { op: 'body', transform, types, keys: list(p.pos[0]), match: m, line };
      }
      case 'string': {
        const m = match();
        return m && { op: 'string', sources: list(p.pos[0]), keys: list(p.pos[1]), match: m, line };
      }
      case 'hasflag': {
        const m = match();
        if (!m) return null;
        // one positional: the flags (internal variable); two: variable names, flags
        if (p.pos.length === 2) {
          const names = strings(p.pos[0]).map((s) => this.variableName(s, line));
          return { op: 'hasflag', variables: names, keys: list(p.pos[1]), match: m, line };
        }
        return { op: 'hasflag', variables: null, keys: list(p.pos[0]), match: m, line };
      }
      case 'mailboxexists':
        return { op: 'mailboxexists', names: list(p.pos[0]), line };
      case 'date':
      case 'currentdate': {
        const m = match();
        if (!m) return null;
        const partPos = n.name === 'date' ? 1 : 0;
        // an unknown date part is no compile error (as Pigeonhole): the test is then false
        const partName = (p.pos[partPos] as { value: string }).value.toLowerCase();
        let zone: ZoneSpec = { kind: 'local' };
        if (p.tags.has('originalzone')) zone = { kind: 'original' };
        else if (p.tags.has('zone')) {
          const z = (p.tags.get('zone') as { value: string }).value;
          const minutes = parseZone(z);
          if (minutes === null) {
            this.error(line, `${n.name}: invalid :zone ${JSON.stringify(z)} (expected +hhmm or -hhmm)`);
            return null;
          }
          zone = { kind: 'fixed', minutes };
        }
        const keys = list(p.pos[partPos + 1]);
        if (n.name === 'date') return { op: 'date', header: this.str(p.pos[0]), zone, part: partName as DatePart, keys, match: m, index: index(), line };
        return { op: 'currentdate', zone, part: partName as DatePart, keys, match: m, line };
      }
    }
    this.error(line, `test '${n.name}' is not implemented`);
    return null;
  }

  private matchSpec(name: string, line: number, p: Parsed): MatchSpec | null {
    let comparator: Comparator = 'i;ascii-casemap';
    if (p.tags.has('comparator')) {
      const c = (p.tags.get('comparator') as { value: string }).value.toLowerCase();
      if (!(COMPARATORS as readonly string[]).includes(c)) {
        this.error(line, `${name}: unknown comparator ${JSON.stringify(c)}`);
        return null;
      }
      if (c === 'i;ascii-numeric' && !this.required.has('comparator-i;ascii-numeric')) {
        this.error(line, `${name}: comparator "i;ascii-numeric" needs require "comparator-i;ascii-numeric"`);
        return null;
      }
      comparator = c as Comparator;
    }
    let type: MatchSpec['type'] = 'is';
    let relation: Relation | null = null;
    for (const t of ['is', 'contains', 'matches', 'count', 'value'] as const) if (p.tags.has(t)) type = t;
    if (type === 'count' || type === 'value') {
      const r = (p.tags.get(type) as { value: string }).value.toLowerCase();
      if (!(RELATIONS as readonly string[]).includes(r)) {
        this.error(line, `${name}: invalid relational operator ${JSON.stringify(r)} (gt, ge, lt, le, eq or ne)`);
        return null;
      }
      relation = r as Relation;
    }
    if (comparator === 'i;ascii-numeric' && (type === 'contains' || type === 'matches')) {
      this.error(line, `${name}: comparator "i;ascii-numeric" cannot be used with :${type}`);
      return null;
    }
    return { type, relation, comparator };
  }

  // -------------------------------------------------------------------------
  // Strings and variables

  private hasVariables(s: string): boolean {
    return this.required.has('variables') && s.includes('${');
  }

  /** A string argument; encoded-character sequences are decoded now. */
  private str(a: Argument): Str {
    return this.literal((a as { value: string }).value, a.line);
  }

  literal(s: string, line: number): Str {
    if (this.required.has('encoded-character') && s.includes('${')) s = this.decodeEncoded(s, line);
    if (this.required.has('variables') && s.includes('${')) {
      // references to variables that are never set are simply empty: no error (RFC 5229 §3)
      for (const m of s.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) this.variableNames.add(m[1].toLowerCase());
    }
    return s;
  }

  /** RFC 5228 §2.4.2.4: ${hex: 41 42} and ${unicode: 263A}. A malformed one is left as written. */
  private decodeEncoded(s: string, line: number): string {
    return s.replace(/\$\{(hex|unicode):([\s0-9A-Fa-f]*)\}/gi, (whole, kind: string, body: string) => {
      const items = body.trim() === '' ? [] : body.trim().split(/\s+/);
      if (kind.toLowerCase() === 'hex') {
        if (items.some((h) => h.length > 2)) return whole;
        return Buffer.from(items.map((h) => parseInt(h, 16))).toString('utf8');
      }
      let out = '';
      for (const h of items) {
        const cp = parseInt(h, 16);
        if (h.length > 6 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          this.error(line, `invalid unicode character U+${h} in encoded-character`);
          return whole;
        }
        out += String.fromCodePoint(cp);
      }
      return out;
    });
  }

  private declare(name: string, line: number): void {
    this.variableNames.add(name);
    if (this.variableNames.size > this.limits.maxVariables) this.error(line, `more than ${this.limits.maxVariables} variables`);
  }

  private variableName(s: string, line: number): Str {
    if (this.hasVariables(s)) return s;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) this.error(line, `invalid variable name ${JSON.stringify(s)}`);
    else this.declare(s.toLowerCase(), line);
    return s.toLowerCase();
  }

  private variableNameArg(a: Argument): Str {
    if (a.kind === 'list') {
      if (a.values.length !== 1) this.error(a.line, 'the variable name must be one string');
      return this.variableName(a.values[0] ?? '', a.line);
    }
    return this.variableName((a as { value: string }).value, a.line);
  }
}

const ADDRESS_HEADERS = new Set(['from', 'to', 'cc', 'bcc', 'sender', 'resent-from', 'resent-to', 'resent-cc', 'resent-bcc', 'resent-sender', 'reply-to', 'return-path', 'delivered-to', 'envelope-to', 'errors-to', 'disposition-notification-to', 'original-recipient', 'x-original-to', 'apparently-to', 'mail-followup-to', 'mail-reply-to', 'x-envelope-to', 'x-envelope-from']);

function addressPart(p: Parsed): AddressPart {
  for (const k of ['localpart', 'domain', 'user', 'detail'] as const) if (p.tags.has(k)) return k;
  return 'all';
}

/** A script name as ManageSieve and include take it: no '/', no leading '.', no control characters. */
export function validScriptName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name.length > 0 && Buffer.byteLength(name) <= 255 && !name.includes('/') && !name.startsWith('.') && !/[\x00-\x1f\x7f]/.test(name);
}

function stripAngle(s: string): string {
  const m = /<([^>]*)>/.exec(s);
  return (m ? m[1] : s).trim();
}

function fits(a: Argument, t: ArgType): boolean {
  if (t === 'number') return a.kind === 'number';
  if (t === 'string') return a.kind === 'string';
  return a.kind === 'string' || a.kind === 'list';
}

function typeName(t: ArgType): string {
  return t === 'strlist' ? 'string list' : t;
}

function strings(a: Argument): string[] {
  return a.kind === 'list' ? a.values : a.kind === 'string' ? [a.value] : [];
}

/**
 * Compiles a script: parse, then validate. Errors carry line numbers, as
 * ManageSieve's PUTSCRIPT and CHECKSCRIPT report them.
 */
export function compileSieve(text: string | Buffer, options: CompileOptions = {}): CompileResult {
  const limits: SieveLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const size = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  if (size > limits.maxScriptSize) return { ok: false, errors: [{ line: 1, message: `script is ${size} bytes, more than the limit of ${limits.maxScriptSize}` }] };
  let source: string;
  if (typeof text === 'string') source = text;
  else {
    try {
      source = new TextDecoder('utf-8', { fatal: true }).decode(text);
    } catch {
      return { ok: false, errors: [{ line: 1, message: 'script is not valid UTF-8' }] };
    }
  }
  let nodes: CommandNode[];
  try {
    nodes = parseScript(source, limits);
  } catch (e) {
    if (e instanceof SieveSyntaxError) return { ok: false, errors: [{ line: e.line, message: e.message }] };
    throw e;
  }
  const allowed = new Set(options.extensions ?? SUPPORTED_EXTENSIONS);
  allowed.add('comparator-i;octet');
  allowed.add('comparator-i;ascii-casemap');
  const v = new Validator(allowed, limits);
  const commands = v.block(nodes, true);
  if (v.errors.length) return { ok: false, errors: v.errors };
  return {
    ok: true,
    script: { commands, includes: v.includes, extensions: v.required, variables: v.required.has('variables'), imap4flags: v.required.has('imap4flags') },
  };
}
