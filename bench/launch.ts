/**
 * Launch benchmark (issues 6, 15): time from launch to the agent's first command, and teardown
 * time, for a real netns bottle (real egress + git-gate sidecars) versus a bare `bwrap` of the same
 * command and one `node -e` start, measured in one run; then 8 bottles launched at once. Sidecars
 * run the compiled dist/ (run `npm run build` first), as in every user path. The last lines print
 * each launch target of issue 15 as met/short. Needs root, bwrap, nft, ip.
 *
 *   npm run bench:launch            # prints the table
 *   npm run bench:launch -- --write # also replaces the "## Launch" section of bench/RESULTS.md
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetnsBackend } from '../src/backends/netns/index.js';
import type { SidecarCommand } from '../src/backends/host-sidecar.js';
import { createBottleCa, writeBottleCa } from '../src/egress/ca.js';
import { runLaunch } from '../src/launch/run.js';
import { buildAgentEnv } from '../src/plan/agent-env.js';
import { GUEST_CA_BUNDLE, GUEST_CA_CERT, GUEST_HOME, type BottlePlan } from '../src/plan/bottle-plan.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 3;
const PARALLEL = 8;
const CMD = 'echo first';
/** Issue 15's launch targets. */
const TARGET_FIRST_MS = 500;
const TARGET_NODE_RATIO = 4;
const TARGET_PARALLEL_RATIO = 3;

interface Sample {
  firstMs: number;
  teardownMs: number;
  phases: Record<string, number>;
}

/**
 * CPU time (ms) of this process's waited-for descendants (/proc/self/stat cutime + cstime): every
 * sidecar, sandbox and tool process of a bottle once it is torn down. Unlike wall time it does
 * not grow with other work on the machine.
 */
function childrenCpuMs(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const tick = 10; // USER_HZ is 100 on Linux
  return (Number(f[13]) + Number(f[14])) * tick;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function bareBwrap(): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    const child = spawn('bwrap', [
      '--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--uid', '1000', '--gid', '1000',
      '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64',
      '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--', '/bin/sh', '-c', CMD,
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', () => (first = performance.now()));
    child.on('error', reject);
    child.on('close', () => resolve({ firstMs: first - t0, teardownMs: performance.now() - first, phases: {} }));
  });
}

/** `node -e 0`: how slow process start is on this machine right now (load reference). */
function nodeStartup(): Promise<Sample> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['-e', 'process.stdout.write("first")'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let first = 0;
    child.stdout.once('data', () => (first = performance.now()));
    child.on('close', () => resolve({ firstMs: first - t0, teardownMs: performance.now() - first, phases: {} }));
  });
}

function planFor(home: string, slug: string): BottlePlan {
  const stateDir = join(home, 'state', slug);
  return {
    schema: 'bot-bottle/bottle-plan@1', slug, label: slug, color: 'none', agentName: 'bench', bottleNames: ['bench'],
    backend: 'netns', headless: true, home, stateDir, cwd: home, copyCwd: false, workdir: GUEST_HOME,
    agent: {
      env: buildAgentEnv({ slug, label: slug, color: 'none', canary: 'bench-canary-0123456789abcdef', providerEnv: {}, providerName: 'bench', manifestEnv: {} }).env,
      interactiveArgv: ['/bin/sh'], resumeArgv: ['/bin/sh'], headlessArgv: ['/bin/sh', '-c', '{{prompt}}'], headlessResumeArgv: ['/bin/sh', '-c', '{{prompt}}'],
      files: [], skills: [], mcpRegisterArgv: null, transcriptPaths: [], gitConfig: [], image: { tag: 'none', dockerfile: null, context: null },
    },
    ca: { hostCertPath: join(stateDir, 'egress', 'ca.pem'), hostKeyPath: join(stateDir, 'egress', 'ca-key.pem'), guestCertPath: GUEST_CA_CERT, guestBundlePath: GUEST_CA_BUNDLE },
    sidecar: { daemons: ['egress', 'git-gate'], configDir: stateDir, env: {} },
  };
}

