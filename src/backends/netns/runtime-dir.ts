/**
 * The host-wide runtime directory of the netns backend (docs/architecture.md, "Runtime
 * directory"). It lives on /run, a tmpfs: every boot starts without it, so every launch (in any
 * order, concurrently) creates each level with the mode that level needs instead of relying on a
 * recursive mkdir, whose one mode would be applied to every missing parent.
 *
 *   /run/bot-bottle          0755 root  traversed by the unprivileged bwrap to reach stage/
 *   /run/bot-bottle/netns    0700 root  records: slugs, state paths, pids
 *   /run/bot-bottle/stage    0755 root  empty mount point for each sandbox's private tmpfs
 *   /run/bot-bottle/sidecar  0755 root  empty mount point for each bottle's sidecar tmpfs
 */
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError } from '../../errors.js';
import { RECORD_DIR, RUNTIME_DIR, SIDECAR_MOUNT, STAGE_DIR } from './names.js';

export { RUNTIME_DIR };

export interface RuntimeLevel {
  path: string;
  mode: number;
  why: string;
}

export function runtimeLevels(root = RUNTIME_DIR): RuntimeLevel[] {
  const under = (p: string): string => (root === RUNTIME_DIR ? p : join(root, p.slice(RUNTIME_DIR.length + 1)));
  return [
    { path: root, mode: 0o755, why: 'the unprivileged sandbox must traverse it to reach stage/' },
    { path: under(RECORD_DIR), mode: 0o700, why: 'bottle records are root-only' },
    { path: under(STAGE_DIR), mode: 0o755, why: 'the sandbox mount point must be reachable' },
    { path: under(SIDECAR_MOUNT), mode: 0o755, why: 'the unprivileged sidecars must reach their staged files below it' },
  ];
}

export interface RuntimeProblem {
  path: string;
  problem: string;
  fix: string;
}

const octal = (m: number): string => `0${(m & 0o7777).toString(8)}`;

/**
 * What is wrong with the runtime directory, without changing anything (for `doctor`). An absent
 * level is not a problem: the next launch creates it. `expectUid` is the owner every level must
 * have (root in production; tests pass their own uid).
 */
export function inspectRuntimeDir(root = RUNTIME_DIR, expectUid = 0): RuntimeProblem[] {
  const out: RuntimeProblem[] = [];
  for (const level of runtimeLevels(root)) {
    let st;
    try {
      st = lstatSync(level.path);
    } catch {
      continue;
    }
    if (st.isSymbolicLink() || !st.isDirectory()) {
      out.push({ path: level.path, problem: 'is not a directory', fix: `remove ${level.path} (no bottle may be running); it is recreated on launch` });
      continue;
    }
    if (st.uid !== expectUid) {
      out.push({ path: level.path, problem: `is owned by uid ${st.uid}, not ${expectUid}`, fix: `remove ${level.path} (no bottle may be running); it is recreated on launch` });
      continue;
    }
    if ((st.mode & 0o777) !== level.mode) {
      out.push({ path: level.path, problem: `has mode ${octal(st.mode)}, needs ${octal(level.mode)} (${level.why})`, fix: `chmod ${octal(level.mode)} ${level.path}` });
    }
  }
  return out;
}

/**
 * Create (or repair) every level with its mode. Repairs only a mode this project could have set
 * (an earlier version created the root 0700); a foreign owner or a symlink is refused, since
 * /run is root's and such a directory was not made by us.
 */
export function ensureRuntimeDirs(root = RUNTIME_DIR, expectUid = 0): void {
  for (const level of runtimeLevels(root)) {
    try {
      mkdirSync(level.path, { mode: level.mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new BottleError('LAUNCH_FAILED', `cannot create ${level.path}: ${(e as Error).message}`, { fix: 'run "bot-bottle doctor --backend netns"' });
      }
    }
    const st = lstatSync(level.path);
    if (st.isSymbolicLink() || !st.isDirectory() || st.uid !== expectUid) {
      const p = inspectRuntimeDir(root, expectUid).find((x) => x.path === level.path);
      throw new BottleError('LAUNCH_FAILED', `runtime directory ${level.path} ${p?.problem ?? 'is unusable'}`, { fix: p?.fix ?? `remove ${level.path}` });
    }
    // mkdir's mode is filtered by the umask, and an existing directory keeps whatever it had.
    if ((st.mode & 0o7777) !== level.mode) chmodSync(level.path, level.mode);
  }
}
