// Unit tests of the Sieve core: compile errors with their lines (what
// ManageSieve's PUTSCRIPT will report), limits, hostile scripts and messages,
// and the extensions sieve-test cannot show (ereject) or shows only in part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSieve, runSieve, type SieveResult } from '../../src/sieve/index.js';

const MSG = Buffer.from(
  'From: Alice <alice@example.com>\r\nTo: bob+lists@example.org\r\nSubject: Hello world\r\nDate: Mon, 1 Jan 2024 23:30:00 +0100\r\n\r\nbody text\r\n',
);
const ENV = { from: 'alice@example.com', to: 'bob+lists@example.org' };

function run(script: string, msg = MSG, opts = {}): SieveResult {
  const c = compileSieve(script);
  if (!c.ok) throw new Error(`compile failed: ${JSON.stringify(c.errors)}`);
  return runSieve(c.script, msg, ENV, opts);
}

function errors(script: string, opts = {}): Array<{ line: number; message: string }> {
  const c = compileSieve(script, opts);
  assert.equal(c.ok, false, 'the script should not compile');
  return (c as { errors: Array<{ line: number; message: string }> }).errors;
}

test('compile errors carry the line they are on', () => {
  const e1 = errors('require "fileinto";\n\nif true {\n  fileinto "x"\n}\n');
  assert.equal(e1[0].line, 5, 'missing ";" is found at the "}" on line 5');
  assert.match(e1[0].message, /expected ';'/);

  const e2 = errors('keep;\n# comment\n/* a\nb */\nfileinto "x";\n');
  assert.deepEqual(e2.map((e) => e.line), [5]);
  assert.match(e2[0].message, /fileinto.*require "fileinto"/);

  const e3 = errors('if header :contains "subject" "a" {\n keep;\n}\nelsif true { keep; }\nelse { keep; }\nelse { discard; }\n');
  assert.equal(e3[0].line, 6);

  const e4 = errors('require ["fileinto", "nonsense"];\n');
  assert.match(e4[0].message, /unknown Sieve capability "nonsense"/);

  const e5 = errors('redirect "a@b.c" :copy;\n');
  assert.match(e5[0].message, /after a positional argument/);

  const e6 = errors('if header "subject" {\n keep;\n}\n');
  assert.equal(e6[0].line, 1);
  assert.match(e6[0].message, /2 positional arguments/);

  const e7 = errors('keep;\nreject text:\nno end\n');
  assert.equal(e7[0].line, 2);
  assert.match(e7[0].message, /unterminated multi-line string/);

  const e8 = errors('keep;\nkeep;\nrequire "fileinto";\n');
  assert.equal(e8[0].line, 3);
});

test('several errors are reported at once, up to the limit', () => {
  const e = errors('fileinto "a";\nvacation "x";\nreject "y";\n');
  assert.deepEqual(e.map((x) => x.line), [1, 2, 3]);
  const many = Array.from({ length: 50 }, (_, i) => `if header :bogus${i} "a" "b" { keep; }`).join('\n');
  assert.equal(errors(many).length, 10);
});

test('extensions can be restricted by the caller', () => {
  const e = errors('require "vacation";\nvacation "x";\n', { extensions: ['fileinto'] });
  assert.match(e[0].message, /unknown Sieve capability "vacation"/);
});

test('regex is refused with a reason', () => {
  const e = errors('require "regex";\n');
  assert.match(e[0].message, /not supported/);
});

test('limits: script size, nesting, string lists', () => {
  assert.match(errors('keep;'.padEnd(2000, ' '), { limits: { maxScriptSize: 1000 } })[0].message, /more than the limit of 1000/);
  const deep = 'if true {'.repeat(40) + 'keep;' + '}'.repeat(40);
  assert.match(errors(deep)[0].message, /nesting deeper than 32/);
  const deepTests = 'if ' + 'not '.repeat(100) + 'true { keep; }';
  assert.match(errors(deepTests)[0].message, /nesting deeper/);
  const list = 'if header :is "x" [' + Array.from({ length: 2000 }, () => '"a"').join(',') + '] { keep; }';
  assert.match(errors(list)[0].message, /longer than 1024 items/);
  assert.match(errors('if size :over 99999999999999999999 { keep; }')[0].message, /too large/);
});

test('hostile input: bytes that are not UTF-8, NUL, huge numbers do not crash', () => {
  const c = compileSieve(Buffer.from([0x6b, 0x65, 0x65, 0x70, 0xff, 0x3b]));
  assert.equal(c.ok, false);
  assert.ok(!compileSieve('keep\0;').ok);
  assert.ok(!compileSieve('"unterminated').ok);
  assert.ok(!compileSieve('/* unterminated').ok);
  assert.ok(!compileSieve(':').ok);
  assert.ok(!compileSieve('if').ok);
});

test('too many actions or redirects is a runtime error: the caller keeps the message', () => {
  const r = run(Array.from({ length: 6 }, (_, i) => `redirect "u${i}@example.org";`).join('\n'));
  assert.equal(r.status, 'error');
  assert.match((r as { error: string }).error, /more than 4 redirects/);
  const r2 = run('require "fileinto";\n' + Array.from({ length: 40 }, (_, i) => `fileinto "f${i}";`).join('\n'));
  assert.equal(r2.status, 'error');
  assert.equal((r2 as { line: number }).line, 34);
});

