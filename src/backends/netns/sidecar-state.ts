/**
 * Ownership of a bottle's state dir for its sidecar uid (docs/decisions/netns-sidecar-uid.md),
 * applied by the backend at every launch and resume (a resumed bottle may get another uid, and
 * `resume` rewrites the launch files as root).
 *
 * The uid OWNS only what the daemons write: the git gate's repos/, run/ and hooks/, the supervise
 * spool and run/supervise/ (its socket), and the two
 * audit files (pre-created: logs/ itself stays root's, because the launcher writes agent.log and
 * sidecar.log there as root and must never follow a link the sidecars planted). It may READ, by
 * group, the trees the daemons read (egress/ with the CA key, live-config/, git-gate/ with deploy
 * keys and known_hosts): those stay root-owned, mode g+r(x), never group-writable. Everything else
 * (metadata, session, provider files, the agent's home, run/guest-etc) keeps its owner and mode,
 * so the uid can read none of the 0600 files and write nothing.
 */
import { chmodSync, closeSync, constants, fchownSync, lchownSync, lstatSync, mkdirSync, openSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { isSidecarUid } from './sidecar-user.js';

/** Trees the sidecars read (group read, root-owned). */
export const READ_TREES = ['egress', 'live-config', 'git-gate'] as const;
/** Directories the sidecars only traverse (the state dir itself is one). */
export const TRAVERSE_DIRS = ['', 'logs', 'run', 'supervise'] as const;
/** Directories the sidecars own, with the mode they are created with. */
export const OWN_DIRS: ReadonlyArray<{ path: string; mode: number }> = [
  { path: 'git-gate/repos', mode: 0o700 },
  { path: 'git-gate/run', mode: 0o700 },
  { path: 'git-gate/hooks', mode: 0o755 },
  // The supervise daemon's spool (it writes outbox/ and the heartbeat, consumes inbox/) and its
  // internal API socket's directory (docs/decisions/supervise-daemon-socket.md).
  { path: 'supervise/spool', mode: 0o700 },
  { path: 'run/supervise', mode: 0o700 },
];
/**
 * Files the sidecars append to (in root-owned logs/), and egress's second audit generation: the
 * daemon cannot rename in logs/, so it rotates by copying over `.1` and truncating (egress/log.ts).
 */
export const OWN_FILES = ['logs/egress-audit.jsonl', 'logs/egress-audit.jsonl.1', 'logs/git-gate-audit.jsonl'] as const;

function lstat(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** Root-owned entry → group `gid`, group read (+x for dirs), never group write. Links are skipped. */
function shareRead(path: string, st: Stats, gid: number): void {
  if (st.uid !== 0 || st.isSymbolicLink() || !(st.isDirectory() || st.isFile())) return;
  lchownSync(path, 0, gid);
  const mode = (st.mode & 0o7707) | (st.isDirectory() ? 0o050 : 0o040);
  chmodSync(path, mode & ~0o6000);
}

function walkRead(path: string, gid: number, skip: ReadonlySet<string>): void {
  const st = lstat(path);
  if (!st || skip.has(path)) return;
  shareRead(path, st, gid);
  if (st.isDirectory() && !st.isSymbolicLink()) for (const e of readdirSync(path)) walkRead(join(path, e), gid, skip);
}

/**
 * Hand a tree to `uid`: only entries owned by root or by a sidecar uid (an earlier run's) change
 * owner, never through a symlink, and a hard link to a foreign or root file planted by an earlier
 * sidecar is left alone.
 */
function walkOwn(path: string, uid: number): void {
  const st = lstat(path);
  if (!st) return;
  // A root-owned file with a second link may be a host file an earlier sidecar linked in (where
  // protected_hardlinks is off): never taken over.
  const foreignLink = st.uid === 0 && !st.isDirectory() && st.nlink > 1;
  if ((st.uid === 0 || isSidecarUid(st.uid)) && !foreignLink) lchownSync(path, uid, uid);
  if (st.isDirectory()) for (const e of readdirSync(path)) walkOwn(join(path, e), uid);
}

export function prepareSidecarState(stateDir: string, uid: number): void {
  const own = new Set(OWN_DIRS.map((d) => join(stateDir, d.path)));
  for (const t of READ_TREES) walkRead(join(stateDir, t), uid, own);
  for (const d of TRAVERSE_DIRS) {
    const p = join(stateDir, d);
    mkdirSync(p, { recursive: true, mode: 0o700 });
    const st = lstat(p);
    if (st) shareRead(p, st, uid);
  }
  for (const d of OWN_DIRS) {
    const p = join(stateDir, d.path);
    const parent = lstat(join(p, '..'));
    if (!parent?.isDirectory()) continue; // no git-gate/: the gate does not run
    if (!lstat(p)) {
      mkdirSync(p, { mode: d.mode });
      chmodSync(p, d.mode);
    }
    walkOwn(p, uid);
  }
  for (const f of OWN_FILES) {
    const p = join(stateDir, f);
    // O_NOFOLLOW: never chown through a link; a regular file is taken over as is (a resumed
    // bottle keeps its audit history).
    const fd = openSync(p, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
    try {
      fchownSync(fd, uid, uid);
    } finally {
      closeSync(fd);
    }
  }
}
