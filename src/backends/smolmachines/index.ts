/**
 * The smolmachines backend (docs/architecture.md#8a-the-smolmachines-and-macos-container-backends): the agent in a libkrun micro-VM
 * driven through the `smolvm` CLI, its sidecars as host processes listening only on the bottle's
 * loopback alias (127.0.0.16–31), and the VM's egress allowlist = that alias /32, read back after
 * create (fail closed). Built to the CLI; not run on real hardware in this version
 * (docs/decisions/smolmachines-cli-syntax.md).
 */
import { readFileSync } from 'node:fs';
import { BottleError } from '../../errors.js';
import type { BottlePlan, DaemonName, SidecarSecrets } from '../../plan/bottle-plan.js';
import { DAEMON_PORTS } from '../../sidecar/daemons.js';
import { selfCommand } from '../../sidecar/self-command.js';
import { canConnect } from '../../util/can-connect.js';
import type { ActiveBottle, Availability, Backend, CleanupPlan, RunningBottle } from '../backend.js';
import { firstLine, realRunner, type CommandRunner } from '../command-runner.js';
import { startHostSidecar, type SidecarCommand } from '../host-sidecar.js';
import { aliasesUp } from '../loopback-alias.js';
import { CliBottle } from '../cli-bottle.js';
import { allocateAlias, CLAIM_DIR, readClaims, releaseClaim, writeClaim, type AliasClaim } from '../loopback-alias-claims.js';
import { pidAlive } from '../../util/pid-alive.js';
import { pollUntil } from '../poll-ready.js';
import { UndoStack } from '../undo-stack.js';
import {
  ifconfigAliasArgv, ifconfigShowArgv, MACHINE_PREFIX, machineCreateArgv, machineDeleteArgv, machineExecArgv, machineListArgv, machineName,
  machineStartArgv, machineStopArgv, readinessArgv, type Argv,
} from './argv.js';
import { guestHosts } from '../guest-env.js';
import { allowlistTook, listedMachines, recordedAllowlist } from './machine-json.js';
import { defaultCacheRoot, ensurePack } from './image-pack.js';
import { probeSmolHost, smolAvailability, type SmolHost } from './tools.js';

export const SMOL_NAME = 'smolmachines';

/** How long the guest agent gets to answer after `machine start` (a cold VM boots in about a second). */
export const READY_TIMEOUT_MS = 60_000;

export interface SmolmachinesOptions {
  /** Every external command goes through this (tests capture argv). */
  run?: CommandRunner;
  /** Tests only: run a stand-in instead of `bot-bottle sidecar`. */
  sidecarCommand?: SidecarCommand;
  /** Host facts (tests pretend smolvm exists, or a platform). */
  host?: SmolHost;
  claimDir?: string;
  isAliasBusy?: (alias: string) => Promise<boolean>;
  cacheRoot?: string;
  readiness?: { timeoutMs?: number; sleep?: (ms: number) => Promise<void> };
}

