/**
 * The sidecars of a netns bottle run in the bottle's own `sidecar` cgroup, next to the agent's
 * (docs/decisions/netns-sidecar-cgroup.md), against the real kernel: the supervisor and every
 * process below it are inside before anything is parsed, the limits are set, the limit bites, a
 * killed sidecar leaves the agent with no network, and teardown and cleanup remove the cgroups.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { startHostSidecar } from '../../src/backends/host-sidecar.js';
import { AGENT_CGROUP, applySidecarCpuLimit, createBottleCgroups, listBottleCgroups, SIDECAR_CGROUP, SIDECAR_LIMITS } from '../../src/backends/netns/cgroups.js';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import { namesFor } from '../../src/backends/netns/names.js';
import { readRecords } from '../../src/backends/netns/records.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import { BottleError } from '../../src/errors.js';
import { routesFor, writeRealState } from '../launch/real-state.js';
import { leftovers } from './helpers/leftovers.js';
import { makePlan, standinCommand, tempHome } from './helpers/plan.js';

const rnd = () => Math.random().toString(36).slice(2, 7);
const secrets = { EGRESS_TOKEN_0: 'marker-cg-secret-41b7', EGRESS_TOKEN_CANARY: 'marker-cg-canary-93e2' };

/** A limit file of one of the leaves (v1 spreads them over hierarchies, v2 has one leaf). */
function readLimit(leaves: readonly string[], ...files: string[]): string | null {
  for (const d of leaves) for (const f of files) if (existsSync(join(d, f))) return readFileSync(join(d, f), 'utf8').trim();
  return null;
}
function procsOf(dir: string): number[] {
  return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
}
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    // no children
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}
/**
 * The /proc/<pid>/cgroup paths of the hierarchies bot-bottle limits: v2's `0::` line when the
 * unified hierarchy is what is mounted at /sys/fs/cgroup, else the v1 pids/memory/cpu lines (a
 * hybrid host also lists an unused controller-less `0::` line).
 */
function limitedPaths(pid: number): string[] {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':'))
    .filter(([id, ctrls]) => (v2 ? id === '0' && ctrls === '' : (ctrls ?? '').split(',').some((c) => ['pids', 'memory', 'cpu'].includes(c))))
    .map((parts) => parts.slice(2).join(':'));
}
function leavesOf(short: string, leaf: string): string[] {
  return (listBottleCgroups().get(short) ?? []).filter((d) => basename(d) === leaf);
}

// Probe: a throw-away bottle cgroup with every limit applied, or the printed reason to skip.
function cgroupSkip(): string | false {
  const root = skipReason('root', 'bwrap', 'nft', 'ip', 'curl');
  if (root) return root;
  const probe = createBottleCgroups(`probe${process.pid}`);
  for (const d of probe.dirs) {
    try {
      rmdirSync(d); // empty, leaves first
    } catch {
      // left for cleanup; harmless
    }
  }
  if (probe.skipped.length === 0) return false;
  const reason = `cgroups not writable here (${probe.skipped.join(', ')}): sidecar limits cannot be tested`;
  process.stderr.write(`SKIP (${reason})\n`);
  return reason;
}

