/**
 * Every command line the smolmachines backend runs, as pure functions (golden-tested in
 * test/backends/smolmachines-argv.test.ts). The smolvm syntax is the CLI's own as far as its public
 * source and docs show it (docs/decisions/smolmachines-cli-syntax.md): `--name` on every machine
 * verb, `--allow-cidr` for the egress allowlist, `--from` to create a machine from a packed
 * `.smolmachine`, `-e KEY=VALUE` per exec.
 */
import { GUEST_USER } from '../../plan/bottle-plan.js';
import type { Argv } from '../command-runner.js';

export type { Argv };

/** Every smolmachines VM is `bot-bottle-<slug>`; cleanup finds orphans by this prefix. */
export const MACHINE_PREFIX = 'bot-bottle-';
export const machineName = (slug: string): string => `${MACHINE_PREFIX}${slug}`;

const smolvm = (...args: string[]): Argv => ({ command: 'smolvm', args });

/** Docker's id of the provider image (`sha256:…`): the pack cache key. */
export const dockerImageIdArgv = (tag: string): Argv => ({ command: 'docker', args: ['image', 'inspect', '--format', '{{.Id}}', tag] });
/** The image as an archive smolvm can read (`--image` takes a `docker save` archive). */
export const dockerSaveArgv = (tag: string, archive: string): Argv => ({ command: 'docker', args: ['save', '--output', archive, tag] });
/** Packs the image once; `stub` gets a `<stub>.smolmachine` sidecar, which machines are created from. */
export const packCreateArgv = (archive: string, stub: string): Argv => smolvm('pack', 'create', '--image', archive, '--output', stub);

/** The VM, allowed to reach exactly the bottle's alias (TSI: the guest's connects are the host's). */
export const machineCreateArgv = (name: string, pack: string, alias: string): Argv =>
  smolvm('machine', 'create', '--name', name, '--from', pack, '--allow-cidr', `${alias}/32`);
export const machineListArgv = (): Argv => smolvm('machine', 'ls', '--json');
export const machineStartArgv = (name: string): Argv => smolvm('machine', 'start', '--name', name);
export const machineStopArgv = (name: string): Argv => smolvm('machine', 'stop', '--name', name);
export const machineDeleteArgv = (name: string): Argv => smolvm('machine', 'delete', '--name', name, '-f');

export interface ExecShape {
  /** Run as this user via `runuser` (default the agent user); null = as the guest's root. */
  readonly user?: string | null;
  /** The whole environment of the command, re-passed on every exec (never token values). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly interactive?: boolean;
  readonly tty?: boolean;
}

/**
 * `machine exec` of `argv`. As the agent: `runuser -u node -m --`, so the `-e` environment (which
 * already holds HOME, USER, PATH for node) reaches the command unchanged.
 */
export function machineExecArgv(name: string, argv: readonly string[], shape: ExecShape): Argv {
  const user = shape.user === undefined ? GUEST_USER : shape.user;
  const env = Object.entries(shape.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  return smolvm(
    'machine', 'exec', '--name', name,
    ...(shape.interactive ? ['-i'] : []),
    ...(shape.tty ? ['-t'] : []),
    ...env,
    ...(shape.cwd !== undefined ? ['-w', shape.cwd] : []),
    '--',
    ...(user === null ? [] : ['runuser', '-u', user, '-m', '--']),
    ...argv,
  );
}

/** The readiness probe: the guest agent answers and runs a command. */
export const readinessArgv = (name: string): Argv => machineExecArgv(name, ['true'], { user: null, env: {} });

/** macOS: bring an alias up on lo0 (through sudo; once per boot, it stays up after teardown). */
export const ifconfigShowArgv = (): Argv => ({ command: 'ifconfig', args: ['lo0'] });
export const ifconfigAliasArgv = (alias: string): Argv => ({ command: 'sudo', args: ['ifconfig', 'lo0', 'alias', alias, 'up'] });