async function materialize(plan: BottlePlan): Promise<void> {
  const d = plan.stateDir;
  mkdirSync(d, { recursive: true, mode: 0o700 });
  await writeBottleCa(join(d, 'egress'), await createBottleCa(plan.slug, new Date()));
  mkdirSync(join(d, 'live-config'), { mode: 0o700 });
  writeFileSync(join(d, 'live-config', 'routes.yaml'), `version: 1\ngeneration: 1\nbottle: ${plan.slug}\nlog: 0\nroutes: []\n`);
  mkdirSync(join(d, 'git-gate'), { mode: 0o700 });
  writeFileSync(join(d, 'git-gate', 'config.yaml'), 'version: 1\nrepos: []\n');
  for (const s of ['supervise/spool', 'run', 'logs']) mkdirSync(join(d, s), { recursive: true, mode: 0o700 });
}

async function bottle(home: string, sidecarCommand: SidecarCommand | undefined, i: number): Promise<Sample> {
  const backend = createNetnsBackend(sidecarCommand ? { sidecarCommand } : {});
  const plan = planFor(home, `bench-${process.pid}-${i}-${Math.random().toString(36).slice(2, 6)}`);
  const phases: Record<string, number> = {};
  const t0 = performance.now();
  let first = 0;
  let last = t0;
  let lastName = 'start';
  const result = await runLaunch({ plan, secrets: { EGRESS_TOKEN_CANARY: 'bench-canary-0123456789abcdef' } }, {
    backend,
    prompt: CMD,
    materialize: () => materialize(plan),
    onEvent: (e) => {
      if (e.type !== 'progress' && e.type !== 'ready') return;
      const now = performance.now();
      phases[lastName] = (phases[lastName] ?? 0) + (now - last);
      last = now;
      lastName = e.message;
    },
    onOutput: () => {
      if (first === 0) first = performance.now();
    },
  });
  if (result.exitCode !== 0) throw new Error(`bench agent exited ${result.exitCode}`);
  return { firstMs: first - t0, teardownMs: performance.now() - first, phases };
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:launch needs root (netns)\n');
    process.exitCode = 3;
    return;
  }
  const home = mkdtempSync(join(tmpdir(), 'bb-bench-home-'));
  let cpuPerBottleMs = NaN;
  let cpuParallelMs = NaN;
  const rows: Array<{ name: string; samples: Sample[] }> = [];
  try {
    const base: Sample[] = [];
    for (let i = 0; i < RUNS; i += 1) base.push(await bareBwrap());
    rows.push({ name: 'bare bwrap (baseline)', samples: base });
    const node: Sample[] = [];
    for (let i = 0; i < RUNS; i += 1) node.push(await nodeStartup());
    rows.push({ name: 'reference: one `node -e` process start', samples: node });
    // Sidecars run the checkout's compiled dist/ (npm run build), as every user path does.
    const s: Sample[] = [];
    const cpu0 = childrenCpuMs();
    for (let i = 0; i < RUNS; i += 1) s.push(await bottle(home, undefined, i));
    cpuPerBottleMs = (childrenCpuMs() - cpu0) / RUNS;
    rows.push({ name: 'netns bottle, compiled sidecars', samples: s });
    // All at once: each sample's firstMs counts from the common start, so the slowest is "all ready".
    const cpu1 = childrenCpuMs();
    const many = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => bottle(home, undefined, 100 + i)));
    cpuParallelMs = (childrenCpuMs() - cpu1) / PARALLEL;
    rows.push({ name: `${PARALLEL} netns bottles launched at once (slowest of ${PARALLEL})`, samples: [many.reduce((a, b) => (b.firstMs > a.firstMs ? b : a))] });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }

  // Docker rows (issue 13), when an engine answers; otherwise one line saying why not.
  let dockerLines: string[];
  try {
    const { dockerLaunchRows, dockerRowsTable } = await import('./launch-docker.js');
    dockerLines = ['Docker backend, warm images (same run; ratio against a bare `docker run --rm` of the same image):', '', ...dockerRowsTable(await dockerLaunchRows(RUNS))];
  } catch (err) {
    dockerLines = [`Docker rows not measured: ${err instanceof Error ? err.message.split('\n')[0] : String(err)} (run with DOCKER_HOST pointing at an engine and BOT_BOTTLE_BASE_IMAGE set, as .ci/run does).`];
  }

  const baseFirst = median(rows[0]!.samples.map((s) => s.firstMs));
  const nodeFirst = median(rows[1]!.samples.map((s) => s.firstMs));
  const lines = [
    `| setup | to first command (median of ${RUNS}) | × baseline | × node -e | teardown (median) |`,
    '|---|---|---|---|---|',
    ...rows.map((r) => {
      const f = median(r.samples.map((s) => s.firstMs));
      return `| ${r.name} | ${fmt(f)} | ${(f / baseFirst).toFixed(0)}× | ${(f / nodeFirst).toFixed(1)}× | ${fmt(median(r.samples.map((s) => s.teardownMs)))} |`;
    }),
  ];
  const one = median(rows[2]!.samples.map((s) => s.firstMs));
  const all = rows[3]!.samples[0]!.firstMs;
  const verdict = (ok: boolean) => (ok ? 'met' : 'short');
  const targets = [
    `target: bottle to first command ≤ ${TARGET_FIRST_MS / 1000} s: ${verdict(one <= TARGET_FIRST_MS)} (${fmt(one)})`,
    `target: bottle to first command ≤ ${TARGET_NODE_RATIO}× one node -e start: ${verdict(one <= TARGET_NODE_RATIO * nodeFirst)} (${(one / nodeFirst).toFixed(1)}×)`,
    `target: ${PARALLEL} bottles at once all ready ≤ ${TARGET_PARALLEL_RATIO}× one bottle: ${verdict(all <= TARGET_PARALLEL_RATIO * one)} (${(all / one).toFixed(1)}×)`,
  ];
  const phaseRow = rows.find((r) => r.name.includes('compiled')) ?? rows.at(-1)!;
  const phaseNames = Object.keys(phaseRow.samples[0]?.phases ?? {});
  const phases = phaseNames.map((p) => `${p === 'start' ? 'plan → first step' : p}: ${fmt(median(phaseRow.samples.map((s) => s.phases[p] ?? 0)))}`);
  const text = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} CPU(s) (${cpus()[0]?.model.trim() ?? '?'}), node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} (machine shared with other work: compare ratios, not absolutes); agent command \`${CMD}\`; run with \`npm run bench:launch -- --write\`.`,
    '',
    ...lines,
    '',
    `Phases of "${phaseRow.name}" (median): ${phases.join('; ')}.`,
    '',
    ...dockerLines,
    '',
    `CPU per bottle (every process it started, launch to teardown, from /proc/self/stat cutime+cstime): ${fmt(cpuPerBottleMs)} one at a time, ${fmt(cpuParallelMs)} each when ${PARALLEL} start at once. Spread over ${cpus().length} CPU(s), ${PARALLEL} bottles' CPU is ${PARALLEL} × ${fmt(cpuParallelMs)} / ${cpus().length} = ${fmt((PARALLEL * cpuParallelMs) / cpus().length)}, ${((PARALLEL * cpuParallelMs) / cpus().length / one).toFixed(1)}× one bottle's wall time: roughly the floor of the parallel row on this machine (it includes teardown, which comes after ready).`,
    '',
    'The bottle time covers: writing state (CA mint), the host side of netns + veth under the allocation lock, then at once the guest side and the nftables table and the sidecar supervisor loading its code; its secrets (and so its daemons) only once the table exists; both daemons until they report listening; the bottle CA written into the guest home meanwhile (netns needs no provisioning exec for it); then the agent sandbox. Teardown covers log saving, stopping the sidecars (SIGTERM), deleting table, veth and netns, and removing the state dir. The sidecar start is dominated by three node processes (supervisor, egress, git-gate) loading the sidecar bundle — compare with the node-start reference row. The parallel row starts all bottles at one instant and reports when the last one ran its first command.',
    '',
    ...targets,
  ].join('\n');
  process.stdout.write(`${text}\n`);
  if (process.argv.includes('--write')) {
    const path = join(ROOT, 'bench', 'RESULTS.md');
    const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
    const section = `## Launch\n\n${text}\n`;
    const re = /## Launch\n[\s\S]*?(?=\n## |$)/;
    const next = re.test(old) ? old.replace(re, `${section.trimEnd()}\n`) : `${old.trimEnd()}\n\n${section}`;
    writeFileSync(path, next.endsWith('\n') ? next : `${next}\n`);
  }
}

await main();
