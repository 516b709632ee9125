/**
 * The escape suite's docker adapter: a real docker bottle (sidecar image built from the compiled
 * dist, the agent in the test image), the fixture's routes and gate config, and the host-side
 * probes of the outside attacks: another uid via setpriv, a neighbour network namespace routed to
 * the bottle pool via the host, a second bottle, the sidecar container's process tree from /proc.
 * docs/escape-suite.md. Needs a docker engine (DOCKER_HOST), a base image and root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDockerBackend } from '../../../src/backends/docker/index.js';
import { namesFor } from '../../../src/backends/docker/names.js';
import type { DockerBottle } from '../../../src/backends/docker/running.js';
import { runCommand } from '../../../src/backends/run-command.js';
import { provision } from '../../../src/launch/provision.js';
import { GUEST_CA_BUNDLE, GUEST_CA_CERT, type BottlePlan } from '../../../src/plan/bottle-plan.js';
import { DAEMON_PORTS } from '../../../src/sidecar/daemons.js';
import { dockerLeftovers, dockerPlan, dockerSkipReason } from '../../backends/helpers/docker.js';
import { skipReason } from '../../helpers/capabilities.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { writeRealState } from '../../launch/real-state.js';
import type { AfterClose, BottleHandle, EscapeAdapter, ExecResult, Fixture, HostProbes, LaunchedBottle, ProcInfo } from '../types.js';

const PORTS = { egress: DAEMON_PORTS.egress, gitGate: DAEMON_PORTS['git-gate'], supervise: DAEMON_PORTS.supervise } as const;
const DIST_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const rnd = () => randomBytes(3).toString('hex');
/** Computed once at load (the suite's `unavailable()` is synchronous). */
const engineSkip = await dockerSkipReason();

function run(cmd: string, args: readonly string[], opts: { stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
  return runCommand(cmd, args, { env: opts.env ?? process.env, ...(opts.stdin !== undefined ? { input: opts.stdin } : {}), ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) });
}

async function must(cmd: string, args: readonly string[]): Promise<void> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
}

function ppids(): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      out.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  return out;
}

function procInfo(pid: number): ProcInfo | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    const uids = field('Uid').split(/\s+/).map(Number);
    return {
      pid,
      uid: uids.some((u) => u === 0) ? 0 : (uids[1] ?? -1),
      capEff: field('CapEff'),
      rssKb: Number(field('VmRSS').replace(/\s*kB$/, '')) || 0,
      name: field('Name'),
      argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim(),
    };
  } catch {
    return null;
  }
}

function treeOf(root: number): number[] {
  const map = ppids();
  const out = [root];
  for (let i = 0; i < out.length; i += 1) for (const [pid, pp] of map) if (pp === out[i]) out.push(pid);
  return out.filter((p) => map.has(p));
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((r) => (t = setTimeout(() => r(onTimeout), ms)))]).finally(() => clearTimeout(t));
}

interface Launched {
  plan: BottlePlan;
  b: DockerBottle;
  handle: BottleHandle;
}

async function launchOne(home: string, slug: string, fixture: Fixture, withGate: boolean): Promise<Launched> {
  const plan = dockerPlan(home, slug, {
    daemons: withGate ? ['egress', 'git-gate'] : ['egress'],
    agentEnv: {
      BOT_BOTTLE_CANARY: fixture.canary, CURL_CA_BUNDLE: GUEST_CA_BUNDLE, SSL_CERT_FILE: GUEST_CA_BUNDLE, GIT_SSL_CAINFO: GUEST_CA_BUNDLE,
      NODE_EXTRA_CA_CERTS: GUEST_CA_CERT, S: fixture.envS, PATH: fixture.hostilePath,
    },
    sidecarEnv: {
      EGRESS_RESOLVE: Object.entries(fixture.resolve).map(([h, a]) => `${h}=${a}`).join(','),
      EGRESS_UPSTREAM_CA_FILE: fixture.upstreamCaFile,
      GIT_GATE_RESOLVE: Object.entries(fixture.resolve).map(([h, a]) => `${h}=${a}`).join(','),
      GIT_GATE_UPSTREAM_CA_FILE: fixture.upstreamCaFile,
    },
  });
  await writeRealState(plan, fixture.routesYaml(slug));
  writeFileSync(join(plan.stateDir, 'git-gate', 'config.yaml'), withGate ? fixture.gateConfigYaml : 'version: 1\nrepos: []\n', { mode: 0o644 });
  const b = (await createDockerBackend().launch(plan, { EGRESS_TOKEN_0: fixture.secret, EGRESS_TOKEN_CANARY: fixture.canary, GIT_GATE_CANARY: fixture.canary }, { onProgress: () => undefined })) as DockerBottle;
  try {
    await provision(plan, b, () => undefined, () => undefined);
  } catch (err) {
    await b.close();
    throw err;
  }
  const handle: BottleHandle = {
    slug,
    sidecarHost: b.sidecarAddr,
    ports: PORTS,
    exec: (argv, opts = {}) =>
      withTimeout(b.exec(argv, opts.stdin !== undefined ? { stdin: opts.stdin } : {}), opts.timeoutMs ?? 60_000, { code: 124, stdout: '', stderr: 'escape suite: exec timed out' }),
  };
  return { plan, b, handle };
}