test('the step budget stops an expensive script', () => {
  // every test compares a 4 KB variable with many keys: far more work than the budget allows
  const keys = '[' + Array.from({ length: 500 }, (_, i) => `"*a*b*c*${i}"`).join(',') + ']';
  const body = Array.from({ length: 20 }, () => `if string :matches "\${big}" ${keys} { keep; }`).join('\n');
  const script = `require "variables";\nset "big" "${'ab'.repeat(2000)}";\n${body}\n`;
  const t0 = Date.now();
  const r = run(script, MSG, { limits: { maxSteps: 200_000 } });
  assert.equal(r.status, 'error');
  assert.match((r as { error: string }).error, /steps/);
  assert.ok(Date.now() - t0 < 2000, 'stopped quickly');
});

test(':matches has no catastrophic case', () => {
  const value = 'a'.repeat(3000);
  const key = '*a'.repeat(40) + 'b';
  const t0 = Date.now();
  const r = run(`require "variables";\nset "v" "${value}";\nif string :matches "\${v}" "${key}" { discard; }`, MSG, { limits: { maxVariableSize: 10000 } });
  assert.equal(r.status, 'ok');
  assert.ok((r as { implicitKeep: unknown }).implicitKeep, 'no match, implicit keep');
  assert.ok(Date.now() - t0 < 1000);
});

test('variables are cut at their size limit, expansion is bounded', () => {
  const r = run('require ["variables", "fileinto"];\nset "a" "0123456789";\nset "b" "${a}${a}${a}";\nset :length "n" "${b}";\nfileinto "${n}";', MSG, { limits: { maxVariableSize: 25 } });
  assert.deepEqual((r as { actions: unknown[] }).actions, [{ type: 'fileinto', mailbox: '25', flags: null, create: false, copy: false }]);
});

test('ereject is an action with extended set; reject conflicts with fileinto', () => {
  const r = run('require "ereject";\nereject "go away";');
  assert.deepEqual(r, { status: 'ok', actions: [{ type: 'reject', reason: 'go away', extended: true }], implicitKeep: null });
  const r2 = run('require ["reject", "fileinto"];\nfileinto "x";\nreject "no";');
  assert.equal(r2.status, 'error');
  assert.match((r2 as { error: string }).error, /reject conflicts/);
});

test('imap4flags: the implicit keep takes the flags set last; keep :flags replaces them', () => {
  const r = run('require "imap4flags";\naddflag ["\\\\seen", "Work"];\nremoveflag "work";\naddflag "$Label";');
  assert.deepEqual(r, { status: 'ok', actions: [], implicitKeep: { flags: ['\\Seen', '$Label'] } });
  const r2 = run('require "imap4flags";\nkeep :flags "\\\\Flagged";\nkeep;');
  assert.deepEqual((r2 as { actions: unknown[] }).actions, [{ type: 'keep', flags: [] }]);
});

test('subaddress, envelope and date parts', () => {
  const r = run(
    'require ["subaddress", "envelope", "fileinto", "variables", "date"];\n' +
      'if envelope :detail :matches "to" "*" { fileinto "d-${1}"; }\n' +
      'if address :user :is "to" "bob" { fileinto "user"; }\n' +
      'if date :matches :zone "-0500" "date" "iso8601" "*" { fileinto "${1}"; }\n',
  );
  assert.deepEqual(
    (r as { actions: Array<{ mailbox: string }> }).actions.map((a) => a.mailbox),
    ['d-lists', 'user', '2024-01-01T17:30:00-05:00'],
  );
});

test('currentdate uses the given clock and zone', () => {
  const now = new Date('2024-06-01T23:30:00Z');
  const r = run('require ["date", "fileinto", "variables"];\nif currentdate :matches "date" "*" { fileinto "${1}"; }', MSG, { now, zone: 120 });
  assert.equal((r as { actions: Array<{ mailbox: string }> }).actions[0].mailbox, '2024-06-02');
});

test('vacation answers its parameters for the caller; the period has a floor of one day', () => {
  const r = run('require "vacation";\nvacation :days 0 :addresses ["bob@example.org"] "Away";');
  assert.deepEqual((r as { actions: unknown[] }).actions, [
    { type: 'vacation', reason: 'Away', subject: null, from: null, addresses: ['bob@example.org'], mime: false, handle: 'Away<default-subject><default-from><NO-MIME>', seconds: 86400 },
  ]);
  assert.ok((r as { implicitKeep: unknown }).implicitKeep, 'vacation keeps the implicit keep');
});

test('body test on a message larger than its decode budget is an error, not unbounded work', () => {
  const big = Buffer.concat([Buffer.from('Subject: x\r\nContent-Type: text/plain\r\n\r\n'), Buffer.alloc(200_000, 0x61)]);
  const r = run('require "body";\nif body :text :contains "zzz" { discard; }', big, { limits: { maxBodyBytes: 100_000 } });
  assert.equal(r.status, 'error');
  assert.match((r as { error: string }).error, /body/);
});

test('a message without a header block or with garbage still runs', () => {
  for (const m of [Buffer.alloc(0), Buffer.from('no header at all'), Buffer.from('\x00\xff\r\n\r\n'), Buffer.from('Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x\r\n')]) {
    const r = run('require ["body", "date"];\nif anyof (header :contains "subject" "a", address :is "from" "b", body :contains "c", date :is "date" "year" "2024") { discard; }', m);
    assert.equal(r.status, 'ok');
  }
});
