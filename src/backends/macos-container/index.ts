/**
 * The macos-container backend (docs/architecture.md#8a-the-smolmachines-and-macos-container-backends): Apple's `container` runtime
 * on macOS 26. Per bottle a host-only (`--internal`) network for the agent and a NAT network for the
 * sidecars; the sidecar container sits on both and gets the token values over its stdin; the
 * agent's proxy is the sidecar's address on the host-only network, read back after start; the
 * sidecar names map to it in the agent's /etc/hosts. Built to the CLI; not run on real hardware in
 * this version (docs/decisions/macos-container-network.md).
 */
import { readFileSync } from 'node:fs';
import { BottleError } from '../../errors.js';
import type { BottlePlan, SidecarSecrets } from '../../plan/bottle-plan.js';
import type { ActiveBottle, Availability, Backend, CleanupPlan, RunningBottle } from '../backend.js';
import { CliBottle } from '../cli-bottle.js';
import { firstLine, realRunner, type Argv, type CommandRunner } from '../command-runner.js';
import { GUEST_RESOLV_CONF, guestHosts } from '../guest-env.js';
import { startHostSidecar } from '../host-sidecar.js';
import { pidAlive } from '../../util/pid-alive.js';
import { UndoStack } from '../undo-stack.js';
import {
  agentRunArgv, containerListArgv, deleteArgv, execArgv, hupArgv, imageInspectArgv, inspectArgv, internalNetworkArgv, NAME_PREFIX, namesFor,
  natNetworkArgv, networkDeleteArgv, networkListArgv, SIDECAR_CONFIG, SIDECAR_IMAGE, sidecarRunArgv, stopArgv,
} from './argv.js';
import { addressOn, listedContainers, listedNetworks } from './inspect-json.js';
import { containerAvailability, probeContainerHost, type ContainerHost } from './tools.js';

export const CONTAINER_NAME = 'macos-container';

export interface MacosContainerOptions {
  /** Every external command goes through this (tests capture argv). */
  run?: CommandRunner;
  /**
   * What actually runs for the sidecar container's `container run -i …` argv (the supervisor's
   * stdin/stdout protocol goes through it). Tests map it to a stand-in supervisor.
   */
  sidecarSpawn?: (argv: Argv) => { command: string; args: string[] };
  host?: ContainerHost;
}

