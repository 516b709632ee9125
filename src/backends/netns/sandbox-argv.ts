/**
 * The argv that runs one command inside a netns bottle (docs/architecture.md §8.3). Pure.
 *
 * ARCHITECTURE NOTE: `ip netns exec` gives the command the bottle's network namespace and a
 * private mount namespace. In that private namespace a tiny sh stage, still root, bind-mounts the
 * bottle's home and synthesised /etc files onto a tmpfs at STAGE_DIR: the state dir is 0700 root,
 * so the unprivileged bwrap could not reach it otherwise. setpriv then drops to host uid/gid 1000
 * with no capabilities and bwrap builds the sandbox (own user, pid, ipc, uts namespaces). Those
 * mounts die with the process; nothing is mounted on the host. Each exec is a fresh sandbox
 * sharing only the network namespace and the home directory.
 *
 * The root-side helpers (sh, ip, mount, setpriv) run with a fixed minimal environment and are
 * named by absolute path; the agent's environment never reaches them
 * (docs/decisions/netns-clean-env.md). bwrap's options, the agent's environment included
 * (`--clearenv`, `--setenv`), travel NUL-separated on the pipe at fd ARGS_FD (`--args`), and the
 * seccomp filter (seccomp.ts, docs/decisions/netns-seccomp.md) on the pipe at fd SECCOMP_FD:
 * neither is on any argv in the host's process table. bwrap reads and closes both before it
 * starts the command, so the agent does not inherit them. Only the command's own argv is on
 * bwrap's argv (bwrap 0.8 takes it from nowhere else).
 */
import { BottleError } from '../../errors.js';
import { GUEST_HOME, GUEST_UID } from '../../plan/bottle-plan.js';
import { STAGE_DIR } from './names.js';

export interface HostTools {
  ip: string;
  sh: string;
  mount: string;
  setpriv: string;
  bwrap: string;
}

/** A system path as seen on the host: a directory to bind read-only, or a symlink to recreate. */
export type SystemEntry = { kind: 'dir' | 'file'; path: string } | { kind: 'symlink'; path: string; target: string };

/** Read-only system paths (none holds a secret): binaries, libraries, the loader cache, TLS roots. */
export const SYSTEM_PATHS = [
  '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32',
  '/etc/ssl', '/etc/alternatives', '/etc/ca-certificates', '/etc/localtime',
  '/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/os-release', '/etc/services', '/etc/protocols', '/etc/mime.types',
] as const;

export const GUEST_ETC_FILES = ['passwd', 'group', 'hosts', 'resolv.conf', 'nsswitch.conf', 'hostname'] as const;

// $1 mount binary, $2 home, $3 etc dir, $4 stage mount point, then the command.
const STAGE_SCRIPT =
  'set -e; S="$4"; "$1" -t tmpfs -o mode=0755,size=64k bb-stage "$S"; mkdir "$S/h" "$S/e"; ' +
  '"$1" --bind "$2" "$S/h"; "$1" --bind "$3" "$S/e"; shift 4; exec "$@"';
// Joins the bottle cgroups BEFORE `ip netns exec`, which remounts /sys without the cgroup
// hierarchies. $1 = colon-separated cgroup.procs files, then the command.
const CGROUP_SCRIPT = 'set -e; IFS=:; for f in $1; do echo $$ > "$f"; done; unset IFS; shift; exec "$@"';

/** Descriptor numbers of the two pipes the spawned chain carries to bwrap (stdio entries 3 and 4). */
export const ARGS_FD = 3;
export const SECCOMP_FD = 4;

export interface SandboxArgvInput {
  tools: HostTools;
  netns: string;
  homeDir: string; // host path, state/<slug>/home
  etcDir: string; // host path of the synthesised /etc files
  system: readonly SystemEntry[];
  cwd: string; // guest path
  argv: readonly string[];
  /** The agent's whole environment; reaches only the sandboxed command (bwrap --clearenv/--setenv). */
  env: Readonly<Record<string, string>>;
  /** The encoded seccomp filter (seccomp.ts) bwrap loads for the command. */
  seccomp: Uint8Array;
  /** cgroup.procs files every sandbox process joins (resource limits); empty = none. */
  cgroupProcs?: readonly string[];
}

export interface SandboxArgv {
  /** What appears in the host's process table: helper paths, the netns, the stage paths, the command. */
  command: string;
  args: string[];
  /** Written to the child's fd ARGS_FD: bwrap's options, NUL-separated, environment included. */
  bwrapArgs: Uint8Array;
  /** Written to the child's fd SECCOMP_FD. */
  seccomp: Uint8Array;
}

const ENV_NAME = /^[^=\0]+$/;

/** bwrap's options: isolation, the file system, the agent's environment, the filter. */
export function bwrapOptions(input: Pick<SandboxArgvInput, 'system' | 'cwd' | 'env'>): string[] {
  const uid = String(GUEST_UID);
  const bw: string[] = [
    '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    '--disable-userns', '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
    '--uid', uid, '--gid', uid, '--hostname', 'bottle',
  ];
  for (const e of input.system) {
    if (e.kind === 'symlink') bw.push('--symlink', e.target, e.path);
    else bw.push('--ro-bind', e.path, e.path);
  }
  bw.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--dir', '/home', '--bind', `${STAGE_DIR}/h`, GUEST_HOME);
  for (const f of GUEST_ETC_FILES) bw.push('--ro-bind', `${STAGE_DIR}/e/${f}`, `/etc/${f}`);
  bw.push('--chdir', input.cwd, '--clearenv');
  for (const [k, v] of Object.entries(input.env)) {
    // Names only in errors: values may be secrets.
    if (!ENV_NAME.test(k)) throw new BottleError('INTERNAL', `agent environment variable name ${JSON.stringify(k)} cannot be set`);
    if (v.includes('\0')) throw new BottleError('INTERNAL', `agent environment variable ${k} contains a NUL byte`);
    bw.push('--setenv', k, v);
  }
  bw.push('--seccomp', String(SECCOMP_FD));
  for (const a of bw) if (a.includes('\0')) throw new BottleError('INTERNAL', 'a sandbox path contains a NUL byte');
  return bw;
}

export function sandboxArgv(input: SandboxArgvInput): SandboxArgv {
  const { tools } = input;
  const uid = String(GUEST_UID);
  const bwrapArgs = new TextEncoder().encode(bwrapOptions(input).map((a) => `${a}\0`).join(''));
  const inNetns = [
    'netns', 'exec', input.netns,
    tools.sh, '-c', STAGE_SCRIPT, 'bb-stage', tools.mount, input.homeDir, input.etcDir, STAGE_DIR,
    tools.setpriv, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all',
    // bwrap 0.8 takes the command only from its own argv, not from the --args file.
    tools.bwrap, '--args', String(ARGS_FD), '--', ...input.argv,
  ];
  const procs = input.cgroupProcs ?? [];
  if (procs.length === 0) return { command: tools.ip, args: inNetns, bwrapArgs, seccomp: input.seccomp };
  return { command: tools.sh, args: ['-c', CGROUP_SCRIPT, 'bb-cgroup', procs.join(':'), tools.ip, ...inNetns], bwrapArgs, seccomp: input.seccomp };
}