/** A "container"/LAN neighbour: own netns, own veth to the host, routed to the docker bottle pool via the host. */
class Neighbour {
  readonly ns = `escn-${rnd()}`;
  readonly vethHost = `escn${this.ns.slice(5)}h`;
  readonly vethPeer = `escn${this.ns.slice(5)}n`;
  readonly block = 1 + Math.floor(Math.random() * 250);
  readonly hostAddr = `172.29.${this.block}.1`;
  private ready: Promise<void> | null = null;

  up(): Promise<void> {
    this.ready ??= (async () => {
      await must('ip', ['netns', 'add', this.ns]);
      await must('ip', ['link', 'add', this.vethHost, 'type', 'veth', 'peer', 'name', this.vethPeer]);
      await must('ip', ['link', 'set', this.vethPeer, 'netns', this.ns]);
      await must('ip', ['addr', 'add', `${this.hostAddr}/30`, 'dev', this.vethHost]);
      await must('ip', ['link', 'set', this.vethHost, 'up']);
      const inNs = (args: string[]) => must('ip', ['netns', 'exec', this.ns, 'ip', ...args]);
      await inNs(['addr', 'add', `172.29.${this.block}.2/30`, 'dev', this.vethPeer]);
      await inNs(['link', 'set', this.vethPeer, 'up']);
      await inNs(['link', 'set', 'lo', 'up']);
      await inNs(['route', 'add', '10.251.0.0/16', 'via', this.hostAddr]);
    })();
    return this.ready;
  }

  async exec(argv: readonly string[]): Promise<ExecResult> {
    await this.up();
    return run('ip', ['netns', 'exec', this.ns, ...argv], { timeoutMs: 20_000 });
  }

  async down(): Promise<void> {
    if (!this.ready) return;
    await run('ip', ['netns', 'del', this.ns]);
    await run('ip', ['link', 'del', this.vethHost]);
  }
}

async function containerPid(name: string): Promise<number | null> {
  const r = await run('docker', ['inspect', '--format', '{{.State.Pid}}', name]);
  const pid = Number(r.stdout.trim());
  return r.code === 0 && pid > 0 ? pid : null;
}

