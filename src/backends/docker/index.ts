/**
 * The docker backend (docs/architecture.md, "The docker backend"): per bottle an internal network
 * with an explicit bridge and an allocated subnet, an nftables table closing the host and every
 * route but agent → sidecar ports (firewall.ts), the sidecar container (the same supervisor as
 * netns, secrets on its stdin) on that network and on an ordinary bridge for upstream, and the
 * agent container (uid 1000, no capabilities, the agent seccomp profile, no resolver, gVisor when registered) running
 * `sleep infinity`, into which every command is a `docker exec`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { BottleError } from '../../errors.js';
import { DAEMON_PORTS } from '../../sidecar/daemons.js';
import type { BottlePlan, DaemonName, SidecarSecrets } from '../../plan/bottle-plan.js';
import type { ActiveBottle, Availability, Backend, CleanupPlan, RunningBottle } from '../backend.js';
import { startHostSidecar } from '../host-sidecar.js';
import { runCommand } from '../run-command.js';
import { UndoStack } from '../undo-stack.js';
import { withAllocLock } from '../netns/alloc-lock.js';
import { pickSubnet, usedSubnets, type Subnet } from './alloc.js';
import { agentCreateArgv, egressNetworkArgv, internalNetworkArgv, labels, sidecarConnectArgv, sidecarCreateArgv, SIDECAR_STATE } from './argv.js';
import { clientEnv, Docker } from './engine.js';
import { firewallRuleset } from './firewall.js';
import { buildSettings, ensureAgentImage, ensureSidecarImage, imageExists } from './images.js';
import { cachedEngineInfo, dockerAvailability, findHostTool } from './probe.js';
import { engineApi, type EngineApi } from './engine-api.js';
import { writeCaTrust } from './ca-trust.js';
import { LABEL, namesFor, TABLE_PREFIX } from './names.js';
import { clientEnvConflicts, DockerBottle } from './running.js';
import { agentSeccompProfile } from './seccomp-profile.js';
import { sidecarIdentity } from './sidecar-user.js';
import { chooseRuntime, isRuntimeFailure, readBrokenNote, runscFix, runtimeMode, writeBrokenNote, type RuntimeChoice } from './runtime.js';
import { loopbackRelays, type RelaySet } from './loopback-relay.js';
import { listBottleObjects, type BottleObject } from './objects.js';
import { pidAlive } from '../../util/pid-alive.js';

/** The file `commit` writes and `resume` reads (docs/cli.md, state directory). */
export const COMMITTED_IMAGE_FILE = 'committed-image';

async function must(docker: Docker, args: string[], what: string, env?: Record<string, string>): Promise<string> {
  const r = await docker.run(args, env ? { env } : {});
  if (r.code !== 0) {
    throw new BottleError('LAUNCH_FAILED', `docker: ${what} failed: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`, { fix: 'run "bot-bottle doctor --backend docker"' });
  }
  return r.stdout;
}

/** Subnets in use on the host: every docker network's (one engine API query), and every host address. */
async function usedCidrs(api: EngineApi): Promise<string[]> {
  const nets = (await api.json<Array<{ IPAM?: { Config?: Array<{ Subnet?: string }> | null } }>>('/networks')) ?? [];
  const out = nets.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? '')).filter((s) => s.includes('.'));
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === 'IPv4') out.push(i.cidr ?? i.address);
  return out;
}

function sidecarMounts(plan: BottlePlan): Array<{ host: string; guest: string; readOnly: boolean }> {
  const m = (rel: string, readOnly: boolean) => ({ host: join(plan.stateDir, rel), guest: `${SIDECAR_STATE}/${rel}`, readOnly });
  for (const d of ['supervise/spool', 'logs', 'git-gate']) mkdirSync(join(plan.stateDir, d), { recursive: true, mode: 0o700 });
  // git-gate/ is read-write: the gate writes its hooks, sockets and mirrors under its root
  // (docs/decisions/docker-sidecar-mounts.md).
  return [m('live-config', true), m('egress', true), m('git-gate', false), m('supervise/spool', false), m('logs', false)];
}

