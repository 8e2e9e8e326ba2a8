// A Maildir file name has room for 26 keywords (a–z): past that a STORE,
// APPEND or COPY with a new keyword is NO [LIMIT], never an OK that quietly
// dropped it, and PERMANENTFLAGS stops offering \* (RFC 3501 §7.1, issue
// "Hostile input", C.13).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../../support/command-harness.js';

test('the 27th keyword is refused with NO [LIMIT]; the first 26 are kept; PERMANENTFLAGS loses \\*', async (t) => {
  const h = await harness(t);
  await h.deliver('Subject: one\n\nx\n');
  const c = await h.session();
  const first = Array.from({ length: 26 }, (_, i) => `k${i}`);
  const stored = await c.run(`STORE 1 +FLAGS (${first.join(' ')})`);
  assert.match(stored, /^T OK /m);
  for (const k of ['k0', 'k25']) assert.match(stored, new RegExp(`FLAGS \\([^)]*\\b${k}\\b`));
  assert.match(await c.run('STORE 1 +FLAGS (k26)'), /^T NO \[LIMIT\] /m);
  assert.match(await c.run('STORE 1 +FLAGS (k27 k28 k29)'), /^T NO \[LIMIT\] /m);
  assert.match(await c.run('STORE 1 +FLAGS (k3)'), /^T OK /m, 'a keyword that has a letter still works');
  assert.match(await c.run('APPEND INBOX (newkw) {11+}\r\nSubject: ab'), /^T NO \[LIMIT\] /m);
  const again = await c.run('SELECT INBOX');
  assert.match(again, /PERMANENTFLAGS \([^)]*k25\)\]/, 'no \\* once every letter is taken');
  assert.doesNotMatch(again, /PERMANENTFLAGS \([^)]*\\\*\)/);
  const fetched = await c.run('FETCH 1 (FLAGS)');
  assert.doesNotMatch(fetched, /k26/);
});