export function createDockerEscapeAdapter(): EscapeAdapter {
  return {
    name: 'docker',
    unavailable() {
      if (engineSkip) return engineSkip;
      const caps = skipReason('root', 'nft', 'ip', 'netns', 'curl');
      if (caps) return caps;
      if (!existsSync(DIST_MAIN)) return 'the sidecar image is built from the compiled dist: run "npx tsc -p tsconfig.build.json" first';
      return null;
    },

    async launch(fixture: Fixture): Promise<LaunchedBottle> {
      const home = mkdtempSync(join(tmpdir(), 'bb-escape-home-'));
      const slug = `esc-${rnd()}`;
      let first: Launched;
      try {
        first = await launchOne(home, slug, fixture, true);
      } catch (err) {
        rmSync(home, { recursive: true, force: true });
        throw err;
      }
      const { plan, b } = first;
      const names = namesFor(slug);
      const neighbour = new Neighbour();
      let second: Promise<Launched> | null = null;
      const outsiders = new Set<ChildProcess>();
      const sidecarUids = new Set<number>();
      const sidecarPid = await containerPid(names.sidecars);
      const memory = Number((await run('docker', ['inspect', '--format', '{{.HostConfig.Memory}}', names.sidecars])).stdout.trim());

      const sidecarProcesses = (): ProcInfo[] => {
        if (sidecarPid === null) return [];
        const procs = treeOf(sidecarPid).map(procInfo).filter((p): p is ProcInfo => p !== null);
        for (const p of procs) sidecarUids.add(p.uid);
        return procs;
      };

      const probes: HostProbes = {
        asOtherUid: (argv) => run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...argv], { timeoutMs: 20_000 }),
        fromNeighbour: (argv) => neighbour.exec(argv),
        neighbourGateway: async () => {
          await neighbour.up();
          return neighbour.hostAddr;
        },
        secondBottle: async () => {
          second ??= launchOne(home, `esc2-${rnd()}`, fixture, false);
          return (await second).handle;
        },
        sidecarProcesses,
        hostArgv: () => {
          const out: string[] = [];
          for (const e of readdirSync('/proc')) {
            if (!/^\d+$/.test(e)) continue;
            try {
              out.push(readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').join(' '));
            } catch {
              // gone
            }
          }
          return out;
        },
        otherHostAddresses: () =>
          Object.entries(networkInterfaces())
            .filter(([name]) => !name.startsWith('escn'))
            .flatMap(([, list]) => list ?? [])
            .filter((i) => i.family === 'IPv4' && !i.internal && i.address !== b.sidecarAddr && i.address !== b.agentAddr)
            .map((i) => i.address),
        egressAudit: () => {
          try {
            return readFileSync(join(plan.stateDir, 'logs', 'egress-audit.jsonl'), 'utf8');
          } catch {
            return '';
          }
        },
        routesFile: () => join(plan.stateDir, 'live-config', 'routes.yaml'),
        caKeyFile: () => plan.ca.hostKeyPath,
        spawnOutsideAsAgentUid: async () => {
          const child = spawn('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', 'sleep', '60'], { stdio: 'ignore' });
          outsiders.add(child);
          await new Promise((r) => setTimeout(r, 150));
          return {
            pid: child.pid ?? -1,
            alive: () => child.exitCode === null && child.signalCode === null,
            kill: () => child.kill('SIGKILL'),
          };
        },
        sidecarMemoryLimit: () => (Number.isFinite(memory) && memory > 0 ? memory : null),
      };

      const strayProcesses = (): string[] => {
        const out: string[] = [];
        for (const e of readdirSync('/proc')) {
          if (!/^\d+$/.test(e)) continue;
          const p = procInfo(Number(e));
          if (!p) continue;
          let cwd = '';
          try {
            cwd = readlinkSync(`/proc/${e}/cwd`);
          } catch {
            // gone or not ours to read
          }
          if (p.argv.includes(plan.stateDir) || cwd.startsWith(plan.stateDir) || p.argv.includes(names.sidecars)) out.push(`process ${p.pid} ${p.argv.slice(0, 80)}`);
        }
        return out;
      };

      let closed: Promise<AfterClose> | null = null;
      return {
        ...first.handle,
        probes,
        close() {
          closed ??= (async () => {
            for (const c of outsiders) c.kill('SIGKILL');
            const s = second ? await second.catch(() => null) : null;
            const slug2 = s?.plan.slug;
            await Promise.allSettled([b.close(), s?.b.close(), neighbour.down()]);
            const after: AfterClose = {
              leftovers: async () => [...dockerLeftovers(slug), ...(slug2 ? dockerLeftovers(slug2) : [])],
              cleanupDryRun: async () => {
                const emptyHome = mkdtempSync(join(tmpdir(), 'bb-escape-cleanup-'));
                const r = await run(process.execPath, [DIST_MAIN, 'cleanup', '--dry-run', '--json'], { env: { ...process.env, BOT_BOTTLE_HOME: emptyHome, NO_COLOR: '1' } });
                rmSync(emptyHome, { recursive: true, force: true });
                try {
                  const doc = JSON.parse(r.stdout) as { resources: Array<{ kind: string; name: string; slug: string | null }> };
                  const mine = new Set([names.short, ...(slug2 ? [namesFor(slug2).short] : [])]);
                  return doc.resources
                    .filter((x) => x.slug === slug || (slug2 !== undefined && x.slug === slug2) || [...mine].some((m) => x.name.includes(m)))
                    .map((x) => `${x.kind} ${x.name}`);
                } catch {
                  return [`cleanup --dry-run --json did not answer JSON (rc ${r.code}): ${r.stderr.trim().split('\n')[0] ?? ''}`];
                }
              },
              strayProcesses,
            };
            rmSync(home, { recursive: true, force: true });
            return after;
          })();
          return closed;
        },
      };
    },
  };
}
