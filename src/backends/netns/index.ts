/**
 * The daemonless Linux backend (docs/architecture.md#8-the-netns-backend): per bottle a network namespace joined to the
 * host by a veth /30, an nftables table that lets the bottle reach nothing but its running sidecar
 * ports (and nobody else reach those), the sidecars as host processes of the bottle's own
 * unprivileged uid bound to the host end (docs/decisions/netns-sidecar-uid.md), and the agent
 * under bubblewrap as uid 1000 with no capabilities.
 */
import { chmodSync, chownSync, closeSync, constants as fsc, existsSync, fchmodSync, fchownSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { canConnect } from '../../util/can-connect.js';
import { basename, dirname, join } from 'node:path';
import { BottleError } from '../../errors.js';
import { DAEMON_PORTS } from '../../sidecar/daemons.js';
import { selfCommand } from '../../sidecar/self-command.js';
import { caBundleText, systemRoots } from '../../launch/ca-bundle.js';
import { GUEST_HOME, GUEST_UID, type BottlePlan, type DaemonName, type SidecarSecrets } from '../../plan/bottle-plan.js';
import type { ActiveBottle, Availability, Backend, CleanupPlan, RunningBottle } from '../backend.js';
import { startHostSidecar, type SidecarCommand } from '../host-sidecar.js';
import { runCommand } from '../run-command.js';
import { UndoStack } from '../undo-stack.js';
import { withAllocLock } from './alloc-lock.js';
import { applySidecarCpuLimit, createBottleCgroups, listBottleCgroups, removeCgroupDirs, SIDECAR_LIMITS, type CgroupLimits } from './cgroups.js';
import { pickBlock, usedBlocks, type Block } from './alloc.js';
import { firewallRuleset, openPortsCommand } from './firewall.js';
import { guestEtcFiles } from './guest-etc.js';
import { NAME_PREFIX, namesFor, TABLE_PREFIX, type NetnsNames } from './names.js';
import { ensureRuntimeDirs } from './runtime-dir.js';
import { isSidecarOf, readRecords, removeRecord, writeRecord, type NetnsRecord } from './records.js';
import { pidAlive } from '../../util/pid-alive.js';
import { DEFAULT_PATH, NetnsBottle } from './running.js';
import { GUEST_ETC_FILES, SYSTEM_PATHS, type SystemEntry } from './sandbox-argv.js';
import { findTools, netnsAvailability, type NetnsTools } from './tools.js';
import { killUidProcesses, runningUids, sidecarUidProcesses, systemUids } from './sidecar-procs.js';
import { sidecarStaging } from './sidecar-staging.js';
import { prepareSidecarState } from './sidecar-state.js';
import { busyBlockIndexes, sidecarUidFor } from './sidecar-user.js';

async function must(tools: NetnsTools, cmd: keyof NetnsTools, args: string[], input?: string): Promise<string> {
  const r = await runCommand(tools[cmd], args, input === undefined ? {} : { input });
  if (r.code !== 0) {
    throw new BottleError('LAUNCH_FAILED', `${cmd} ${args.slice(0, 3).join(' ')} failed: ${r.stderr.trim().split('\n')[0] ?? ''}`, {
      fix: 'run "bot-bottle doctor --backend netns"',
    });
  }
  return r.stdout;
}

async function quiet(tools: NetnsTools, cmd: keyof NetnsTools, args: string[]): Promise<void> {
  await runCommand(tools[cmd], args);
}

function systemEntries(): SystemEntry[] {
  const out: SystemEntry[] = [];
  for (const path of SYSTEM_PATHS) {
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) out.push({ kind: 'symlink', path, target: readlinkSync(path) });
      else if (st.isDirectory()) out.push({ kind: 'dir', path });
      else if (st.isFile()) out.push({ kind: 'file', path });
    } catch {
      // absent on this distribution
    }
  }
  return out;
}