describe.skipIf(cgroupSkip())('netns sidecar cgroup (real cgroups)', () => {
  const home = tempHome();
  const open: NetnsBottle[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close().catch(() => undefined)));
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('the real supervisor and every daemon below it are in the sidecar cgroup with its limits; the agent is not; all gone after close()', async () => {
    const slug = `cg-${rnd()}`;
    const plan = makePlan(home, slug, { daemons: ['egress', 'git-gate'] });
    await writeRealState(plan, routesFor(slug, 'api.bot-bottle.test', 443));
    const b = (await createNetnsBackend().launch(plan, { ...secrets, GIT_GATE_TOKEN_0: 'marker-cg-gate-77aa', GIT_GATE_CANARY: secrets.EGRESS_TOKEN_CANARY }, { onProgress: () => undefined })) as NetnsBottle;
    open.push(b);
    const short = namesFor(slug).short;
    const all = listBottleCgroups().get(short) ?? [];
    const sidecar = leavesOf(short, SIDECAR_CGROUP);
    const agent = leavesOf(short, AGENT_CGROUP);
    expect(sidecar.length).toBeGreaterThan(0);

    const supervisor = readRecords().find((r) => r.slug === slug)!.sidecarPid!;
    const below = descendants(supervisor);
    expect(below.filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('\0sidecar\0')).length).toBe(2);
    for (const pid of [supervisor, ...below]) {
      for (const leaf of sidecar) expect(procsOf(leaf), `pid ${pid} in ${leaf}`).toContain(pid);
      const paths = limitedPaths(pid);
      expect(paths.length).toBeGreaterThan(0);
      for (const p of paths) expect(p, `pid ${pid}`).toMatch(new RegExp(`/bot-bottle-${short}/${SIDECAR_CGROUP}$`));
    }

    expect(Number(readLimit(sidecar, 'memory.max', 'memory.limit_in_bytes'))).toBe(SIDECAR_LIMITS.memoryBytes);
    expect(Number(readLimit(sidecar, 'pids.max'))).toBe(SIDECAR_LIMITS.pids);
    const cpu = readLimit(sidecar, 'cpu.max') ?? `${readLimit(sidecar, 'cpu.cfs_quota_us')} ${readLimit(sidecar, 'cpu.cfs_period_us')}`;
    expect(cpu).toBe('100000 100000');
    const swap = readLimit(sidecar, 'memory.swap.max', 'memory.memsw.limit_in_bytes');
    if (swap !== null) expect(['0', String(SIDECAR_LIMITS.memoryBytes)]).toContain(swap);
    // Headroom actually used by the real daemons at rest (for docs/decisions/netns-sidecar-cgroup.md).
    const used = readLimit(sidecar, 'memory.current', 'memory.usage_in_bytes');
    process.stderr.write(`sidecar cgroup after launch: ${Math.round(Number(used) / 2 ** 20)} MiB, ${readLimit(sidecar, 'pids.current')} tasks\n`);

    // An agent process lands in the agent leaf, never next to the sidecars.
    const sleeper = b.exec(['/bin/sh', '-c', 'sleep 1.5']);
    await new Promise((r) => setTimeout(r, 700));
    for (const leaf of agent) expect(procsOf(leaf).length).toBeGreaterThan(0);
    for (const leaf of sidecar) expect(procsOf(leaf).sort()).toEqual([supervisor, ...below].sort());
    await sleeper;

    await b.close();
    for (const d of all) expect(existsSync(d), d).toBe(false);
    expect(leftovers(slug)).toEqual([]);
  }, 120_000);

  it('the memory limit bites: a sidecar driven past it is OOM-killed, the agent is left with no network, list active shows it down', async () => {
    const backend = createNetnsBackend({ sidecarCommand: standinCommand, sidecarLimits: { memoryBytes: 128 * 1024 ** 2 } });
    const slug = `cg-${rnd()}`;
    const b = (await backend.launch(makePlan(home, slug), secrets, { onProgress: () => undefined })) as NetnsBottle;
    open.push(b);
    const sidecar = leavesOf(namesFor(slug).short, SIDECAR_CGROUP);
    expect(Number(readLimit(sidecar, 'memory.max', 'memory.limit_in_bytes'))).toBe(128 * 1024 ** 2);
    const small = await b.exec(['curl', '-sS', '--noproxy', '*', '--max-time', '10', 'http://egress:9099/alloc?mb=8']);
    expect(JSON.parse(small.stdout)).toEqual({ heldMiB: 8 });

    const big = await b.exec(['/bin/sh', '-c', `curl -s --noproxy '*' --max-time 30 http://egress:9099/alloc?mb=512; echo "rc=$?"`]);
    expect(big.stdout).not.toContain('heldMiB');
    expect(big.stdout).toMatch(/rc=(52|56)/); // empty reply / connection reset: the process died mid-request
    const oom = readLimit(sidecar, 'memory.events', 'memory.oom_control') ?? '';
    expect(Number(/oom_kill (\d+)/.exec(oom)?.[1] ?? 0)).toBeGreaterThan(0);

    // Fail closed: nothing answers on the sidecar port any more, and nothing else is reachable.
    const after = await b.exec(['/bin/sh', '-c', `curl -s --noproxy '*' --connect-timeout 2 http://egress:9099/ ; echo "rc=$?"`]);
    expect(after.stdout).toMatch(/rc=(7|28)/);
    expect((await backend.listActive()).find((x) => x.slug === slug)?.sidecars).toEqual([]);
    await b.close();
    expect(leftovers(slug)).toEqual([]);
  }, 120_000);

  it('the sidecar leaf starts without a CPU limit and gets it from applySidecarCpuLimit (before the bottle can reach it)', () => {
    const short = Array.from({ length: 8 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
    const cg = createBottleCgroups(short);
    try {
      const sidecar = leavesOf(short, SIDECAR_CGROUP);
      const cpuOf = () => readLimit(sidecar, 'cpu.max') ?? `${readLimit(sidecar, 'cpu.cfs_quota_us')} ${readLimit(sidecar, 'cpu.cfs_period_us')}`;
      expect(['max 100000', '-1 100000']).toContain(cpuOf());
      expect(applySidecarCpuLimit(cg)).toEqual([]);
      expect(cpuOf()).toBe(`${SIDECAR_LIMITS.cpu!.quotaUs} ${SIDECAR_LIMITS.cpu!.periodUs}`);
      // The memory and task limits never wait.
      expect(Number(readLimit(sidecar, 'pids.max'))).toBe(SIDECAR_LIMITS.pids);
      expect(Number(readLimit(sidecar, 'memory.max', 'memory.limit_in_bytes'))).toBe(SIDECAR_LIMITS.memoryBytes);
    } finally {
      for (const d of cg.dirs) rmdirSync(d);
    }
  });

  it('cleanup lists and removes an orphaned sidecar cgroup, killing what is left inside it', async () => {
    const short = Array.from({ length: 8 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
    const cg = createBottleCgroups(short);
    expect(cg.sidecarProcsFiles.length).toBeGreaterThan(0);
    // A straggler like an orphaned git-http-backend: joined the sidecar cgroup, then outlived its supervisor.
    const straggler = spawn('/bin/sh', ['-c', 'for f in "$@"; do echo $$ > "$f"; done; exec sleep 300', 'straggler', ...cg.sidecarProcsFiles], { stdio: 'ignore', detached: true });
    await new Promise((r) => setTimeout(r, 300));
    const sidecar = leavesOf(short, SIDECAR_CGROUP);
    for (const leaf of sidecar) expect(procsOf(leaf)).toContain(straggler.pid);

    const backend = createNetnsBackend();
    const plan = await backend.cleanupPlan(new Set());
    const mine = plan.resources.filter((r) => r.kind === 'cgroup' && r.name.includes(`/bot-bottle-${short}`));
    for (const d of [...sidecar, ...leavesOf(short, AGENT_CGROUP)]) expect(mine.map((r) => r.name)).toContain(d);
    const exited = new Promise((r) => straggler.once('exit', r));
    await backend.cleanup({ ...plan, resources: mine });
    await exited;
    expect(listBottleCgroups().get(short)).toBeUndefined();
    for (const d of cg.dirs) expect(existsSync(d), d).toBe(false);
  });

  it('a sidecar that cannot join its cgroup does not start (no unbounded sidecars after limits were set up)', async () => {
    const plan = makePlan(home, `cg-${rnd()}`);
    const err = await startHostSidecar(plan, secrets, '127.0.0.1', undefined, standinCommand, { sh: '/bin/sh', procsFiles: ['/nonexistent/bot-bottle-x/sidecar/cgroup.procs'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BottleError);
    expect((err as BottleError).code).toBe('LAUNCH_FAILED');
    expect((err as BottleError).message).toContain('bb-sidecar-cgroup');
  });
});
