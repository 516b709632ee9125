/**
 * Resource limits of a netns bottle (backends spec §4: "through cgroups where writable (memory,
 * pids); skipped with a warning otherwise"). One cgroup per bottle named `bot-bottle-<short>`,
 * under cgroup v2 when the unified hierarchy is mounted at /sys/fs/cgroup, else under the v1
 * `pids` and `memory` hierarchies next to our own cgroup. Every sandbox joins it from the root
 * stage (sandbox-argv.ts) before dropping privileges, so the agent cannot leave it.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PIDS_LIMIT = 512;
export const MEMORY_LIMIT_BYTES = 4 * 1024 ** 3;
const ROOT = '/sys/fs/cgroup';
export const CGROUP_PREFIX = 'bot-bottle-';

export interface BottleCgroups {
  /** `cgroup.procs` files the stage writes its pid into. */
  procsFiles: string[];
  dirs: string[];
  /** Limits that could not be applied (for the launch warning). */
  skipped: string[];
}

function ownV1Path(controller: string): string {
  try {
    for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const [, ctrls, path] = line.split(':');
      if (ctrls?.split(',').includes(controller)) return path ?? '/';
    }
  } catch {
    // fall through
  }
  return '/';
}

/** Parent directories bottle cgroups are created in (also what cleanup scans). */
export function cgroupParents(): Array<{ kind: 'v2' | 'pids' | 'memory'; dir: string }> {
  if (existsSync(join(ROOT, 'cgroup.controllers'))) return [{ kind: 'v2', dir: ROOT }];
  const out: Array<{ kind: 'pids' | 'memory'; dir: string }> = [];
  for (const c of ['pids', 'memory'] as const) {
    if (existsSync(join(ROOT, c, 'cgroup.procs'))) out.push({ kind: c, dir: join(ROOT, c, ownV1Path(c)) });
  }
  return out;
}

function tryWrite(path: string, value: string): boolean {
  try {
    writeFileSync(path, value);
    return true;
  } catch {
    return false;
  }
}

export function createBottleCgroups(short: string): BottleCgroups {
  const result: BottleCgroups = { procsFiles: [], dirs: [], skipped: [] };
  const parents = cgroupParents();
  if (parents.length === 0) return { ...result, skipped: ['pids', 'memory'] };
  for (const p of parents) {
    const dir = join(p.dir, `${CGROUP_PREFIX}${short}`);
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        result.skipped.push(p.kind === 'v2' ? 'pids, memory' : p.kind);
        continue;
      }
    }
    result.dirs.push(dir);
    result.procsFiles.push(join(dir, 'cgroup.procs'));
    if (p.kind === 'v2' || p.kind === 'pids') {
      if (!tryWrite(join(dir, 'pids.max'), String(PIDS_LIMIT))) result.skipped.push('pids');
    }
    if (p.kind === 'v2' && !tryWrite(join(dir, 'memory.max'), String(MEMORY_LIMIT_BYTES))) result.skipped.push('memory');
    if (p.kind === 'memory' && !tryWrite(join(dir, 'memory.limit_in_bytes'), String(MEMORY_LIMIT_BYTES))) result.skipped.push('memory');
  }
  if (parents.length === 1 && parents[0]!.kind === 'pids') result.skipped.push('memory');
  return result;
}

/** rmdir each cgroup; a cgroup still holding exiting processes is retried for up to ~5 s. */
export async function removeCgroupDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (let i = 0; i < 100 && existsSync(dir); i += 1) {
      // Whatever is still inside (an exiting sandbox) is killed; the cgroup only holds ours.
      try {
        for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      } catch {
        // no procs file: nothing to kill
      }
      try {
        rmdirSync(dir);
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (existsSync(dir)) throw new Error(`cgroup ${dir} still busy`);
  }
}

/** Existing bottle cgroups: short id → directories. */
export function listBottleCgroups(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of cgroupParents()) {
    let names: string[] = [];
    try {
      names = readdirSync(p.dir);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = new RegExp(`^${CGROUP_PREFIX}([0-9a-f]{8})$`).exec(n);
      if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), join(p.dir, n)]);
    }
  }
  return out;
}