/** Kill every process whose network namespace is `netns` (the agent sandboxes). */
async function killNamespaceProcesses(tools: NetnsTools, netns: string): Promise<void> {
  for (let round = 0; round < 5; round += 1) {
    const r = await runCommand(tools.ip, ['netns', 'pids', netns]);
    const pids = r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}


/** Root of the installed package: dist/bundle/sidecar.js → the directory holding dist/ and node_modules/. */
function packageRoot(main: string): string {
  return dirname(dirname(dirname(main)));
}

/** Sidecar uids of bottles whose launcher or supervisor still runs. */
function liveSidecarUids(): Set<number> {
  const out = new Set<number>();
  for (const r of readRecords()) if (typeof r.sidecarUid === 'number' && (pidAlive(r.ownerPid) || isSidecarOf(r))) out.add(r.sidecarUid);
  return out;
}

function checkPlan(plan: BottlePlan): void {
  if (plan.agent.image.dockerfile !== null) {
    throw new BottleError('BACKEND_UNAVAILABLE', `netns cannot build images (bottle for agent "${plan.agentName}" sets a Dockerfile)`, {
      fix: 'run it with --backend docker, which builds agent images, or remove the Dockerfile setting',
    });
  }
}

/**
 * The host side, under the allocation lock: a free /30, the namespace, the veth pair and the
 * host-end address (which is what marks the block in use), link up. The sidecars can bind to the
 * host end from here on.
 */
async function setupHostNetwork(tools: NetnsTools, names: NetnsNames, undo: UndoStack): Promise<Block> {
  return withAllocLock(tools.flock, async () => {
    if (existsSync(`/run/netns/${names.netns}`)) {
      throw new BottleError('SLUG_IN_USE', `network namespace ${names.netns} already exists`, { fix: 'choose another label, or run "bot-bottle cleanup"' });
    }
    // A block whose sidecar uid is named in /etc/passwd or still runs a process (an orphan of a
    // bottle that died without teardown) is skipped: a new bottle shares its uid with nothing.
    const used = usedBlocks(await must(tools, 'ip', ['-o', '-4', 'addr', 'show']));
    for (const i of busyBlockIndexes([...systemUids(), ...runningUids()])) used.add(i);
    const block = pickBlock(used);
    if (!block) throw new BottleError('LAUNCH_FAILED', 'no free /30 left in 10.250.0.0/16', { fix: 'run "bot-bottle cleanup"' });
    await must(tools, 'ip', ['netns', 'add', names.netns]);
    undo.push('network namespace', () => quiet(tools, 'ip', ['netns', 'del', names.netns]));
    await must(tools, 'ip', ['link', 'add', names.vethHost, 'type', 'veth', 'peer', 'name', names.vethGuest, 'netns', names.netns]);
    undo.push('veth', async () => {
      if (existsSync(`/sys/class/net/${names.vethHost}`)) await quiet(tools, 'ip', ['link', 'del', names.vethHost]);
    });
    // The address is assigned before the lock is released: it is what marks the block in use.
    await must(tools, 'ip', ['addr', 'add', `${block.hostAddr}/30`, 'dev', names.vethHost]);
    await must(tools, 'ip', ['link', 'set', names.vethHost, 'up']);
    return block;
  });
}

/** The guest side of the veth, loopback, and no IPv6 on either end. */
async function setupGuestNetwork(tools: NetnsTools, names: NetnsNames, block: Block): Promise<void> {
  await must(tools, 'ip', ['-n', names.netns, 'addr', 'add', `${block.guestAddr}/30`, 'dev', names.vethGuest]);
  await must(tools, 'ip', ['-n', names.netns, 'link', 'set', names.vethGuest, 'up']);
  await must(tools, 'ip', ['-n', names.netns, 'link', 'set', 'lo', 'up']);
  // No IPv6 on either end (the nftables table drops it too): one less address family to police.
  // Tolerated when the kernel has no IPv6.
  await quiet(tools, 'sh', ['-c', `echo 1 > /proc/sys/net/ipv6/conf/${names.vethHost}/disable_ipv6`]);
  await quiet(tools, 'ip', ['netns', 'exec', names.netns, tools.sh, '-c', 'for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 1 > "$f"; done']);
}

function prepareGuestFiles(plan: BottlePlan, hostAddr: string): { homeDir: string; etcDir: string; caTrusted: boolean } {
  const homeDir = join(plan.stateDir, 'home');
  mkdirSync(homeDir, { recursive: true, mode: 0o700 });
  chownSync(homeDir, GUEST_UID, GUEST_UID);
  const etcDir = join(plan.stateDir, 'run', 'guest-etc');
  mkdirSync(etcDir, { recursive: true, mode: 0o755 });
  // Explicit chmods: the unprivileged bwrap reads these, and the launcher's umask (077 is common
  // for root) would otherwise mask the modes given at creation.
  chmodSync(etcDir, 0o755);
  const files = guestEtcFiles(hostAddr);
  for (const f of GUEST_ETC_FILES) {
    writeFileSync(join(etcDir, f), files[f] ?? '', { mode: 0o644 });
    chmodSync(join(etcDir, f), 0o644);
  }
  ensureRuntimeDirs();
  return { homeDir, etcDir, caTrusted: writeGuestCa(plan, homeDir) };
}

/**
 * The bottle CA and bundle written straight into the guest home (a host directory here), while
 * the sidecars start, instead of a sandboxed exec after (src/launch/ca-bundle.ts). The bottle sees
 * the host's /etc/ssl, so the host's system roots are the runtime's. We are root writing into a
 * directory a previous run of the agent controlled (resume): only names directly in the home, the
 * old entry unlinked (a symlink is removed, never followed) and the new one created exclusively
 * without following links. False (provisioning does it in the sandbox) for any other path.
 */
function writeGuestCa(plan: BottlePlan, homeDir: string): boolean {
  const inHome = (p: string) => (dirname(p) === GUEST_HOME ? join(homeDir, basename(p)) : null);
  const cert = inHome(plan.ca.guestCertPath);
  const bundle = inHome(plan.ca.guestBundlePath);
  if (cert === null || bundle === null) return false;
  let caPem: string;
  try {
    caPem = readFileSync(plan.ca.hostCertPath, 'utf8');
  } catch {
    return false; // provisioning names the missing file
  }
  const roots = systemRoots((f) => readFileSync(f, 'utf8'));
  try {
    for (const [path, text] of [[cert, caPem], [bundle, caBundleText(roots, caPem)]] as const) {
      rmSync(path, { force: true });
      const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644);
      try {
        writeFileSync(fd, text);
        fchmodSync(fd, 0o644);
        fchownSync(fd, GUEST_UID, GUEST_UID);
      } finally {
        closeSync(fd);
      }
    }
  } catch {
    // Something the agent left in the way (a directory): the sandboxed exec reports it.
    return false;
  }
  return true;
}

