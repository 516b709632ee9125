/**
 * The docker CLI argv of one bottle (docs/architecture.md, docker part). Pure, so every flag that
 * closes a leak is unit-tested. No argv here ever carries a value of the agent env or a secret:
 * the agent env goes with each `docker exec` as `-e NAME` (the value in the client's environment),
 * and the sidecar secrets go to the supervisor's stdin.
 */
import { GUEST_HOME, GUEST_UID, SIDECAR_NAMES, type BottlePlan } from '../../plan/bottle-plan.js';
import type { Subnet } from './alloc.js';
import { LABEL, type DockerNames, type Role } from './names.js';

/** Where the sidecar container sees the bottle's state (its `--config`). */
export const SIDECAR_STATE = '/state';
export const AGENT_PIDS_LIMIT = 512;
export const AGENT_MEMORY = '4g';
export const SIDECAR_PIDS_LIMIT = 256;
export const SIDECAR_MEMORY = '1g';

export function labels(plan: BottlePlan, role: Role, extra: Readonly<Record<string, string>> = {}): string[] {
  const all: Record<string, string> = {
    [LABEL.slug]: plan.slug,
    [LABEL.role]: role,
    [LABEL.agent]: plan.agentName,
    [LABEL.label]: plan.label,
    [LABEL.color]: plan.color,
    [LABEL.bottles]: plan.bottleNames.join(','),
    [LABEL.headless]: String(plan.headless),
    [LABEL.stateDir]: plan.stateDir,
    // The launcher: while it runs, `cleanup` treats the bottle's objects as live.
    [LABEL.ownerPid]: String(process.pid),
    ...extra,
  };
  return Object.entries(all).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
}

/** The internal network: no route out, explicit bridge name (the firewall names it), allocated subnet. */
export function internalNetworkArgv(plan: BottlePlan, names: DockerNames, subnet: Subnet): string[] {
  return [
    'network', 'create', '--driver', 'bridge', '--internal',
    '--subnet', subnet.cidr, '--gateway', subnet.gateway,
    '-o', `com.docker.network.bridge.name=${names.bridge}`,
    ...labels(plan, 'network'),
    names.network,
  ];
}

/** The sidecars' way out: an ordinary user-defined bridge the agent is never attached to. */
export function egressNetworkArgv(plan: BottlePlan, names: DockerNames): string[] {
  return ['network', 'create', '--driver', 'bridge', '-o', `com.docker.network.bridge.name=${names.egressBridge}`, ...labels(plan, 'egress-network'), names.egressNetwork];
}

export interface SidecarRun {
  image: string;
  uid: number;
  gid: number;
  /** Host directory → container directory, read-only or not. Directories only (docs/cli.md §14). */
  mounts: ReadonlyArray<{ host: string; guest: string; readOnly: boolean }>;
  /** Names of the non-secret settings passed with `-e NAME` (values in the client env). */
  envNames: readonly string[];
}

/**
 * `docker create` of the sidecar container on its egress network, so it can be created while the
 * internal network is still being made; joined to that network (sidecarConnectArgv) before
 * `docker start -ai` (secrets on stdin) (docs/decisions/docker-engine-api.md).
 */
export function sidecarCreateArgv(plan: BottlePlan, names: DockerNames, subnet: Subnet, s: SidecarRun): string[] {
  return [
    'create', '-i', '--name', names.sidecars, ...labels(plan, 'sidecars', { [LABEL.daemons]: plan.sidecar.daemons.join(',') }),
    '--network', names.egressNetwork,
    '--user', `${s.uid}:${s.gid}`,
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '--pids-limit', String(SIDECAR_PIDS_LIMIT), '--memory', SIDECAR_MEMORY,
    '--read-only', '--tmpfs', '/tmp:mode=1777', '--tmpfs', `${SIDECAR_STATE}/run:mode=0700,uid=${s.uid},gid=${s.gid}`,
    ...s.mounts.flatMap((m) => ['--mount', `type=bind,src=${m.host},dst=${m.guest}${m.readOnly ? ',readonly' : ''}`]),
    ...s.envNames.flatMap((n) => ['-e', n]),
    s.image,
    'sidecar', '--tokens-from-stdin', '--config', SIDECAR_STATE, '--listen', subnet.sidecar, '--daemons', plan.sidecar.daemons.join(','),
  ];
}

/** The sidecar's place on the internal network: its fixed address and the names `egress`, `git-gate`, `supervise`. */
export function sidecarConnectArgv(names: DockerNames, subnet: Subnet): string[] {
  return ['network', 'connect', '--ip', subnet.sidecar, ...SIDECAR_NAMES.flatMap((n) => ['--alias', n]), names.network, names.sidecars];
}

export interface AgentRun {
  image: string;
  runtime: string | null;
  /** Host file mounted read-only as /etc/resolv.conf: no nameserver. */
  resolvConf: string;
  /** Host file with the agent's seccomp profile (seccomp-profile.ts), replacing the engine's default. */
  seccompProfile: string;
  ownerPid: number;
  startedAt: string;
}

/**
 * `docker create` of the agent container (started once the firewall exists): `sleep infinity`
 * under an init as PID 1, uid 1000, no
 * capabilities, no privilege gain, our seccomp profile, limits, the sidecar names in /etc/hosts, no resolver. The
 * agent env is NOT here (it goes with each exec; the engine persists create-time env).
 */
export function agentCreateArgv(plan: BottlePlan, names: DockerNames, subnet: Subnet, a: AgentRun): string[] {
  return [
    'create', '--name', names.agent,
    ...labels(plan, 'agent', { [LABEL.ownerPid]: String(a.ownerPid), [LABEL.started]: a.startedAt, ...(a.runtime ? { [LABEL.runtime]: a.runtime } : {}) }),
    '--network', names.network, '--ip', subnet.agent, '--hostname', 'bottle',
    ...SIDECAR_NAMES.flatMap((n) => ['--add-host', `${n}:${subnet.sidecar}`]),
    '--dns', '0.0.0.0', '--mount', `type=bind,src=${a.resolvConf},dst=/etc/resolv.conf,readonly`,
    '--user', `${GUEST_UID}:${GUEST_UID}`, '--workdir', GUEST_HOME,
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--security-opt', `seccomp=${a.seccompProfile}`,
    '--pids-limit', String(AGENT_PIDS_LIMIT), '--memory', AGENT_MEMORY,
    '--init',
    ...(a.runtime ? ['--runtime', a.runtime] : []),
    '--entrypoint', 'sleep',
    a.image, 'infinity',
  ];
}

/**
 * `docker exec` argv for one agent command. `envNames` become `-e NAME` (the values travel in the
 * client's environment, never on argv).
 */
export function execArgv(container: string, argv: readonly string[], o: { user: string; cwd: string; envNames: readonly string[]; tty: boolean; stdin: boolean }): string[] {
  return [
    'exec', ...(o.stdin ? ['-i'] : []), ...(o.tty ? ['-t'] : []),
    '-u', o.user, '-w', o.cwd,
    ...o.envNames.flatMap((n) => ['-e', n]),
    container, ...argv,
  ];
}