export function createMacosContainerBackend(opts: MacosContainerOptions = {}): Backend {
  const run = opts.run ?? realRunner;
  const host = (): ContainerHost => opts.host ?? probeContainerHost();
  const exec = (a: Argv, o: Parameters<CommandRunner>[2] = {}) => run(a.command, a.args, o);
  const must = async (a: Argv, what: string, o: Parameters<CommandRunner>[2] = {}): Promise<string> => {
    const r = await exec(a, o);
    if (r.code !== 0) throw new BottleError('LAUNCH_FAILED', `${what} failed: ${firstLine(r)}`, { fix: 'run "bot-bottle doctor --backend macos-container"' });
    return r.stdout;
  };
  const quiet = async (a: Argv): Promise<void> => {
    await exec(a);
  };
  async function needImage(image: string, fix: string): Promise<void> {
    if ((await exec(imageInspectArgv(image))).code !== 0) throw new BottleError('LAUNCH_FAILED', `image ${image} not found in the container image store`, { fix });
  }

  return {
    name: CONTAINER_NAME,
    agentBinaryFromHost: null,

    available(): Promise<Availability> {
      return Promise.resolve(containerAvailability(host()));
    },

    async launch(plan: BottlePlan, secrets: SidecarSecrets, hooks: { onProgress(step: string): void; signal?: AbortSignal }): Promise<RunningBottle> {
      const avail = containerAvailability(host());
      if (!avail.ok) throw new BottleError('BACKEND_UNAVAILABLE', avail.reason, { fix: avail.fix });
      if (plan.agent.image.dockerfile !== null) {
        throw new BottleError('BACKEND_UNAVAILABLE', `macos-container cannot build images in this version (bottle for agent "${plan.agentName}" sets a Dockerfile)`, {
          fix: 'remove the Dockerfile setting (building agent images is not available in this version)',
        });
      }
      const n = namesFor(plan.slug);
      const undo = new UndoStack();
      const aborted = () => {
        if (hooks.signal?.aborted) throw new BottleError('ABORTED', `launch of ${plan.slug} interrupted`);
      };
      try {
        await needImage(SIDECAR_IMAGE, `build it: container build --tag ${SIDECAR_IMAGE} --file <bot-bottle package>/assets/docker/Dockerfile.sidecars <context> (the context holds package/ with package.json, dist/ and the production node_modules; this version does not stage it for macos-container)`);
        await needImage(plan.agent.image.tag, `build it: container build --tag ${plan.agent.image.tag} --file <Dockerfile> <context> (this version does not build agent images)`);
        aborted();
        hooks.onProgress('creating networks');
        await must(internalNetworkArgv(n, plan.slug), `container network create ${n.internalNet}`);
        undo.push('host-only network', () => quiet(networkDeleteArgv(n.internalNet)));
        await must(natNetworkArgv(n, plan.slug), `container network create ${n.natNet}`);
        undo.push('NAT network', () => quiet(networkDeleteArgv(n.natNet)));
        aborted();

        hooks.onProgress('starting sidecars');
        // Attached `container run -i`: the token values go to the supervisor's stdin (never an
        // --env flag, which the runtime keeps in the container's configuration).
        const toArgv = (supervisorArgs: string[]): { command: string; args: string[] } => {
          const a = sidecarRunArgv(plan, n, supervisorArgs, process.pid);
          return opts.sidecarSpawn ? opts.sidecarSpawn(a) : { command: a.command, args: [...a.args] };
        };
        undo.push('sidecar container', async () => {
          await quiet(stopArgv(n.sidecars));
          await quiet(deleteArgv(n.sidecars));
        });
        const sidecar = await startHostSidecar(plan, secrets, '0.0.0.0', hooks.signal, toArgv, {
          sh: '/bin/sh', procsFiles: [], drop: { prefix: [], configDir: SIDECAR_CONFIG, env: {} },
        });
        undo.push('sidecar client', () => sidecar.stop());
        const sidecarIp = addressOn(await must(inspectArgv(n.sidecars), `container inspect ${n.sidecars}`), n.internalNet);
        if (sidecarIp === null) {
          throw new BottleError('LAUNCH_FAILED', `could not read the sidecar's address on ${n.internalNet} from "container inspect ${n.sidecars}"`, { fix: 'run "bot-bottle doctor --backend macos-container"' });
        }
        aborted();

        hooks.onProgress('starting the agent container');
        await must(agentRunArgv(plan, n, process.pid), `container run ${n.agent}`);
        undo.push('agent container', async () => {
          await quiet(stopArgv(n.agent));
          await quiet(deleteArgv(n.agent));
        });
        const asRoot = (script: string) => execArgv(n.agent, ['/bin/sh', '-c', script], { user: null, env: {}, interactive: true });
        // Names resolve to the sidecar through /etc/hosts only; no resolver. Contents over stdin.
        await must(asRoot('cat > /etc/hosts'), 'writing the agent /etc/hosts', { input: guestHosts(sidecarIp) });
        await must(asRoot('cat > /etc/resolv.conf'), 'writing the agent /etc/resolv.conf', { input: GUEST_RESOLV_CONF });
        let ca: string | null = null;
        try {
          ca = readFileSync(plan.ca.hostCertPath, 'utf8');
        } catch {
          // no CA: nothing to trust
        }
        if (ca !== null) {
          const r = await exec(asRoot('mkdir -p /usr/local/share/ca-certificates && cat > /usr/local/share/ca-certificates/bot-bottle.crt && update-ca-certificates'), { input: ca });
          if (r.code !== 0) hooks.onProgress("warning: the bottle CA was not added to the container's system store (update-ca-certificates failed); the CA env variables still apply");
        }
        return new CliBottle({ plan, run, backend: CONTAINER_NAME, target: n.agent, sidecarAddr: sidecarIp, guestExec: execArgv, sidecarLog: sidecar.logPath, undo });
      } catch (err) {
        await undo.run();
        throw err;
      }
    },

    async listActive(): Promise<ActiveBottle[]> {
      const r = await exec(containerListArgv(false));
      if (r.code !== 0) return [];
      const all = listedContainers(r.stdout, NAME_PREFIX);
      const sidecars = new Set(all.filter((c) => c.labels['bot-bottle.role'] === 'sidecars' && c.running).map((c) => c.labels['bot-bottle.slug']));
      return all
        .filter((c) => c.labels['bot-bottle.role'] === 'agent' && c.running && c.labels['bot-bottle.slug'])
        .map((c) => {
          const l = c.labels;
          const slug = l['bot-bottle.slug']!;
          return {
            slug, agent: l['bot-bottle.agent'] ?? '', label: l['bot-bottle.label'] ?? slug, color: l['bot-bottle.color'] ?? 'none', backend: CONTAINER_NAME,
            bottles: (l['bot-bottle.bottles'] ?? '').split(',').filter(Boolean),
            sidecars: sidecars.has(slug) ? (l['bot-bottle.daemons'] ?? '').split(',').filter(Boolean) : [],
            headless: l['bot-bottle.headless'] === 'true', startedAt: l['bot-bottle.started'] ?? '',
          };
        });
    },

    async reloadEgress(slug: string): Promise<void> {
      const r = await exec(hupArgv(namesFor(slug).sidecars));
      if (r.code !== 0) throw new BottleError('STATE_NOT_FOUND', `no running macos-container sidecars for ${slug}`);
    },

    async cleanupPlan(liveSlugs: ReadonlySet<string>): Promise<CleanupPlan> {
      const cl = await exec(containerListArgv(true));
      const nl = await exec(networkListArgv());
      const containers = cl.code === 0 ? listedContainers(cl.stdout, NAME_PREFIX) : [];
      const networks = nl.code === 0 ? listedNetworks(nl.stdout, NAME_PREFIX) : [];
      const slugOfNet = (name: string): string | null => /^bot-bottle-(?:net|egress)-(.+)$/.exec(name)?.[1] ?? null;
      const ownerLive = (slug: string) =>
        liveSlugs.has(slug) || containers.some((c) => c.labels['bot-bottle.slug'] === slug && pidAlive(Number(c.labels['bot-bottle.owner-pid'] ?? 0)));
      const resources: CleanupPlan['resources'] = [];
      for (const c of containers) {
        const slug = c.labels['bot-bottle.slug'] ?? null;
        if (slug === null || !ownerLive(slug)) resources.push({ kind: 'container', name: c.name, slug });
      }
      for (const net of networks) {
        const slug = slugOfNet(net);
        if (slug === null || !ownerLive(slug)) resources.push({ kind: 'network', name: net, slug });
      }
      return { backend: CONTAINER_NAME, resources };
    },

    async cleanup(plan: CleanupPlan): Promise<void> {
      const failed: string[] = [];
      const order = ['container', 'network'];
      for (const r of [...plan.resources].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind))) {
        if (r.kind === 'container') {
          await quiet(stopArgv(r.name));
          if ((await exec(deleteArgv(r.name))).code !== 0) failed.push(r.name);
        } else if (r.kind === 'network') {
          if ((await exec(networkDeleteArgv(r.name))).code !== 0) failed.push(r.name);
        }
      }
      if (failed.length > 0) {
        throw new BottleError('TEARDOWN_FAILED', `could not remove: ${failed.join(', ')}`, { fix: 'remove them by hand (container delete --force <name> / container network delete <name>)', data: { failed } });
      }
    },
  };
}
