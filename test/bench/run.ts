// `npm run bench`: every benchmark suite, each against maildir-imapd and
// Dovecot on this machine in the same run, one after the other (each in its
// own process, so one suite's memory does not weigh on the next):
//
//   sync  rows 1-6: LOGIN+SELECT, Thunderbird's header sync, FLAGS and QRESYNC
//         resync, ENVELOPE+BODYSTRUCTURE, bodies, SEARCH TEXT / SORT / THREAD,
//         on generated Maildirs of 10,000 and 50,000 messages, cold / warm /
//         after a restart                                   (bench-results/sync.json)
//   load  rows 7-9: mixed load, push fan-out to 1,000 idling sessions,
//         10,000 TLS IDLE sessions                          (bench-results/load.json)
//   push  row 8 in detail: link() into new/ -> EXISTS, empty and 100,000-message
//         INBOX, and SMTP through Postfix -> EXISTS (virtual(8), our LMTP,
//         Dovecot's LMTP)                                   (bench-results/push.json)
//   services  what Postfix asks us: SASL AUTH (smtpd_sasl_type = dovecot) and
//         the quota-status policy, beside Dovecot's auth and quota-status
//                                                           (bench-results/services.json)
//   memory  two users x 50,000 messages, full first sync one after the other:
//         RSS after and peak, beside Dovecot's processes   (bench-results/memory.json)
//
//   node dist/test/bench/run.js [--suites=sync,load,push,services,memory] [--quick] [suite options…]
//
// Options other than --suites go to every suite (each ignores what it does not know).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SUITES = ['sync', 'load', 'push', 'services', 'memory'];

function runSuite(name: string, args: string[]): Promise<number> {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), `${name}.js`);
  console.log(`\n===== ${name} (${path.basename(file)} ${args.join(' ')}) =====\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<void> {
  const suitesArg = process.argv.find((a) => a.startsWith('--suites='));
  const suites = suitesArg ? suitesArg.slice('--suites='.length).split(',') : SUITES;
  const unknown = suites.filter((s) => !SUITES.includes(s));
  if (unknown.length) throw new Error(`unknown suite ${unknown.join(', ')}; known: ${SUITES.join(', ')}`);
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--suites='));
  const failed: string[] = [];
  for (const s of suites) if ((await runSuite(s, args)) !== 0) failed.push(s);
  console.log(`\nbenchmark suites: ${suites.join(', ')}; ${failed.length ? `FAILED: ${failed.join(', ')}` : 'all completed'}`);
  if (failed.length) process.exitCode = 1;
}

// Inert under node --test (npm test compiles test/bench too).
if (!process.env.NODE_TEST_CONTEXT) await main();
