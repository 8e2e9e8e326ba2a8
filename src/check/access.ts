// What the service user can really open, asked of the kernel instead of
// worked out from mode bits (ACLs, a group the user is not in, a directory
// above that it cannot enter all show): `check`, run as root, starts one
// child process as the service user — with the one group serve keeps after
// dropping privileges — which tries every path and reports the errno.
import { spawnSync } from 'node:child_process';

export interface AccessProbe {
  path: string;
  /** 'read': the file can be opened for reading; 'rwx': a directory the server reads, writes and enters. */
  want: 'read' | 'rwx';
}

/** errno code per probed path (null: allowed), or an error message if the probe could not run at all. */
export type ProbeResult = { ok: true; denied: Map<string, string | null> } | { ok: false; reason: string };

const SCRIPT = `
const fs = require('node:fs');
const probes = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = {};
for (const p of probes) {
  try {
    if (p.want === 'read') fs.closeSync(fs.openSync(p.path, 'r'));
    else fs.accessSync(p.path, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
    out[p.path] = null;
  } catch (err) {
    out[p.path] = err.code || String(err.message);
  }
}
process.stdout.write(JSON.stringify(out));
`;

export function probeAccess(id: { uid: number; gid: number }, probes: AccessProbe[]): ProbeResult {
  if (!probes.length) return { ok: true, denied: new Map() };
  // uid/gid make libuv drop the supplementary groups too: the same access serve has after setgroups([gid]).
  const r = spawnSync(process.execPath, ['-e', SCRIPT], { uid: id.uid, gid: id.gid, cwd: '/', input: JSON.stringify(probes), encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) return { ok: false, reason: (r.error?.message ?? r.stderr.trim().split('\n').pop()) || `exit ${r.status}` };
  try {
    return { ok: true, denied: new Map(Object.entries(JSON.parse(r.stdout) as Record<string, string | null>)) };
  } catch {
    return { ok: false, reason: 'unreadable probe output' };
  }
}
