/**
 * Who the sidecar container runs as (docs/decisions/docker-sidecar-container.md). Launched by a
 * non-root user: that user (the state files are theirs). Launched by root (a Linux engine needs
 * root for the firewall): never uid 0, but a uid of its own per bottle — 1 950 000 000 + the
 * subnet index, a range next to netns's sidecar uids and unique among live docker bottles because
 * the allocation lock makes the subnet unique — with the state dir prepared for it exactly as netns
 * prepares it (group-read of what the daemons read, ownership of what they write).
 */
import { lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OWN_DIRS, OWN_FILES, prepareSidecarState } from '../netns/sidecar-state.js';
import { POOL_BLOCKS } from './alloc.js';

export const DOCKER_SIDECAR_UID_BASE = 1_950_000_000;

export function dockerSidecarUid(subnetIndex: number): number {
  if (!Number.isInteger(subnetIndex) || subnetIndex < 0 || subnetIndex >= POOL_BLOCKS) throw new RangeError(`subnet index ${subnetIndex} out of range`);
  return DOCKER_SIDECAR_UID_BASE + subnetIndex;
}

export function isDockerSidecarUid(uid: number): boolean {
  return Number.isInteger(uid) && uid >= DOCKER_SIDECAR_UID_BASE && uid < DOCKER_SIDECAR_UID_BASE + POOL_BLOCKS;
}

/** Entries a previous run's docker sidecar uid owned go back to root first (a resume may get another subnet). */
function reclaim(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (isDockerSidecarUid(st.uid)) lchownSync(path, 0, 0);
  if (st.isDirectory() && !st.isSymbolicLink()) for (const e of readdirSync(path)) reclaim(join(path, e));
}

/** uid:gid for the sidecar container, preparing the state dir when it is a dedicated uid. */
export function sidecarIdentity(stateDir: string, subnetIndex: number): { uid: number; gid: number } {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? uid };
  const own = dockerSidecarUid(subnetIndex);
  for (const d of OWN_DIRS) reclaim(join(stateDir, d.path));
  for (const f of OWN_FILES) reclaim(join(stateDir, f));
  prepareSidecarState(stateDir, own);
  return { uid: own, gid: own };
}
