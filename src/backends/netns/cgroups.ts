/**
 * Resource limits of a netns bottle, applied where cgroups are writable and skipped with one
 * launch warning otherwise (docs/architecture.md#82-launch-order-undone-in-reverse). One cgroup
 * per bottle named `bot-bottle-<short>`, under cgroup v2 when the unified hierarchy is mounted at
 * /sys/fs/cgroup, else under the v1 `pids`, `memory` and `cpu` hierarchies next to our own cgroup.
 *
 * The bottle cgroup holds no process itself: it has two leaves, `agent` (every sandbox joins it
 * from the root stage, sandbox-argv.ts, before dropping privileges, so the agent cannot leave it)
 * and `sidecar` (the supervisor joins it before it execs, host-sidecar.ts, and every daemon and
 * git process it spawns inherits it). Leaves only, because cgroup v2 lets a cgroup that enables
 * controllers for its children hold no processes of its own; separate leaves, because the agent
 * must not be able to starve its own egress and the sidecars parse hostile input on the host's
 * behalf, so what they use must be paid for by the bottle, not the host
 * (docs/decisions/netns-cgroups.md, docs/decisions/netns-sidecar-cgroup.md).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PIDS_LIMIT = 512;
export const MEMORY_LIMIT_BYTES = 4 * 1024 ** 3;
const ROOT = '/sys/fs/cgroup';
export const CGROUP_PREFIX = 'bot-bottle-';
/** Leaf names under `bot-bottle-<short>`. */
export const AGENT_CGROUP = 'agent';
export const SIDECAR_CGROUP = 'sidecar';

export interface CgroupLimits {
  memoryBytes: number;
  pids: number;
  /** CPU bandwidth (`cpu.max` "quota period", µs); null = no CPU limit. */
  cpu: { quotaUs: number; periodUs: number } | null;
  /** Forbid swap so the memory limit is the real ceiling (set only where the kernel accounts swap). */
  noSwap: boolean;
}

export const AGENT_LIMITS: CgroupLimits = { memoryBytes: MEMORY_LIMIT_BYTES, pids: PIDS_LIMIT, cpu: null, noSwap: false };

/**
 * The sidecars' ceiling (docs/decisions/netns-sidecar-cgroup.md). Memory: the three Node
 * processes (supervisor, egress, git-gate) are charged ≈ 60 MiB after launch, and a fetch through
 * the gate adds git (http-backend, upload-pack, pack-objects, index-pack) plus page cache, which is
 * charged here too but reclaimed under the limit. Tasks count threads: 33 at rest, and each
 * pack-objects adds one thread per host CPU. One core: a hostile stream can slow the bottle's own
 * egress, never the host.
 */
export const SIDECAR_LIMITS: CgroupLimits = {
  memoryBytes: 512 * 1024 ** 2,
  pids: 512,
  cpu: { quotaUs: 100_000, periodUs: 100_000 },
  noSwap: true,
};

export interface BottleCgroups {
  /** `cgroup.procs` files each agent sandbox writes its pid into (the `agent` leaves). */
  procsFiles: string[];
  /** `cgroup.procs` files the sidecar supervisor writes its pid into (the `sidecar` leaves). */
  sidecarProcsFiles: string[];
  /** Every directory created, leaves before their parent (the order removeCgroupDirs needs). */
  dirs: string[];
  /** Controllers whose limits could not be applied (for the launch warning). */
  skipped: string[];
  /**
   * Sidecar leaves whose CPU limit waits for `applySidecarCpuLimit` (docs/decisions/sidecar-bundle.md):
   * the sidecars start with the whole machine, then are held to their share before anything in
   * the bottle can reach them.
   */
  sidecarCpu: Array<{ kind: Kind; dir: string; cpu: NonNullable<CgroupLimits['cpu']> }>;
}

