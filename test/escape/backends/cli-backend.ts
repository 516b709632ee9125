/**
 * The escape suite's adapter for the CLI-driven backends (smolmachines, macos-container;
 * docs/escape-suite.md). It constructs only where the backend's tool and OS exist
 * (`unavailable()` prints the backend's own reason otherwise), launches real bottles through the
 * backend with the fixture's routes and gate config, and provides the host probes that do not
 * depend on Linux namespaces. The probes that do (a neighbour network namespace, a process as the
 * agent's host uid, the sidecars' process tree inside a container) throw a "not available on
 * <backend>" error, so those attacks FAIL visibly on real hardware rather than pass; they are
 * the work left for when these backends run on macOS (docs/decisions/smolmachines-sidecars.md).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Availability, Backend } from '../../../src/backends/backend.js';
import type { CliBottle } from '../../../src/backends/cli-bottle.js';
import { realRunner } from '../../../src/backends/command-runner.js';
import { provision } from '../../../src/launch/provision.js';
import { GUEST_CA_BUNDLE, GUEST_CA_CERT, type BottlePlan } from '../../../src/plan/bottle-plan.js';
import { DAEMON_PORTS } from '../../../src/sidecar/daemons.js';
import { makePlan, tempHome } from '../../backends/helpers/plan.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { writeRealState } from '../../launch/real-state.js';
import type { AfterClose, BottleHandle, EscapeAdapter, ExecResult, Fixture, HostProbes, LaunchedBottle } from '../types.js';

const PORTS = { egress: DAEMON_PORTS.egress, gitGate: DAEMON_PORTS['git-gate'], supervise: DAEMON_PORTS.supervise } as const;
const DIST_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');
/** The provider image the bottles boot (must exist in the backend's image store). */
const AGENT_IMAGE = process.env.BOT_BOTTLE_ESCAPE_IMAGE ?? 'bot-bottle-claude:latest';

const rnd = () => randomBytes(3).toString('hex');

function notHere(backend: string, probe: string): never {
  throw new Error(`${probe}: not available on ${backend} in this version of the escape suite`);
}

async function launchOne(backend: Backend, home: string, slug: string, fixture: Fixture, withGate: boolean): Promise<{ plan: BottlePlan; b: CliBottle; handle: BottleHandle }> {
  const base = makePlan(home, slug, {
    backend: backend.name,
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
  const plan: BottlePlan = { ...base, agent: { ...base.agent, image: { tag: AGENT_IMAGE, dockerfile: null, context: null } } };
  await writeRealState(plan, fixture.routesYaml(slug));
  writeFileSync(join(plan.stateDir, 'git-gate', 'config.yaml'), withGate ? fixture.gateConfigYaml : 'version: 1\nrepos: []\n', { mode: 0o644 });
  const b = (await backend.launch(plan, { EGRESS_TOKEN_0: fixture.secret, EGRESS_TOKEN_CANARY: fixture.canary, GIT_GATE_CANARY: fixture.canary }, { onProgress: () => undefined })) as CliBottle;
  try {
    await provision(plan, b, () => undefined, () => undefined);
  } catch (err) {
    await b.close();
    throw err;
  }
  const handle: BottleHandle = {
    slug, sidecarHost: b.sidecarAddr, ports: PORTS,
    exec: (argv, opts = {}) => b.exec(argv, opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
  };
  return { plan, b, handle };
}

export function createCliEscapeAdapter(name: string, make: () => Backend, availability: () => Availability): EscapeAdapter {
  return {
    name,
    unavailable() {
      const a = availability();
      if (!a.ok) return `${name}: ${a.reason}`;
      if (!existsSync(DIST_MAIN)) return 'the sidecars run from the compiled dist: run "npx tsc -p tsconfig.build.json" first';
      return null;
    },
    async launch(fixture: Fixture): Promise<LaunchedBottle> {
      const backend = make();
      const home = tempHome();
      const slug = `esc-${rnd()}`;
      const first = await launchOne(backend, home, slug, fixture, true);
      let second: Promise<{ b: CliBottle; handle: BottleHandle }> | null = null;
      const probes: HostProbes = {
        asOtherUid: (argv) => runHost(process.platform === 'darwin' ? 'sudo' : 'setpriv', process.platform === 'darwin' ? ['-n', '-u', 'nobody', '--', ...argv] : ['--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv]),
        fromNeighbour: () => notHere(name, 'fromNeighbour'),
        neighbourGateway: () => notHere(name, 'neighbourGateway'),
        secondBottle: async () => (await (second ??= launchOne(backend, home, `esc-${rnd()}`, fixture, false))).handle,
        sidecarProcesses: () => notHere(name, 'sidecarProcesses'),
        hostArgv: () => notHere(name, 'hostArgv'),
        otherHostAddresses: () =>
          Object.values(networkInterfaces()).flat().flatMap((i) => (i && i.family === 'IPv4' && i.address !== first.b.sidecarAddr ? [i.address] : [])),
        egressAudit: () => {
          const p = join(first.plan.stateDir, 'logs', 'egress-audit.jsonl');
          return existsSync(p) ? readFileSync(p, 'utf8') : '';
        },
        routesFile: () => join(first.plan.stateDir, 'live-config', 'routes.yaml'),
        caKeyFile: () => first.plan.ca.hostKeyPath,
        spawnOutsideAsAgentUid: () => notHere(name, 'spawnOutsideAsAgentUid'),
        sidecarMemoryLimit: () => null,
      };
      return {
        ...first.handle,
        probes,
        async close(): Promise<AfterClose> {
          if (second) await (await second).b.close();
          await first.b.close();
          const left = async () => (await backend.cleanupPlan(new Set())).resources.filter((r) => r.slug === slug).map((r) => `${r.kind} ${r.name}`);
          return { leftovers: left, cleanupDryRun: left, strayProcesses: () => [] };
        },
      };
    },
  };
}

function runHost(cmd: string, args: readonly string[]): Promise<ExecResult> {
  return realRunner(cmd, args, { timeoutMs: 20_000 });
}
