// Fast creation of big Maildirs, and Postfix-style delivery with a timestamp.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

export interface Owner {
  uid: number;
  gid: number;
}

export function message(i: number, date: Date): string {
  const id = `${date.getTime().toString(36)}.${i}@bench.example`;
  return (
    `Return-Path: <sender${i % 97}@example.org>\n` +
    `Delivered-To: bob@example.com\n` +
    `Received: from mx.example.org (mx.example.org [192.0.2.${i % 250}])\n` +
    `\tby mail.example.com (Postfix) with ESMTPS id ${(i * 2654435761 >>> 0).toString(16).toUpperCase()}\n` +
    `\tfor <bob@example.com>; ${date.toUTCString()}\n` +
    `From: Sender ${i % 97} <sender${i % 97}@example.org>\n` +
    `To: Bob <bob@example.com>\n` +
    `Subject: Bench message number ${i}\n` +
    `Date: ${date.toUTCString()}\n` +
    `Message-ID: <${id}>\n` +
    `MIME-Version: 1.0\n` +
    `Content-Type: text/plain; charset=utf-8\n` +
    `\n` +
    `Hello Bob,\n\nthis is message ${i} of a generated mailbox.\nIt is short, like most mail.\n\n-- \nSender ${i % 97}\n`
  );
}

/** The name of generated message i of `count` (arrivals one a minute, ending at `nowSecs`). */
export function genName(i: number, count: number, nowSecs: number, pid: number): { name: string; secs: number } {
  const secs = nowSecs - count * 60 + i * 60;
  return { name: `${secs}.M${i}P${pid}.bench:2,S`, secs };
}

/**
 * Like fillCur, spread over worker threads: file creation on this disk costs
 * ~1 ms of latency each, so one thread would need minutes for 100,000.
 */
export async function fillCurParallel(maildir: string, count: number, workers = 16): Promise<number> {
  const started = performance.now();
  const nowSecs = Math.floor(Date.now() / 1000);
  const jobs = Array.from(
    { length: Math.max(1, Math.min(workers, count)) },
    (_, w) =>
      new Promise<void>((resolve, reject) => {
        const wk = new Worker(new URL('./gen-worker.js', import.meta.url), {
          workerData: { cur: path.join(maildir, 'cur'), from: w, step: workers, count, nowSecs, pid: process.pid },
        });
        wk.on('error', reject);
        wk.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`generator worker exited with ${code}`))));
      }),
  );
  await Promise.all(jobs);
  return performance.now() - started;
}

/**
 * Writes `count` messages into cur/ with names `<secs>.M<i>P<pid>.bench:2,S`,
 * arrival times spread over the past, mtimes left as written (cheap).
 * Returns the time taken in ms.
 */
export function fillCur(maildir: string, count: number, owner: Owner | null = null): number {
  const started = performance.now();
  const cur = path.join(maildir, 'cur');
  const nowSecs = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    const { name, secs } = genName(i, count, nowSecs, process.pid);
    const file = path.join(cur, name);
    fs.writeFileSync(file, message(i, new Date(secs * 1000)));
    if (owner) fs.chownSync(file, owner.uid, owner.gid);
  }
  return performance.now() - started;
}

let seq = 0;

/**
 * Delivers like Postfix virtual(8)/local(8): write tmp/X, fsync, link() to
 * new/Y, unlink tmp/X. Returns t0, taken just before link().
 */
export function deliverTimed(maildir: string, owner: Owner | null = null): { t0: number; name: string } {
  const now = Date.now();
  const secs = Math.floor(now / 1000);
  const n = ++seq;
  const tmp = path.join(maildir, 'tmp', `${secs}.P${process.pid}Q${n}.bench`);
  const name = `${secs}.V801I${n.toString(16)}M${(now % 1000) * 1000}P${process.pid}.bench`;
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, message(1_000_000 + n, new Date(now)));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (owner) fs.chownSync(tmp, owner.uid, owner.gid);
  const t0 = performance.now();
  fs.linkSync(tmp, path.join(maildir, 'new', name));
  fs.unlinkSync(tmp);
  return { t0, name };
}