type Kind = 'v2' | 'pids' | 'memory' | 'cpu';
const V1_KINDS = ['pids', 'memory', 'cpu'] as const;

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
export function cgroupParents(): Array<{ kind: Kind; dir: string }> {
  if (existsSync(join(ROOT, 'cgroup.controllers'))) return [{ kind: 'v2', dir: ROOT }];
  const out: Array<{ kind: Kind; dir: string }> = [];
  for (const c of V1_KINDS) {
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

function makeDir(dir: string): boolean {
  try {
    mkdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EEXIST';
  }
}

/** Controllers a leaf of this hierarchy limits (the agent has no CPU limit, so no v1 cpu leaf). */
function controllersFor(kind: Kind, limits: CgroupLimits): string[] {
  const all = ['pids', 'memory', ...(limits.cpu ? ['cpu'] : [])];
  return kind === 'v2' ? all : all.filter((c) => c === kind);
}

/** Writes a leaf's limits; returns the controllers that could not be applied. */
function applyLimits(kind: Kind, dir: string, limits: CgroupLimits, cpu: CgroupLimits['cpu'] = limits.cpu): string[] {
  const failed: string[] = [];
  const want = controllersFor(kind, limits);
  if (want.includes('pids') && !tryWrite(join(dir, 'pids.max'), String(limits.pids))) failed.push('pids');
  if (want.includes('memory')) {
    if (!tryWrite(join(dir, kind === 'v2' ? 'memory.max' : 'memory.limit_in_bytes'), String(limits.memoryBytes))) failed.push('memory');
    else if (limits.noSwap) {
      // Swap is only accounted on some kernels (v2 memory.swap.max, v1 memsw): where it is not,
      // the memory limit already caps RAM, so an absent file is no warning. v1 memsw is RAM +
      // swap and must be >= the memory limit: equal to it means no swap.
      const swap = kind === 'v2' ? { file: 'memory.swap.max', value: '0' } : { file: 'memory.memsw.limit_in_bytes', value: String(limits.memoryBytes) };
      if (existsSync(join(dir, swap.file))) tryWrite(join(dir, swap.file), swap.value);
    }
  }
  if (want.includes('cpu') && limits.cpu && !writeCpu(kind, dir, cpu)) failed.push('cpu');
  return failed;
}

/** Writes a CPU bandwidth limit; null lifts it (v2 `max`, v1 quota -1). */
function writeCpu(kind: Kind, dir: string, cpu: CgroupLimits['cpu']): boolean {
  const period = cpu?.periodUs ?? 100_000;
  return kind === 'v2'
    ? tryWrite(join(dir, 'cpu.max'), `${cpu ? cpu.quotaUs : 'max'} ${period}`)
    : tryWrite(join(dir, 'cpu.cfs_period_us'), String(period)) && tryWrite(join(dir, 'cpu.cfs_quota_us'), String(cpu ? cpu.quotaUs : -1));
}

/**
 * Puts the sidecar leaves under their CPU limit once the daemons listen and before the bottle's
 * ports open (src/backends/netns/index.ts); returns the controllers that could not be limited.
 */
export function applySidecarCpuLimit(cg: BottleCgroups): string[] {
  const failed = cg.sidecarCpu.some((l) => !writeCpu(l.kind, l.dir, l.cpu)) ? ['cpu'] : [];
  cg.sidecarCpu = [];
  return failed;
}

export function createBottleCgroups(short: string, sidecarLimits: CgroupLimits = SIDECAR_LIMITS): BottleCgroups {
  const result: BottleCgroups = { procsFiles: [], sidecarProcsFiles: [], dirs: [], skipped: [], sidecarCpu: [] };
  const parents = cgroupParents();
  const bottles: string[] = [];
  const leaves = [
    { name: AGENT_CGROUP, limits: AGENT_LIMITS, procs: result.procsFiles, deferCpu: false },
    { name: SIDECAR_CGROUP, limits: sidecarLimits, procs: result.sidecarProcsFiles, deferCpu: true },
  ];
  if (parents[0]?.kind !== 'v2') {
    for (const k of V1_KINDS) if (!parents.some((p) => p.kind === k)) result.skipped.push(k);
  }
  for (const p of parents) {
    const bottle = join(p.dir, `${CGROUP_PREFIX}${short}`);
    if (!makeDir(bottle)) {
      result.skipped.push(...(p.kind === 'v2' ? ['pids', 'memory', 'cpu'] : [p.kind]));
      continue;
    }
    bottles.push(bottle);
    if (p.kind === 'v2') {
      // Children get a controller's files only once the parent enables it for them; one write
      // per controller, since one unavailable name would fail a combined write.
      for (const c of ['pids', 'memory', 'cpu']) tryWrite(join(bottle, 'cgroup.subtree_control'), `+${c}`);
    }
    for (const leaf of leaves) {
      const want = controllersFor(p.kind, leaf.limits);
      if (want.length === 0) continue;
      const dir = join(bottle, leaf.name);
      if (!makeDir(dir)) {
        result.skipped.push(...want);
        continue;
      }
      result.dirs.push(dir);
      leaf.procs.push(join(dir, 'cgroup.procs'));
      const deferred = leaf.deferCpu && leaf.limits.cpu && want.includes('cpu') ? leaf.limits.cpu : null;
      result.skipped.push(...applyLimits(p.kind, dir, leaf.limits, deferred ? null : leaf.limits.cpu));
      if (deferred) result.sidecarCpu.push({ kind: p.kind, dir, cpu: deferred });
    }
  }
  result.dirs.push(...bottles);
  result.skipped = [...new Set(result.skipped)];
  return result;
}

function killAll(dir: string): void {
  // cgroup v2's cgroup.kill kills every process below at once, racing no fork; elsewhere the
  // listed pids are killed one by one and the caller's retry loop catches late forks.
  if (existsSync(join(dir, 'cgroup.kill')) && tryWrite(join(dir, 'cgroup.kill'), '1')) return;
  try {
    for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').map(Number)) {
      // A pid outside our pid namespace reads as 0, and kill(0) would hit our own process group.
      if (!Number.isInteger(pid) || pid <= 1) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // no procs file: nothing to kill
  }
}

function childCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/**
 * rmdir each cgroup, its child cgroups first; whatever is still inside (an exiting sandbox, a git
 * process the gate left behind) is killed, since these cgroups only ever hold a bottle's own
 * processes. A busy cgroup is retried for up to ~5 s.
 */
export async function removeCgroupDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    await removeCgroupDirs(childCgroups(dir));
    for (let i = 0; i < 100 && existsSync(dir); i += 1) {
      killAll(dir);
      try {
        rmdirSync(dir);
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (existsSync(dir)) throw new Error(`cgroup ${dir} still busy`);
  }
}

/** Existing bottle cgroups: short id → directories, each bottle's leaves before the bottle. */
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
      if (!m) continue;
      const dir = join(p.dir, n);
      out.set(m[1]!, [...(out.get(m[1]!) ?? []), ...childCgroups(dir), dir]);
    }
  }
  return out;
}
