/** What a netns bottle may leave on the host, read from the system (for no-orphan assertions). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { namesFor } from '../../../src/backends/netns/names.js';
import { listBottleCgroups } from '../../../src/backends/netns/cgroups.js';

/** Pids whose environment names the bottle (the supervisor and daemons carry BOT_BOTTLE_SLUG). */
function slugProcesses(slug: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'latin1').split('\0').includes(`BOT_BOTTLE_SLUG=${slug}`)) out.push(Number(e));
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}

/** Pids running as `uid` (a bottle's sidecar uid, when the test knows it). */
function uidProcesses(uid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${e}/status`, 'utf8'));
      if (m && Number(m[1]) === uid && !/^State:\s+Z/m.test(readFileSync(`/proc/${e}/status`, 'utf8'))) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Everything of `slug` still on the host. Sidecars run from staged paths as their own uid, so
 * processes are found by path (older layouts), by BOT_BOTTLE_SLUG in their environment, and by the
 * sidecar uid when given.
 */
export function leftovers(slug: string, sidecarUid?: number): string[] {
  const n = namesFor(slug);
  const out: string[] = [];
  if (execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').some((l) => l.startsWith(`${n.netns} `) || l === n.netns)) out.push(`netns ${n.netns}`);
  if (execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes(`${n.vethHost}@`)) out.push(`veth ${n.vethHost}`);
  if (execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).includes(`inet ${n.table}`)) out.push(`table ${n.table}`);
  for (const d of listBottleCgroups().get(n.short) ?? []) out.push(`cgroup ${d}`);
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  for (const line of ps.split('\n')) if (line.includes(`/state/${slug}`) && !line.includes(' ps ')) out.push(`process ${line.trim()}`);
  for (const pid of slugProcesses(slug)) out.push(`process ${pid} (BOT_BOTTLE_SLUG=${slug})`);
  if (sidecarUid !== undefined) for (const pid of uidProcesses(sidecarUid)) out.push(`process ${pid} (uid ${sidecarUid})`);
  return [...new Set(out)];
}
