/**
 * Docker rows of the launch benchmark (issue 13): time from launch to the agent's first command
 * for a real docker bottle with warm images (real egress + git-gate sidecar container, firewall,
 * agent container), against a bare `docker run --rm <same image> sh -c 'echo first'` measured in
 * the same run, and teardown time. Target: ≤ 2 s to first command with warm images.
 * bench/launch.ts merges these rows into its table; run alone:
 *
 *   DOCKER_HOST=… BOT_BOTTLE_BASE_IMAGE=… npx tsx bench/launch-docker.ts
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDockerBackend } from '../src/backends/docker/index.js';
import { clientEnv, findDockerCli } from '../src/backends/docker/engine.js';
import { createBottleCa, writeBottleCa } from '../src/egress/ca.js';
import { runLaunch } from '../src/launch/run.js';
import { buildAgentEnv } from '../src/plan/agent-env.js';
import { GUEST_CA_BUNDLE, GUEST_CA_CERT, GUEST_HOME, type BottlePlan } from '../src/plan/bottle-plan.js';
import { BUNDLED_DOCKER_DIR } from '../src/providers/paths.js';

const CMD = 'echo first';
export const DOCKER_TARGET_MS = 2000;
const IMAGE = 'bot-bottle-demo:latest';

export interface DockerSample {
  firstMs: number;
  teardownMs: number;
  phases: Record<string, number>;
}

export interface DockerRow {
  name: string;
  samples: DockerSample[];
  /** The row the target applies to. */
  target?: number;
}

function planFor(home: string, slug: string): BottlePlan {
  const stateDir = join(home, 'state', slug);
  return {
    schema: 'bot-bottle/bottle-plan@1', slug, label: slug, color: 'none', agentName: 'bench', bottleNames: ['bench'],
    backend: 'docker', headless: true, home, stateDir, cwd: home, copyCwd: false, workdir: GUEST_HOME,
    agent: {
      env: buildAgentEnv({ slug, label: slug, color: 'none', canary: 'bench-canary-0123456789abcdef', providerEnv: {}, providerName: 'bench', manifestEnv: {} }).env,
      interactiveArgv: ['/bin/sh'], resumeArgv: ['/bin/sh'], headlessArgv: ['/bin/sh', '-c', '{{prompt}}'], headlessResumeArgv: ['/bin/sh', '-c', '{{prompt}}'],
      files: [], skills: [], mcpRegisterArgv: null, transcriptPaths: [], gitConfig: [],
      image: { tag: IMAGE, dockerfile: null, context: null, defaultDockerfile: join(BUNDLED_DOCKER_DIR, 'Dockerfile.demo') },
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

function bareRun(cli: string): Promise<DockerSample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    const child = spawn(cli, ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', IMAGE, '-c', CMD], { env: clientEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', () => (first = performance.now()));
    child.on('error', reject);
    child.on('close', () => resolve({ firstMs: first - t0, teardownMs: performance.now() - first, phases: {} }));
  });
}

async function bottle(home: string, i: number): Promise<DockerSample> {
  const backend = createDockerBackend();
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

/**
 * The docker rows: a warm-up bottle first (builds or checks the images, not measured), then
 * `runs` bare runs and `runs` bottles. Throws when no docker engine answers.
 */
export async function dockerLaunchRows(runs = 3): Promise<DockerRow[]> {
  const cli = findDockerCli();
  if (cli === null) throw new Error('no docker CLI');
  const home = mkdtempSync(join(tmpdir(), 'bb-bench-docker-'));
  try {
    await bottle(home, -1); // warm images
    const bare: DockerSample[] = [];
    for (let i = 0; i < runs; i += 1) bare.push(await bareRun(cli));
    const bottles: DockerSample[] = [];
    for (let i = 0; i < runs; i += 1) bottles.push(await bottle(home, i));
    return [
      { name: 'bare `docker run --rm` (docker baseline)', samples: bare },
      { name: 'docker bottle, warm images', samples: bottles, target: DOCKER_TARGET_MS },
    ];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

/** Markdown lines for the rows: ratio against the docker baseline, and met/short against the target. */
export function dockerRowsTable(rows: readonly DockerRow[]): string[] {
  const base = median(rows[0]?.samples.map((s) => s.firstMs) ?? []);
  const out = ['| setup | to first command (median) | × docker baseline | teardown (median) | target |', '|---|---|---|---|---|'];
  for (const r of rows) {
    const f = median(r.samples.map((s) => s.firstMs));
    const t = r.target === undefined ? '' : `≤ ${fmt(r.target)}: ${f <= r.target ? 'met' : 'short'}`;
    out.push(`| ${r.name} | ${fmt(f)} | ${(f / base).toFixed(1)}× | ${fmt(median(r.samples.map((s) => s.teardownMs)))} | ${t} |`);
  }
  const b = rows.find((r) => r.target !== undefined);
  const names = Object.keys(b?.samples[0]?.phases ?? {});
  if (b) out.push('', `Phases (median): ${names.map((p) => `${p === 'start' ? 'plan → first step' : p}: ${fmt(median(b.samples.map((s) => s.phases[p] ?? 0)))}`).join('; ')}.`);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await dockerLaunchRows();
  process.stdout.write(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n${dockerRowsTable(rows).join('\n')}\n`);
}
