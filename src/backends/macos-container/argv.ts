/**
 * Every command line the macos-container backend runs, as pure functions (golden-tested in
 * test/backends/macos-container-argv.test.ts). Apple's `container` CLI (macOS 26); the syntax
 * assumed where its docs are silent is recorded in docs/decisions/macos-container-network.md.
 */
import { GUEST_USER, type BottlePlan } from '../../plan/bottle-plan.js';
import { VERSION } from '../../version.js';
import type { Argv } from '../command-runner.js';

export const NAME_PREFIX = 'bot-bottle-';
export const SIDECAR_IMAGE = `bot-bottle-sidecars:${VERSION}`;
/** Where the sidecar container sees `state/<slug>/` (its `--config`). */
export const SIDECAR_CONFIG = '/state';

export interface ContainerNames {
  agent: string;
  sidecars: string;
  /** Host-only (`--internal`): agent + sidecars, no route out. */
  internalNet: string;
  /** NAT: sidecars only (egress needs the internet). */
  natNet: string;
}

export function namesFor(slug: string): ContainerNames {
  return {
    agent: `${NAME_PREFIX}${slug}`,
    sidecars: `${NAME_PREFIX}sidecars-${slug}`,
    internalNet: `${NAME_PREFIX}net-${slug}`,
    natNet: `${NAME_PREFIX}egress-${slug}`,
  };
}

const c = (...args: string[]): Argv => ({ command: 'container', args });
const labels = (slug: string, role: string, extra: Readonly<Record<string, string>> = {}): string[] =>
  Object.entries({ 'bot-bottle.slug': slug, 'bot-bottle.role': role, ...extra }).flatMap(([k, v]) => ['--label', `${k}=${v}`]);

export const systemStatusArgv = (): Argv => c('system', 'status');
export const imageInspectArgv = (image: string): Argv => c('image', 'inspect', image);
export const internalNetworkArgv = (n: ContainerNames, slug: string): Argv => c('network', 'create', '--internal', ...labels(slug, 'network'), n.internalNet);
export const natNetworkArgv = (n: ContainerNames, slug: string): Argv => c('network', 'create', ...labels(slug, 'network'), n.natNet);
export const networkDeleteArgv = (name: string): Argv => c('network', 'delete', name);
export const networkListArgv = (): Argv => c('network', 'list', '--format', 'json');
export const containerListArgv = (all: boolean): Argv => c('list', ...(all ? ['--all'] : []), '--format', 'json');
export const inspectArgv = (name: string): Argv => c('inspect', name);
export const stopArgv = (name: string): Argv => c('stop', name);
export const deleteArgv = (name: string): Argv => c('delete', '--force', name);
export const hupArgv = (name: string): Argv => c('kill', '--signal', 'HUP', name);

/**
 * The state directories the sidecar sees, as DIRECTORY bind mounts (never single files, so the
 * host's rename of routes.yaml is seen): config read-only, spool/logs/run read-write.
 */
export function sidecarMounts(stateDir: string): Array<{ host: string; guest: string; ro: boolean }> {
  return [
    { host: `${stateDir}/live-config`, guest: `${SIDECAR_CONFIG}/live-config`, ro: true },
    { host: `${stateDir}/egress`, guest: `${SIDECAR_CONFIG}/egress`, ro: true },
    { host: `${stateDir}/git-gate`, guest: `${SIDECAR_CONFIG}/git-gate`, ro: true },
    { host: `${stateDir}/supervise/spool`, guest: `${SIDECAR_CONFIG}/supervise/spool`, ro: false },
    { host: `${stateDir}/logs`, guest: `${SIDECAR_CONFIG}/logs`, ro: false },
    { host: `${stateDir}/run`, guest: `${SIDECAR_CONFIG}/run`, ro: false },
  ];
}

/**
 * The sidecar container, attached (`-i`, not detached): the launcher writes the secrets to its
 * stdin — the supervisor's stdin — and reads the `ready` line from its stdout. Its env flags carry
 * only the plan's non-secret sidecar settings.
 */
export function sidecarRunArgv(plan: BottlePlan, n: ContainerNames, supervisorArgs: readonly string[], ownerPid: number): Argv {
  const mounts = sidecarMounts(plan.stateDir).flatMap((m) => ['--volume', `${m.host}:${m.guest}${m.ro ? ':ro' : ''}`]);
  const env = Object.entries({ ...plan.sidecar.env, BOT_BOTTLE_SLUG: plan.slug }).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  return c(
    'run', '--rm', '--interactive', '--name', n.sidecars, ...labels(plan.slug, 'sidecars', { 'bot-bottle.owner-pid': String(ownerPid) }),
    '--network', n.internalNet, '--network', n.natNet, ...mounts, ...env,
    SIDECAR_IMAGE, 'bot-bottle', ...supervisorArgs,
  );
}

/** The agent container: `sleep infinity` as its process; the agent runs through `container exec`. */
export function agentRunArgv(plan: BottlePlan, n: ContainerNames, ownerPid: number): Argv {
  return c(
    'run', '--detach', '--name', n.agent,
    ...labels(plan.slug, 'agent', {
      'bot-bottle.owner-pid': String(ownerPid), 'bot-bottle.agent': plan.agentName, 'bot-bottle.label': plan.label,
      'bot-bottle.color': plan.color, 'bot-bottle.bottles': plan.bottleNames.join(','), 'bot-bottle.headless': String(plan.headless),
      'bot-bottle.daemons': plan.sidecar.daemons.join(','), 'bot-bottle.started': new Date().toISOString(),
    }),
    '--network', n.internalNet, plan.agent.image.tag, 'sleep', 'infinity',
  );
}

export interface ExecShape {
  /** Default the agent user; null = the container's root. */
  readonly user?: string | null;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly interactive?: boolean;
  readonly tty?: boolean;
}

export function execArgv(container: string, argv: readonly string[], shape: ExecShape): Argv {
  const user = shape.user === undefined ? GUEST_USER : shape.user;
  return c(
    'exec',
    ...(user === null ? [] : ['--user', user]),
    ...(shape.interactive ? ['--interactive'] : []),
    ...(shape.tty ? ['--tty'] : []),
    ...Object.entries(shape.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ...(shape.cwd !== undefined ? ['--workdir', shape.cwd] : []),
    container, ...argv,
  );
}
