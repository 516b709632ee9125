/**
 * netns checks of `doctor` (docs/cli.md; docs/decisions/doctor.md): Linux, root, the host tools
 * the backend drives (tools.ts's list, so doctor and launch agree), bubblewrap ≥ 0.8, git with
 * http-backend for the git gate, writable memory/pids/cpu cgroups, the runtime directory's modes, and
 * that the sidecars can be started as an unprivileged uid in a private mount namespace
 * (docs/decisions/netns-sidecar-uid.md).
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createBottleCgroups, removeCgroupDirs } from '../backends/netns/cgroups.js';
import { inspectRuntimeDir, RUNTIME_DIR } from '../backends/netns/runtime-dir.js';
import { PACKAGES, type NetnsTools } from '../backends/netns/tools.js';
import { findExecutable, findSystemTool, isLinux, isRoot } from '../backends/platform.js';
import { runCommand } from '../backends/run-command.js';
import { fail, ok, skip, warn, type Check } from './check.js';

const S = 'netns';

/** `--disable-userns` (the sandbox's defence against nested user namespaces) arrived in 0.8.0. */
export const MIN_BWRAP: readonly [number, number] = [0, 8];

/** `bubblewrap 0.8.0` → [0, 8, 0]; null when the text carries no version. */
export function parseBwrapVersion(text: string): [number, number, number] | null {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

export function bwrapVersionOk(v: readonly [number, number, number]): boolean {
  return v[0] > MIN_BWRAP[0] || (v[0] === MIN_BWRAP[0] && v[1] >= MIN_BWRAP[1]);
}

async function bwrapCheck(path: string): Promise<Check> {
  const r = await runCommand(path, ['--version'], { timeoutMs: 5000 });
  const v = parseBwrapVersion(`${r.stdout} ${r.stderr}`);
  const need = `${MIN_BWRAP[0]}.${MIN_BWRAP[1]}`;
  if (r.code !== 0 || v === null) {
    return fail(S, 'netns.tool.bwrap', `${path} --version failed (exit ${r.code})`, `reinstall bubblewrap ≥ ${need} (apt-get install --reinstall bubblewrap)`);
  }
  const shown = v.join('.');
  return bwrapVersionOk(v)
    ? ok(S, 'netns.tool.bwrap', `bwrap ${shown} (${path}; needs ≥ ${need})`)
    : fail(S, 'netns.tool.bwrap', `bwrap ${shown} is too old (needs ≥ ${need} for --disable-userns)`, `install bubblewrap ≥ ${need} (Debian 13 / Ubuntu 24.04 or later ship it)`);
}

async function gitCheck(): Promise<Check> {
  const git = findExecutable('git');
  if (git === null) return fail(S, 'netns.git', 'git not found (the git gate runs git http-backend on the host)', 'apt-get install git');
  const r = await runCommand(git, ['--exec-path'], { timeoutMs: 5000 });
  const execPath = r.stdout.trim();
  if (r.code !== 0 || execPath === '') return fail(S, 'netns.git', `git --exec-path failed (exit ${r.code})`, 'reinstall git (apt-get install --reinstall git)');
  const backend = join(execPath, 'git-http-backend');
  try {
    accessSync(backend, constants.X_OK);
  } catch {
    return fail(S, 'netns.git', `${backend} is missing (the git gate needs git http-backend)`, 'install a full git (apt-get install git)');
  }
  return ok(S, 'netns.git', `git with http-backend (${backend})`);
}

/**
 * Creates and removes a throw-away cgroup the way a launch does. Unwritable limits are a warning,
 * not a failure: the backend launches without them and says so (docs/decisions/netns-cgroups.md).
 */
async function cgroupCheck(): Promise<Check> {
  if (!isRoot()) return skip(S, 'netns.cgroups', 'cgroups: not probed (needs root)');
  const probe = createBottleCgroups(`doctor-${process.pid}`);
  try {
    await removeCgroupDirs(probe.dirs);
  } catch {
    // a probe cgroup that cannot be removed is empty and harmless; the verdict below still holds
  }
  const skipped = [...new Set(probe.skipped.flatMap((s) => s.split(/,\s*/)))].sort();
  if (skipped.length === 0) return ok(S, 'netns.cgroups', 'memory, pids and cpu cgroups writable');
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  return warn(
    S,
    'netns.cgroups',
    `${skipped.join(' and ')} cgroup limits cannot be set here; bottles run without them`,
    v2
      ? `enable the controllers: echo "+${skipped.join(' +')}" > /sys/fs/cgroup/cgroup.subtree_control (in a container: give it a writable cgroup mount)`
      : 'mount the cgroup hierarchies read-write under /sys/fs/cgroup (in a container: give it a writable cgroup mount)',
  );
}

/**
 * What the sidecar uid drop needs (docs/decisions/netns-sidecar-uid.md): `unshare --mount
 * --propagation private` and a `setpriv` that knows every flag the launch passes, tried for real
 * with `true` as uid 65534.
 */
export async function sidecarUidCheck(): Promise<Check> {
  const id = 'netns.sidecar-uid';
  if (!isRoot()) return skip(S, id, 'sidecar uid drop: not probed (needs root)');
  const unshare = findSystemTool('unshare');
  const setpriv = findSystemTool('setpriv');
  if (unshare === null || setpriv === null) return fail(S, id, 'sidecar uid drop: unshare or setpriv missing', 'apt-get install util-linux');
  const r = await runCommand(
    unshare,
    ['--mount', '--propagation', 'private', '--', setpriv, '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--', 'true'],
    { timeoutMs: 5000 },
  );
  if (r.code === 0) return ok(S, id, 'sidecars can run as their own uid (unshare --mount, setpriv --reuid/--inh-caps/--bounding-set/--no-new-privs)');
  const why = r.stderr.trim().split('\n')[0] ?? '';
  return fail(
    S,
    id,
    `sidecars cannot drop to their own uid: ${why || `exit ${r.code}`}`,
    'install a current util-linux (apt-get install util-linux: setpriv with --inh-caps, --bounding-set, --no-new-privs); in a container, allow mount namespaces (CAP_SYS_ADMIN)',
  );
}

/**
 * The runtime directory (docs/decisions/doctor.md): absent is fine, a launch creates it; a wrong
 * owner or mode would break every launch (or expose the records), so it fails.
 */
export function runtimeDirCheck(root: string = RUNTIME_DIR, expectUid = 0): Check {
  if (!existsSync(root)) return ok(S, 'netns.runtime-dir', `${root} absent (it will be created on first launch)`);
  const problems = inspectRuntimeDir(root, expectUid);
  if (problems.length === 0) return ok(S, 'netns.runtime-dir', `${root} (0755 root; netns/ 0700; stage/, sidecar/ 0755)`);
  return fail(
    S,
    'netns.runtime-dir',
    problems.map((p) => `${p.path} ${p.problem}`).join('; '),
    [...new Set(problems.map((p) => p.fix))].join('; '),
  );
}

export interface NetnsCheckOptions {
  /** For tests on a temporary directory; default /run/bot-bottle owned by root. */
  readonly runtimeDir?: string;
  readonly runtimeUid?: number;
}

export async function netnsChecks(opts: NetnsCheckOptions = {}): Promise<Check[]> {
  if (!isLinux()) {
    return [fail(S, 'netns.linux', 'netns needs Linux', 'use --backend docker (Docker Desktop), or --backend macos-container on macOS 26')];
  }
  const checks: Check[] = [ok(S, 'netns.linux', 'Linux')];
  checks.push(
    isRoot()
      ? ok(S, 'netns.root', 'running as root')
      : fail(S, 'netns.root', 'netns needs root (network namespaces, veth and nftables need CAP_NET_ADMIN and CAP_SYS_ADMIN)', 'run it as root: sudo -E bot-bottle …'),
  );
  for (const name of Object.keys(PACKAGES) as Array<keyof NetnsTools>) {
    const path = findSystemTool(name);
    if (path === null) checks.push(fail(S, `netns.tool.${name}`, `${name} not found`, `apt-get install ${PACKAGES[name]}`));
    else if (name === 'bwrap') checks.push(await bwrapCheck(path));
    else checks.push(ok(S, `netns.tool.${name}`, `${name} (${path})`));
  }
  checks.push(await gitCheck());
  checks.push(await cgroupCheck());
  checks.push(await sidecarUidCheck());
  checks.push(runtimeDirCheck(opts.runtimeDir, opts.runtimeUid));
  return checks;
}
