// Sieve (RFC 5228 and the extensions real scripts use): compile a script once,
// run it on each message. Pure: no files, no sockets. See compile.ts for what
// is checked at upload time, interpret.ts for a run, actions.ts for how
// actions combine.
export { compileSieve, SUPPORTED_EXTENSIONS, DEFAULT_LIMITS, type CompiledScript, type CompileOptions, type CompileResult, type SieveLimits } from './compile.js';
export { runSieve, type RunOptions, type SieveEnvelope, type SieveResult } from './interpret.js';
export type { SieveAction } from './actions.js';
export type { SieveError } from './parse.js';
