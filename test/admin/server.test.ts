// The admin socket under a misbehaving client: before the server is open it
// says so; garbage gets an error reply; an endless line or an endless queue
// of requests ends the connection instead of growing memory; the socket is
// 0600 and gone after close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { AdminService } from '../../src/admin/server.js';
import { MAX_REQUEST_BYTES } from '../../src/admin/protocol.js';

/** Connects, sends `data`, and collects what comes back until the server closes (or 3 s pass). */
function exchange(file: string, data: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (got += d));
    s.on('connect', () => s.write(data));
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    setTimeout(() => s.destroy(), 3000).unref();
  });
}

test('admin socket: 0600; "server starting" before open; bad lines answered; long lines and floods end the connection; removed on close', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'admin-sock-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'admin.sock');
  const svc = new AdminService(pino({ level: 'silent' }));
  await svc.listen(`unix:${file}`, { user: null, group: null, mode: 0o600 });
  assert.equal((await fs.stat(file)).mode & 0o777, 0o600);

  assert.deepEqual(JSON.parse(await exchange(file, '{"cmd":"who"}\n')), { ok: false, error: 'server starting, try again' });
  let served = 0;
  svc.open(async () => ({ served: ++served }));
  const two = (await exchange(file, '{"cmd":"who"}\nnot json\n')).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(two, [{ ok: true, result: { served: 1 } }, { ok: false, error: 'not a JSON object' }]);

  const long = await exchange(file, 'x'.repeat(MAX_REQUEST_BYTES + 10));
  assert.deepEqual(JSON.parse(long), { ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes` });

  // 100 requests at once: the client is cut off rather than queued without end.
  const before = served;
  await exchange(file, '{"cmd":"who"}\n'.repeat(100));
  assert.ok(served - before <= 33, `served ${served - before}`);

  await svc.close();
  assert.equal(await fs.stat(file).catch(() => null), null);
});
