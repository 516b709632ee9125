/** What a netns bottle may leave on the host, read from the system (for no-orphan assertions). */
import { execFileSync } from 'node:child_process';
import { namesFor } from '../../../src/backends/netns/names.js';
import { listBottleCgroups } from '../../../src/backends/netns/cgroups.js';

export function leftovers(slug: string): string[] {
  const n = namesFor(slug);
  const out: string[] = [];
  if (execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').some((l) => l.startsWith(`${n.netns} `) || l === n.netns)) out.push(`netns ${n.netns}`);
  if (execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes(`${n.vethHost}@`)) out.push(`veth ${n.vethHost}`);
  if (execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).includes(`inet ${n.table}`)) out.push(`table ${n.table}`);
  for (const d of listBottleCgroups().get(n.short) ?? []) out.push(`cgroup ${d}`);
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  for (const line of ps.split('\n')) if (line.includes(`/state/${slug}`) && !line.includes(' ps ')) out.push(`process ${line.trim()}`);
  return out;
}