export function createSmolmachinesBackend(opts: SmolmachinesOptions = {}): Backend {
  const run = opts.run ?? realRunner;
  const host = (): SmolHost => opts.host ?? probeSmolHost();
  const claimDir = opts.claimDir ?? CLAIM_DIR;
  const exec = (a: Argv, o: Parameters<CommandRunner>[2] = {}) => run(a.command, a.args, o);
  const must = async (a: Argv, what: string, o: Parameters<CommandRunner>[2] = {}): Promise<string> => {
    const r = await exec(a, o);
    if (r.code !== 0) throw new BottleError('LAUNCH_FAILED', `${what} failed: ${firstLine(r)}`, { fix: 'run "bot-bottle doctor --backend smolmachines"' });
    return r.stdout;
  };
  const quiet = async (a: Argv): Promise<void> => {
    await exec(a);
  };
  const myClaims = () => readClaims(claimDir).filter((c) => c.backend === SMOL_NAME);

  /** macOS: the alias must be up on lo0 (one sudo prompt per boot); Linux: all of 127/8 is local. */
  async function ensureAliasUp(platform: string, alias: string, onProgress: (s: string) => void): Promise<void> {
    if (platform !== 'darwin') return;
    if (aliasesUp((await exec(ifconfigShowArgv())).stdout).has(alias)) return;
    onProgress(`adding loopback alias ${alias} to lo0 (sudo may ask for your password once per boot)`);
    const r = await exec(ifconfigAliasArgv(alias), { interactive: true });
    if (r.code !== 0) throw new BottleError('LAUNCH_FAILED', `could not add loopback alias ${alias} to lo0`, { fix: `run: sudo ifconfig lo0 alias ${alias} up` });
  }

  return {
    name: SMOL_NAME,
    agentBinaryFromHost: null,

    available(): Promise<Availability> {
      return Promise.resolve(smolAvailability(host()));
    },

    async launch(plan: BottlePlan, secrets: SidecarSecrets, hooks: { onProgress(step: string): void; signal?: AbortSignal }): Promise<RunningBottle> {
      const h = host();
      const avail = smolAvailability(h);
      if (!avail.ok) throw new BottleError('BACKEND_UNAVAILABLE', avail.reason, { fix: avail.fix });
      if (plan.agent.image.dockerfile !== null) {
        throw new BottleError('BACKEND_UNAVAILABLE', `smolmachines cannot build images (bottle for agent "${plan.agentName}" sets a Dockerfile)`, {
          fix: 'remove the Dockerfile setting (building agent images is not available in this version)',
        });
      }
      const undo = new UndoStack();
      const aborted = () => {
        if (hooks.signal?.aborted) throw new BottleError('ABORTED', `launch of ${plan.slug} interrupted`);
      };
      const name = machineName(plan.slug);
      try {
        aborted();
        hooks.onProgress('allocating a loopback alias');
        let claim: AliasClaim = await allocateAlias(
          {
            schema: 'bot-bottle/alias-claim@1', backend: SMOL_NAME, slug: plan.slug, stateDir: plan.stateDir, ownerPid: process.pid, sidecarPid: null,
            machine: '', agent: plan.agentName, label: plan.label, color: plan.color, bottles: [...plan.bottleNames],
            daemons: [...plan.sidecar.daemons], headless: plan.headless, startedAt: new Date().toISOString(),
          },
          { dir: claimDir, ...(opts.isAliasBusy ? { isBusy: opts.isAliasBusy } : {}) },
        );
        const alias = claim.alias;
        undo.push('loopback alias', () => releaseClaim(alias, plan.slug, claimDir));
        await ensureAliasUp(h.platform, alias, hooks.onProgress);
        aborted();

        hooks.onProgress(`starting sidecars on ${alias}`);
        const sidecar = await startHostSidecar(plan, secrets, alias, hooks.signal, opts.sidecarCommand ?? selfCommand);
        undo.push('sidecars', () => sidecar.stop());
        claim = { ...claim, sidecarPid: sidecar.pid, daemons: sidecar.daemons };
        writeClaim(claim, claimDir);
        aborted();

        const pack = await ensurePack(run, plan.agent.image.tag, opts.cacheRoot ?? defaultCacheRoot(), hooks.onProgress);
        aborted();
        hooks.onProgress(`creating VM ${name}`);
        await must(machineCreateArgv(name, pack, alias), 'smolvm machine create');
        undo.push('machine', () => quiet(machineDeleteArgv(name)));
        claim = { ...claim, machine: name };
        writeClaim(claim, claimDir);
        // Fail closed: a VM whose recorded allowlist is not exactly the alias /32 never starts.
        const recorded = recordedAllowlist(await must(machineListArgv(), 'smolvm machine ls'), name);
        if (!allowlistTook(recorded, alias)) {
          throw new BottleError('LAUNCH_FAILED', `VM ${name} did not record the network allowlist ${alias}/32 (recorded: ${recorded === null ? 'none' : recorded.join(', ') || 'empty'}); refusing to start it`, {
            fix: 'update smolvm (the backend needs "machine create --allow-cidr"), then retry',
          });
        }
        aborted();

        hooks.onProgress(`starting VM ${name}`);
        await must(machineStartArgv(name), 'smolvm machine start');
        undo.push('machine running', () => quiet(machineStopArgv(name)));
        const probe = readinessArgv(name);
        const ready = await pollUntil(async () => (await exec(probe, { timeoutMs: 15_000 })).code === 0, {
          timeoutMs: opts.readiness?.timeoutMs ?? READY_TIMEOUT_MS,
          ...(opts.readiness?.sleep ? { sleep: opts.readiness.sleep } : {}),
          ...(hooks.signal ? { signal: hooks.signal } : {}),
        });
        aborted();
        if (!ready.ok) {
          throw new BottleError('LAUNCH_FAILED', `VM ${name} did not answer "smolvm machine exec … true" within ${(opts.readiness?.timeoutMs ?? READY_TIMEOUT_MS) / 1000}s (${ready.attempts} attempts)`, {
            fix: `see "smolvm machine status --name ${name}"; run "bot-bottle doctor --backend smolmachines"`,
          });
        }

        // The sidecar names resolve to the alias through /etc/hosts (the guest has no DNS); the
        // content goes over stdin, never argv.
        await must(machineExecArgv(name, ['/bin/sh', '-c', 'cat > /etc/hosts'], { user: null, env: {}, interactive: true }), 'writing the guest /etc/hosts', { input: guestHosts(alias) });
        let ca: string | null = null;
        try {
          ca = readFileSync(plan.ca.hostCertPath, 'utf8');
        } catch {
          // no CA (a bottle without egress interception): nothing to trust
        }
        if (ca !== null) {
          const r = await exec(
            machineExecArgv(name, ['/bin/sh', '-c', 'mkdir -p /usr/local/share/ca-certificates && cat > /usr/local/share/ca-certificates/bot-bottle.crt && update-ca-certificates'], { user: null, env: {}, interactive: true }),
            { input: ca },
          );
          if (r.code !== 0) hooks.onProgress('warning: the bottle CA was not added to the VM\'s system store (update-ca-certificates failed); the CA env variables still apply');
        }
        return new CliBottle({ plan, run, backend: SMOL_NAME, target: name, sidecarAddr: alias, guestExec: machineExecArgv, sidecarLog: sidecar.logPath, undo });
      } catch (err) {
        await undo.run();
        throw err;
      }
    },

    async listActive(): Promise<ActiveBottle[]> {
      const live = myClaims().filter((c) => c.machine !== '' && (pidAlive(c.ownerPid) || pidAlive(c.sidecarPid)));
      return Promise.all(
        live.map(async (c) => {
          const up = (await Promise.all(c.daemons.map(async (d) => ((await canConnect(c.alias, DAEMON_PORTS[d as DaemonName] ?? 0)) ? d : null)))).filter((d): d is string => d !== null);
          return {
            slug: c.slug, agent: c.agent, label: c.label, color: c.color, backend: SMOL_NAME, bottles: c.bottles,
            sidecars: up, headless: c.headless, startedAt: c.startedAt,
          };
        }),
      );
    },

    async reloadEgress(slug: string): Promise<void> {
      const c = myClaims().find((x) => x.slug === slug);
      if (!c || !pidAlive(c.sidecarPid)) throw new BottleError('STATE_NOT_FOUND', `no running smolmachines sidecars for ${slug}`);
      process.kill(c.sidecarPid!, 'SIGHUP');
    },

    async cleanupPlan(liveSlugs: ReadonlySet<string>): Promise<CleanupPlan> {
      // Machines are listed BEFORE the claims are read: a launch writes its claim before it
      // creates the VM, so every machine seen here already has its claim visible below.
      const ls = await exec(machineListArgv());
      const machines = ls.code === 0 ? listedMachines(ls.stdout, MACHINE_PREFIX) : [];
      const claims = myClaims();
      const isLive = (slug: string) => liveSlugs.has(slug) || claims.some((c) => c.slug === slug && pidAlive(c.ownerPid));
      const resources: CleanupPlan['resources'] = [];
      for (const c of claims) {
        if (isLive(c.slug)) continue;
        if (pidAlive(c.sidecarPid)) resources.push({ kind: 'process', name: String(c.sidecarPid), slug: c.slug });
      }
      for (const m of machines) {
        const slug = m.name.slice(MACHINE_PREFIX.length);
        if (!isLive(slug)) resources.push({ kind: 'machine', name: m.name, slug });
      }
      for (const c of claims) if (!isLive(c.slug)) resources.push({ kind: 'alias-claim', name: c.alias, slug: c.slug });
      return { backend: SMOL_NAME, resources };
    },

    async cleanup(plan: CleanupPlan): Promise<void> {
      const failed: string[] = [];
      const order = ['process', 'machine', 'alias-claim'];
      const sorted = [...plan.resources].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
      const claims = myClaims();
      for (const r of sorted) {
        try {
          if (r.kind === 'process') {
            const pid = Number(r.name);
            // Re-checked now: only a pid that is still the claim's sidecar is killed.
            if (claims.some((c) => c.sidecarPid === pid && c.slug === r.slug && !pidAlive(c.ownerPid))) {
              try {
                process.kill(-pid, 'SIGKILL');
              } catch {
                if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
              }
            }
          } else if (r.kind === 'machine') {
            await quiet(machineStopArgv(r.name));
            if ((await exec(machineDeleteArgv(r.name))).code !== 0) failed.push(r.name);
          } else if (r.kind === 'alias-claim' && r.slug !== null) {
            releaseClaim(r.name, r.slug, claimDir);
          }
        } catch {
          failed.push(r.name);
        }
      }
      if (failed.length > 0) {
        throw new BottleError('TEARDOWN_FAILED', `could not remove: ${failed.join(', ')}`, { fix: 'remove them by hand (smolvm machine delete --name <name> -f)', data: { failed } });
      }
    },
  };
}