function committedImage(plan: BottlePlan): string | null {
  try {
    return readFileSync(join(plan.stateDir, COMMITTED_IMAGE_FILE), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export interface DockerBackendOptions {
  /** Tests: a fixed docker CLI. */
  cli?: string;
}

export function createDockerBackend(opts: DockerBackendOptions = {}): Backend {
  const dockerOrThrow = async (): Promise<Docker> => {
    const avail = await dockerAvailability(opts.cli);
    if (!avail.ok) throw new BottleError('BACKEND_UNAVAILABLE', `docker: ${avail.reason}`, { fix: avail.fix });
    return new Docker(avail.cli);
  };

  const backend: Backend & { commit(slug: string): Promise<{ image?: string }> } = {
    name: 'docker',
    agentBinaryFromHost: null,
    buildsCustomImages: true,

    async available(): Promise<Availability> {
      const a = await dockerAvailability(opts.cli);
      return a.ok ? { ok: true } : { ok: false, reason: a.reason, fix: a.fix };
    },

    async plannedRuntime(): Promise<{ runtime: string; warning: string | null } | null> {
      if (!(await dockerAvailability(opts.cli)).ok) return null;
      const eng = await cachedEngineInfo(engineApi());
      const rt = chooseRuntime(runtimeMode(), eng.runtimes, readBrokenNote(eng.id));
      return { runtime: rt.runtime ?? eng.defaultRuntime, warning: rt.warning };
    },

    async launch(plan: BottlePlan, secrets: SidecarSecrets, hooks: { onProgress(step: string): void; signal?: AbortSignal }): Promise<RunningBottle> {
      const docker = await dockerOrThrow();
      const api = engineApi();
      const conflicts = clientEnvConflicts(plan.agent.env);
      if (conflicts.length > 0) {
        throw new BottleError('USAGE', `the docker backend cannot pass ${conflicts.join(', ')} to the agent (DOCKER_* variables configure the docker client itself)`, { fix: 'rename the variable in the bottle env' });
      }
      const settings = buildSettings();
      const mode = runtimeMode();
      const names = namesFor(plan.slug);
      const logs = join(plan.stateDir, 'logs');
      mkdirSync(logs, { recursive: true, mode: 0o700 });
      const aborted = () => {
        if (hooks.signal?.aborted) throw new BottleError('ABORTED', `launch of ${plan.slug} interrupted`);
      };
      const undo = new UndoStack();
      const progress = hooks.onProgress;
      try {
        // Everything runs as soon as what it needs exists (docs/architecture.md §10.2): images
        // (checked, built when their inputs changed), engine facts and both networks (the internal
        // one under the host-wide allocation lock) at once; the sidecar container is created on its
        // egress network as soon as its address is picked (while the internal network is still
        // being made), joined to the internal network when it exists and started, its secrets held
        // back until the firewall exists; the agent container is created meanwhile, given the bottle CA before it
        // starts, and started only after the firewall.
        hooks.onProgress('checking images');
        const buildLog = join(logs, 'build.log');
        const committed = committedImage(plan);
        const useCommitted = committed !== null && (await imageExists(api, committed));
        if (committed !== null && !useCommitted) progress(`warning: committed image ${committed} is gone; starting from the agent image`);
        const flock = findHostTool('flock') ?? 'flock';
        const sidecarImageP = ensureSidecarImage(docker, api, settings, buildLog, progress);
        const agentImageP = useCommitted ? Promise.resolve(committed) : ensureAgentImage(docker, api, plan, settings, buildLog, progress);
        const engP = cachedEngineInfo(api);
        // The subnet's addresses are known (`picked`) before its network exists (`subnetP`): the
        // sidecar container needs only its address to be created and started.
        let pick!: { resolve(sn: Subnet): void; reject(e: unknown): void };
        const pickedP = new Promise<Subnet>((resolve, reject) => (pick = { resolve, reject }));
        const subnetP = withAllocLock(flock, async (): Promise<Subnet> => {
          const sn = pickSubnet(usedSubnets(await usedCidrs(api)));
          if (!sn) throw new BottleError('LAUNCH_FAILED', 'no free /28 left in 10.251.0.0/16 for the bottle network', { fix: 'run "bot-bottle cleanup"' });
          // Registered before the sidecar container can be (it is created once the address is
          // picked), so teardown removes that container first; removing a network that was never
          // created is a harmless no-op.
          undo.push('internal network', async () => {
            await docker.run(['network', 'rm', names.network]);
          });
          pick.resolve(sn);
          // Created under the lock: the network is what marks the subnet in use.
          await must(docker, internalNetworkArgv(plan, names, sn), `creating network ${names.network}`);
          return sn;
        });
        subnetP.catch((e: unknown) => pick.reject(e)); // no effect once picked
        const egressP = must(docker, egressNetworkArgv(plan, names), `creating network ${names.egressNetwork}`).then(() =>
          undo.push('egress network', async () => {
            await docker.run(['network', 'rm', names.egressNetwork]);
          }),
        );

        // The firewall, before the agent container joins the bridge and before any secret is sent.
        const firewallP = Promise.all([subnetP, engP]).then(async ([subnet, eng]) => {
          const firewall = eng.desktop ? null : findHostTool('nft');
          if (!eng.desktop && firewall === null) {
            throw new BottleError('BACKEND_UNAVAILABLE', 'docker: nft (nftables) is needed for the bottle firewall and was not found', { fix: 'apt-get install nftables' });
          }
          if (firewall === null) return;
          const ports = plan.sidecar.daemons.map((d) => DAEMON_PORTS[d as DaemonName]);
          const r = await runCommand(firewall, ['-f', '-'], { input: firewallRuleset({ table: names.table, bridge: names.bridge, sidecar: subnet.sidecar, agent: subnet.agent, ports }) });
          if (r.code !== 0) {
            throw new BottleError('LAUNCH_FAILED', `docker: adding the bottle firewall (nftables table ${names.table}) failed: ${r.stderr.trim().split('\n')[0] ?? ''}`, {
              fix: 'the docker backend needs root (or CAP_NET_ADMIN) on Linux to add its firewall',
            });
          }
          undo.push('nftables table', async () => {
            await runCommand(firewall, ['delete', 'table', 'inet', names.table]);
          });
        });

        // The sidecar container: created on its egress network once its image, that network and its
        // address exist, joined to the internal network once that exists, then `docker start -ai`
        // at once (the supervisor loads while the firewall is built; it is trusted code and has a
        // way out anyway); its secrets written only when the firewall exists.
        const sidecarP = Promise.all([sidecarImageP, pickedP, egressP]).then(async ([sidecarImage, subnet]) => {
          aborted();
          const relays: RelaySet = await loopbackRelays(plan.sidecar.env, docker, names.egressNetwork, join(plan.stateDir, 'run', 'upstream-ca'));
          undo.push('loopback relays', () => relays.close());
          // HOME: the sidecar uid has no passwd entry; git and node want a writable home.
          const sidecarEnv: Record<string, string> = { HOME: '/tmp', ...plan.sidecar.env, ...relays.env };
          const mounts = sidecarMounts(plan);
          const { uid, gid } = sidecarIdentity(plan.stateDir, subnet.index);
          await must(
            docker,
            sidecarCreateArgv(plan, names, subnet, { image: sidecarImage, uid, gid, mounts: [...mounts, ...relays.mounts], envNames: Object.keys(sidecarEnv) }),
            `creating container ${names.sidecars}`,
            sidecarEnv,
          );
          undo.push('sidecar container', async () => {
            await docker.run(['rm', '-f', names.sidecars]);
          });
          aborted();
          progress('starting sidecars and agent container');
          // Joined before start: the container never runs without the address its daemons listen on.
          await subnetP;
          await must(docker, sidecarConnectArgv(names, subnet), `connecting ${names.sidecars} to ${names.network}`);
          aborted();
          const cli = docker.cli;
          const sc = await startHostSidecar(
            plan, secrets, subnet.sidecar, hooks.signal, () => ({ command: cli, args: ['start', '-a', '-i', names.sidecars] }),
            { sh: '/bin/sh', procsFiles: [], drop: { prefix: [], configDir: SIDECAR_STATE, env: clientEnv() as Record<string, string> } },
            firewallP,
          );
          undo.push('sidecars', () => sc.stop());
          await relays.attach(names.sidecars, sidecarImage, labels(plan, 'relay'));
          return sc;
        });

        // The agent container: created as soon as its image, the subnet and the runtime choice are
        // known; started after the firewall; the bottle CA goes in while the sidecars still start.
        let rt: RuntimeChoice = { runtime: null, warning: null };
        let caTrusted = false;
        const agentP = Promise.all([agentImageP, subnetP, engP]).then(async ([agentImage, subnet, eng]) => {
          rt = chooseRuntime(mode, eng.runtimes, readBrokenNote(eng.id));
          if (rt.warning) progress(`warning: ${rt.warning}`);
          const resolvConf = join(plan.stateDir, 'run', 'resolv.conf');
          mkdirSync(join(plan.stateDir, 'run'), { recursive: true, mode: 0o700 });
          writeFileSync(resolvConf, '# bot-bottle: no DNS resolver in this bottle; use the egress proxy\n', { mode: 0o644 });
          // The docker CLI reads the profile from this file and sends it with the create request.
          const seccompProfile = join(plan.stateDir, 'run', 'agent-seccomp.json');
          writeFileSync(seccompProfile, `${JSON.stringify(agentSeccompProfile(), null, 1)}\n`, { mode: 0o644 });
          // Created, then the bottle CA written into it before anything runs there (ca-trust.ts).
          const create = async (runtime: string | null) => {
            await must(docker, agentCreateArgv(plan, names, subnet, { image: agentImage, runtime, resolvConf, seccompProfile, ownerPid: process.pid, startedAt: new Date().toISOString() }), `creating container ${names.agent}`);
            caTrusted = await writeCaTrust(api, names.agent, plan);
          };
          undo.push('agent container', async () => {
            await docker.run(['rm', '-f', names.agent]);
          });
          await create(rt.runtime);
          await firewallP;
          aborted();
          let started = await docker.run(['start', names.agent]);
          if (started.code !== 0 && rt.runtime === 'runsc' && isRuntimeFailure(started.stderr)) {
            const why = started.stderr.trim().split('\n')[0] ?? '';
            if (mode === 'runsc') {
              throw new BottleError('LAUNCH_FAILED', `gVisor (runsc) is required but could not start the agent container: ${why}`, { fix: `${runscFix(why)}; or set BOT_BOTTLE_DOCKER_RUNTIME=auto` });
            }
            writeBrokenNote(eng.id, why);
            progress(`warning: gVisor (runsc) is registered but could not start a container here (${why.slice(0, 200)}); using runc. Fix: ${runscFix(why)}`);
            await docker.run(['rm', '-f', names.agent]);
            rt = { runtime: null, warning: null };
            await create(null);
            started = await docker.run(['start', names.agent]);
          }
          if (started.code !== 0) {
            throw new BottleError('LAUNCH_FAILED', `docker: starting the agent container failed: ${started.stderr.trim().split('\n').slice(-1)[0] ?? ''}`, { fix: 'run "bot-bottle doctor --backend docker"' });
          }
          return subnet;
        });

        const [sidecar, subnet] = await settleAll([sidecarP, agentP, sidecarImageP, agentImageP, engP, subnetP, egressP, firewallP, pickedP] as const);
        aborted();
        const bottle = new DockerBottle({
          plan, docker, names, undo, sidecarAddr: subnet.sidecar, agentAddr: subnet.agent, runtime: rt.runtime, caTrusted,
          sidecarLog: () => {
            try {
              return readFileSync(sidecar.logPath, 'utf8');
            } catch {
              return '';
            }
          },
        });
        return bottle;
      } catch (err) {
        await undo.run();
        throw err;
      }
    },

    async listActive(): Promise<ActiveBottle[]> {
      const a = await dockerAvailability(opts.cli);
      if (!a.ok) return [];
      const objs = await listBottleObjects(new Docker(a.cli));
      const sidecarsUp = new Map(objs.filter((o) => o.kind === 'container' && o.role === 'sidecars').map((o) => [o.slug, o.running ? o.labels[LABEL.daemons] ?? '' : '']));
      return objs
        .filter((o) => o.kind === 'container' && o.role === 'agent' && o.running)
        .map((o) => ({
          slug: o.slug,
          agent: o.labels[LABEL.agent] ?? '',
          label: o.labels[LABEL.label] ?? o.slug,
          color: o.labels[LABEL.color] ?? 'none',
          backend: 'docker',
          bottles: (o.labels[LABEL.bottles] ?? '').split(',').filter(Boolean),
          sidecars: (sidecarsUp.get(o.slug) ?? '').split(',').filter(Boolean),
          headless: o.labels[LABEL.headless] === 'true',
          startedAt: o.labels[LABEL.started] ?? '',
        }));
    },

    async reloadEgress(slug: string): Promise<void> {
      const docker = await dockerOrThrow();
      const r = await docker.run(['kill', '--signal', 'HUP', namesFor(slug).sidecars]);
      if (r.code !== 0) throw new BottleError('STATE_NOT_FOUND', `no running docker sidecars for ${slug}`);
    },

    async commit(slug: string): Promise<{ image?: string }> {
      const docker = await dockerOrThrow();
      const names = namesFor(slug);
      const objs = (await listBottleObjects(docker)).filter((o) => o.slug === slug && o.kind === 'container' && o.role === 'agent' && o.running);
      const agent = objs[0];
      if (!agent) throw new BottleError('STATE_NOT_FOUND', `bottle ${slug} is not running on docker`, { fix: 'see "bot-bottle list active"' });
      await must(docker, ['commit', '--pause=true', names.agent, names.committedImage], `committing ${names.agent}`);
      const stateDir = agent.labels[LABEL.stateDir];
      if (stateDir && existsSync(stateDir)) writeFileSync(join(stateDir, COMMITTED_IMAGE_FILE), `${names.committedImage}\n`, { mode: 0o600 });
      return { image: names.committedImage };
    },

    async cleanupPlan(liveSlugs: ReadonlySet<string>): Promise<CleanupPlan> {
      const a = await dockerAvailability(opts.cli);
      if (!a.ok) return { backend: 'docker', resources: [] };
      const docker = new Docker(a.cli);
      const objs = await listBottleObjects(docker);
      const live = (o: BottleObject) => liveSlugs.has(o.slug) || ownerAlive(objs, o.slug);
      const resources: CleanupPlan['resources'] = objs.filter((o) => !live(o)).map((o) => ({ kind: o.kind === 'container' ? 'container' : 'network', name: o.name, slug: o.slug }));
      const nft = findHostTool('nft');
      if (nft !== null) {
        const liveShorts = new Set(objs.filter(live).map((o) => namesFor(o.slug).short));
        const bySlugShort = new Map(objs.map((o) => [namesFor(o.slug).short, o.slug]));
        const tables = (await runCommand(nft, ['list', 'tables'])).stdout;
        for (const m of tables.matchAll(new RegExp(`^table inet (${TABLE_PREFIX}([0-9a-f]{8}))$`, 'gm'))) {
          if (!liveShorts.has(m[2]!)) resources.push({ kind: 'nftables-table', name: m[1]!, slug: bySlugShort.get(m[2]!) ?? null });
        }
      }
      return { backend: 'docker', resources };
    },

    async cleanup(plan: CleanupPlan): Promise<void> {
      const a = await dockerAvailability(opts.cli);
      if (!a.ok) return;
      const docker = new Docker(a.cli);
      const order = ['container', 'nftables-table', 'network'];
      const failed: string[] = [];
      for (const r of [...plan.resources].sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind))) {
        if (r.kind === 'container') {
          if ((await docker.run(['rm', '-f', r.name])).code !== 0) failed.push(r.name);
        } else if (r.kind === 'network') {
          const res = await docker.run(['network', 'rm', r.name]);
          if (res.code !== 0 && !/not found/i.test(res.stderr)) failed.push(r.name);
        } else if (r.kind === 'nftables-table') {
          const nft = findHostTool('nft');
          if (nft === null || (await runCommand(nft, ['delete', 'table', 'inet', r.name])).code !== 0) failed.push(r.name);
        }
      }
      if (failed.length > 0) {
        throw new BottleError('TEARDOWN_FAILED', `could not remove: ${failed.join(', ')}`, { fix: 'remove them with docker rm -f / docker network rm / nft delete table inet …', data: { failed } });
      }
    },
  };
  return backend;
}

/**
 * Promise.all that waits for every branch before rejecting: a failed branch must not start the
 * undo steps while another branch is still creating (and registering) resources.
 */
async function settleAll<T extends readonly unknown[]>(ps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const rs = await Promise.allSettled(ps);
  const bad = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) throw bad.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** A bottle whose launcher (label owner-pid) still runs on this host is live even before its session file exists. */
function ownerAlive(objs: readonly BottleObject[], slug: string): boolean {
  return pidAlive(Number(objs.find((o) => o.slug === slug && o.labels[LABEL.ownerPid])?.labels[LABEL.ownerPid] ?? NaN));
}