export interface NetnsBackendOptions {
  /** Tests only: run a stand-in instead of `bot-bottle sidecar`. */
  sidecarCommand?: SidecarCommand;
  /** Tests only: other limits for the sidecar cgroup (e.g. a small memory limit that bites). */
  sidecarLimits?: Partial<CgroupLimits>;
}

export function createNetnsBackend(opts: NetnsBackendOptions = {}): Backend {
  return {
    name: 'netns',
    agentBinaryFromHost: { path: DEFAULT_PATH, visibleRoots: SYSTEM_PATHS },

    available(): Promise<Availability> {
      return Promise.resolve(netnsAvailability());
    },

    async launch(plan: BottlePlan, secrets: SidecarSecrets, hooks: { onProgress(step: string): void; signal?: AbortSignal }): Promise<RunningBottle> {
      const avail = netnsAvailability();
      if (!avail.ok) throw new BottleError('BACKEND_UNAVAILABLE', avail.reason, { fix: avail.fix });
      const found = findTools();
      if (!('tools' in found)) throw new BottleError('BACKEND_UNAVAILABLE', 'netns tools missing');
      const tools = found.tools;
      checkPlan(plan);
      const names = namesFor(plan.slug);
      const undo = new UndoStack();
      const aborted = () => {
        if (hooks.signal?.aborted) throw new BottleError('ABORTED', `launch of ${plan.slug} interrupted`);
      };
      let withdraw: ((err: unknown) => void) | undefined;
      try {
        aborted();
        // The record comes first: a concurrent `cleanup` treats kernel objects without a live
        // record as orphans, so an in-flight launch must be visible before it creates any.
        const record: NetnsRecord = {
          schema: 'bot-bottle/netns-record@1', slug: plan.slug, short: names.short, stateDir: plan.stateDir,
          hostAddr: '', guestAddr: '', ownerPid: process.pid, sidecarPid: null,
          agent: plan.agentName, label: plan.label, color: plan.color, bottles: [...plan.bottleNames],
          daemons: [...plan.sidecar.daemons], headless: plan.headless, startedAt: new Date().toISOString(),
        };
        writeRecord(record);
        undo.push('record', () => removeRecord(names.short));
        hooks.onProgress('creating network namespace');
        const block = await setupHostNetwork(tools, names, undo);
        record.hostAddr = block.hostAddr;
        record.guestAddr = block.guestAddr;
        const uid = sidecarUidFor(block.index);
        record.sidecarUid = uid;
        writeRecord(record);
        aborted();
        // Pushed before anything that starts a sidecar: undo is LIFO, so at teardown the table
        // goes only after the sidecars are stopped (deleting a table not made yet is harmless).
        undo.push('nftables table', () => quiet(tools, 'nft', ['delete', 'table', 'inet', names.table]));
        // Agent and sidecars each get a leaf of the bottle cgroup (docs/decisions/netns-sidecar-cgroup.md).
        const cgroups = createBottleCgroups(names.short, { ...SIDECAR_LIMITS, ...opts.sidecarLimits });
        undo.push('cgroups', () => removeCgroupDirs(cgroups.dirs));
        if (cgroups.skipped.length > 0) hooks.onProgress(`warning: resource limits not applied (${[...new Set(cgroups.skipped)].join(', ')}): cgroups not writable`);
        hooks.onProgress('starting sidecars');
        // Runs after the supervisor's own stop (undo is LIFO): whatever still runs as the bottle's
        // uid — a git child in a session of its own included — is killed.
        undo.push('sidecar processes', async () => {
          const left = await killUidProcesses(uid);
          if (left.length > 0) throw new BottleError('TEARDOWN_FAILED', `processes of sidecar uid ${uid} survived SIGKILL: ${left.join(', ')}`);
        });
        prepareSidecarState(plan.stateDir, uid);
        const self = opts.sidecarCommand ? null : selfCommand([]);
        const staging = sidecarStaging({
          tools, uid, stateDir: plan.stateDir, env: plan.sidecar.env,
          self: self ? { pkgRoot: packageRoot(self.args[0]!), node: self.command, main: self.args[0]! } : null,
        });
        const staged = staging.self;
        const command: SidecarCommand | undefined = staged ? (args) => ({ command: staged.command, args: [...staged.args, ...args] }) : opts.sidecarCommand;
        // Overlap (docs/decisions/launch-overlap.md): the supervisor loads its code while the guest
        // side and the firewall are built; it gets its secrets — and so starts its daemons — only
        // once the nftables table exists (`release`). The table's port set stays empty until the
        // daemons have reported ready, so nothing in the bottle reaches them before that either.
        const firewall = (async () => {
          await setupGuestNetwork(tools, names, block);
          await must(tools, 'nft', ['-f', '-'], firewallRuleset(names.table, names.vethHost, block.hostAddr, uid));
        })();
        // A launch failing elsewhere meanwhile withdraws the release: no secret is sent then.
        const withdrawn = new Promise<never>((_, reject) => (withdraw = reject));
        withdrawn.catch(() => undefined);
        const starting = startHostSidecar(plan, secrets, block.hostAddr, hooks.signal, command, {
          sh: tools.sh, procsFiles: cgroups.sidecarProcsFiles, drop: { prefix: staging.prefix, configDir: staging.configDir, env: staging.env },
        }, Promise.race([firewall, withdrawn]));
        // Awaited below or by the undo step; an abort that rejects it earlier is not unhandled.
        starting.catch(() => undefined);
        // Stops the supervisor however its start ends (a failed start has stopped it already).
        undo.push('sidecars', async () => (await starting.catch(() => null))?.stop());
        const { homeDir, etcDir, caTrusted } = prepareGuestFiles(plan, block.hostAddr);
        // A firewall failure is the launch's error (the sidecar start then fails with it too).
        await firewall;
        const sidecar = await starting;
        // Started with the machine's CPUs, held to their share from here on: nothing in the
        // bottle has run yet, and its ports open only below.
        const cpuFailed = applySidecarCpuLimit(cgroups);
        if (cpuFailed.length > 0) hooks.onProgress(`warning: resource limits not applied (${cpuFailed.join(', ')}): cgroups not writable`);
        // Only now, and only the ports of daemons that are really serving, become reachable.
        const ports = sidecar.daemons.flatMap((d) => (d in DAEMON_PORTS ? [DAEMON_PORTS[d as DaemonName]] : []));
        const open = openPortsCommand(names.table, ports);
        if (open !== '') await must(tools, 'nft', ['-f', '-'], open);
        writeRecord({ ...record, sidecarPid: sidecar.pid, daemons: sidecar.daemons });
        aborted();
        return new NetnsBottle({
          plan, tools, netns: names.netns, homeDir, etcDir, caTrusted, system: systemEntries(), sidecarLog: sidecar.logPath,
          cgroupProcs: cgroups.procsFiles,
          hostAddr: block.hostAddr, guestAddr: block.guestAddr, undo,
          killNamespace: () => killNamespaceProcesses(tools, names.netns),
        });
      } catch (err) {
        withdraw?.(err);
        await killNamespaceProcesses(tools, names.netns);
        await undo.run();
        throw err;
      }
    },

    async listActive(): Promise<ActiveBottle[]> {
      const live = readRecords().filter(
        (r) => r.hostAddr !== '' && existsSync(`/run/netns/${NAME_PREFIX}${r.short}`) && (pidAlive(r.ownerPid) || pidAlive(r.sidecarPid)),
      );
      // "Sidecars up" is what answers on the host end right now (a local veth: a connect is
      // answered or refused at once), so a crashed daemon shows as down (docs/security-model.md#3-fault-behaviour).
      return Promise.all(
        live.map(async (r) => {
          const up = isSidecarOf(r)
            ? (await Promise.all(r.daemons.map(async (d) => ((await canConnect(r.hostAddr, DAEMON_PORTS[d as DaemonName] ?? 0)) ? d : null)))).filter((d): d is string => d !== null)
            : [];
          return {
            slug: r.slug, agent: r.agent, label: r.label, color: r.color, backend: 'netns', bottles: r.bottles,
            sidecars: up, headless: r.headless, startedAt: r.startedAt,
          };
        }),
      );
    },

    async reloadEgress(slug: string): Promise<void> {
      const rec = readRecords().find((r) => r.slug === slug);
      if (!rec || !isSidecarOf(rec)) throw new BottleError('STATE_NOT_FOUND', `no running netns sidecars for ${slug}`);
      process.kill(rec.sidecarPid!, 'SIGHUP');
    },

    async cleanupPlan(liveSlugs: ReadonlySet<string>): Promise<CleanupPlan> {
      const found = findTools();
      if (!('tools' in found)) return { backend: 'netns', resources: [] };
      const tools = found.tools;
      // Kernel objects are listed BEFORE the records are read: a launch writes its record before
      // creating anything, so every object seen here already has its record visible below.
      const nsOut = (await runCommand(tools.ip, ['netns', 'list'])).stdout;
      const linkOut = (await runCommand(tools.ip, ['-o', 'link', 'show'])).stdout;
      const nftOut = (await runCommand(tools.nft, ['list', 'tables'])).stdout;
      const cgroups = listBottleCgroups();
      const records = new Map(readRecords().map((r) => [r.short, r]));
      const isLive = (short: string) => {
        const r = records.get(short);
        return r !== undefined && (liveSlugs.has(r.slug) || pidAlive(r.ownerPid));
      };
      const slugOf = (short: string) => records.get(short)?.slug ?? null;
      const resources: CleanupPlan['resources'] = [];
      const procs = new Set<number>();
      for (const r of records.values()) {
        if (isLive(r.short)) continue;
        if (isSidecarOf(r)) {
          resources.push({ kind: 'process', name: String(r.sidecarPid), slug: r.slug });
          procs.add(r.sidecarPid!);
        }
      }
      // Every process of a sidecar uid that no live bottle holds (docs/decisions/netns-sidecar-uid.md).
      const byUid = new Map([...records.values()].filter((r) => typeof r.sidecarUid === 'number').map((r) => [r.sidecarUid!, r]));
      for (const p of sidecarUidProcesses()) {
        const r = byUid.get(p.uid);
        if ((r && isLive(r.short)) || procs.has(p.pid)) continue;
        resources.push({ kind: 'process', name: String(p.pid), slug: r?.slug ?? null });
      }
      for (const m of nsOut.matchAll(/^(bb-([0-9a-f]{8}))\b/gm)) {
        if (!isLive(m[2]!)) resources.push({ kind: 'netns', name: m[1]!, slug: slugOf(m[2]!) });
      }
      for (const m of linkOut.matchAll(/^\d+: (bb-([0-9a-f]{8})h)[@:]/gm)) {
        if (!isLive(m[2]!)) resources.push({ kind: 'veth', name: m[1]!, slug: slugOf(m[2]!) });
      }
      for (const m of nftOut.matchAll(new RegExp(`^table inet (${TABLE_PREFIX}([0-9a-f]{8}))$`, 'gm'))) {
        if (!isLive(m[2]!)) resources.push({ kind: 'nftables-table', name: m[1]!, slug: slugOf(m[2]!) });
      }
      for (const [short, dirs] of cgroups) {
        if (!isLive(short)) for (const d of dirs) resources.push({ kind: 'cgroup', name: d, slug: slugOf(short) });
      }
      for (const r of records.values()) {
        if (!isLive(r.short)) resources.push({ kind: 'record', name: r.short, slug: r.slug });
      }
      return { backend: 'netns', resources };
    },

    async cleanup(plan: CleanupPlan): Promise<void> {
      const found = findTools();
      if (!('tools' in found)) return;
      const tools = found.tools;
      const failed: string[] = [];
      const order = ['process', 'netns', 'veth', 'nftables-table', 'cgroup', 'record'];
      const sorted = [...plan.resources].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
      for (const r of sorted) {
        try {
          if (r.kind === 'process') {
            const pid = Number(r.name);
            const uidProc = sidecarUidProcesses().find((p) => p.pid === pid);
            if (uidProc) {
              // Re-checked now: a pid reused by a live bottle's sidecar since the survey is spared.
              if (!liveSidecarUids().has(uidProc.uid)) process.kill(pid, 'SIGKILL');
              continue;
            }
            try {
              process.kill(-pid, 'SIGKILL');
            } catch {
              if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
            }
          } else if (r.kind === 'netns') {
            await killNamespaceProcesses(tools, r.name);
            if ((await runCommand(tools.ip, ['netns', 'del', r.name])).code !== 0 && existsSync(`/run/netns/${r.name}`)) failed.push(r.name);
          } else if (r.kind === 'veth') {
            // Deleting the netns above destroys the pair asynchronously: a failed `ip link del`
            // only counts when the interface is still there a moment later.
            if (existsSync(`/sys/class/net/${r.name}`) && (await runCommand(tools.ip, ['link', 'del', r.name])).code !== 0) {
              await new Promise((res) => setTimeout(res, 300));
              if (existsSync(`/sys/class/net/${r.name}`)) failed.push(r.name);
            }
          } else if (r.kind === 'nftables-table') {
            if ((await runCommand(tools.nft, ['delete', 'table', 'inet', r.name])).code !== 0) failed.push(r.name);
          } else if (r.kind === 'cgroup') {
            await removeCgroupDirs([r.name]);
          } else if (r.kind === 'record') {
            removeRecord(r.name);
          }
        } catch {
          failed.push(r.name);
        }
      }
      if (failed.length > 0) {
        throw new BottleError('TEARDOWN_FAILED', `could not remove: ${failed.join(', ')}`, {
          fix: 'remove them by hand (ip netns del / ip link del / nft delete table inet …)',
          data: { failed },
        });
      }
    },
  };
}
