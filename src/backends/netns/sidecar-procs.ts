/**
 * Processes of the sidecar uids, read from /proc (docs/decisions/netns-sidecar-uid.md): every
 * process whose real, effective, saved or filesystem uid is a bottle's sidecar uid belongs to that
 * bottle's sidecars, whatever process group or session it moved to (a git child that outlived its
 * daemon included). Teardown kills them all; `cleanup` finds those of uids no live record holds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isSidecarUid, passwdUids, statusUids } from './sidecar-user.js';

export interface UidProcess {
  pid: number;
  uid: number;
}

/** Live processes (zombies excluded) with any uid in the sidecar range, or exactly `only`. */
export function sidecarUidProcesses(only?: number): UidProcess[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  const out: UidProcess[] = [];
  for (const p of pids) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'latin1');
      if (/^State:\s+[ZX]/m.test(status)) continue;
      const uid = statusUids(status)?.find((u) => (only === undefined ? isSidecarUid(u) : u === only));
      if (uid !== undefined) out.push({ pid: Number(p), uid });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Every uid any live process runs as (for allocation: a busy uid is never handed out). */
export function runningUids(): number[] {
  return sidecarUidProcesses().map((p) => p.uid);
}

/** uids in /etc/passwd (for allocation). */
export function systemUids(): number[] {
  try {
    return passwdUids(readFileSync('/etc/passwd', 'utf8'));
  } catch {
    return [];
  }
}

/**
 * SIGKILL every process of `uid`, repeated until none is left (a process may fork while we
 * look). Returns the pids still alive after the last round (empty = all gone).
 */
export async function killUidProcesses(uid: number, rounds = 10): Promise<number[]> {
  let left: UidProcess[] = [];
  for (let round = 0; round < rounds; round += 1) {
    left = sidecarUidProcesses(uid);
    if (left.length === 0) return [];
    for (const { pid } of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  return sidecarUidProcesses(uid).map((p) => p.pid);
}
