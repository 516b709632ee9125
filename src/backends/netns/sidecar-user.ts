/**
 * The unprivileged uid/gid the sidecars of one netns bottle run as
 * (docs/decisions/netns-sidecar-uid.md). Pure: derived from the bottle's /30 block index, which
 * the allocation lock already makes unique among live bottles, so two parallel launches can never
 * get the same uid. The range sits in the part of the 32-bit uid space no distribution, systemd or
 * the subuid convention hands out, and is never in /etc/passwd.
 */
import { POOL_BLOCKS } from './alloc.js';

/** First uid of the reserved range; the gid is the same number. */
export const SIDECAR_UID_BASE = 1_900_000_000;
/** One uid per /30 block of 10.250.0.0/16. */
export const SIDECAR_UID_COUNT = POOL_BLOCKS;

export function sidecarUidFor(blockIndex: number): number {
  if (!Number.isInteger(blockIndex) || blockIndex < 0 || blockIndex >= SIDECAR_UID_COUNT) throw new RangeError(`block index ${blockIndex} out of range`);
  return SIDECAR_UID_BASE + blockIndex;
}

export function isSidecarUid(uid: number): boolean {
  return Number.isInteger(uid) && uid >= SIDECAR_UID_BASE && uid < SIDECAR_UID_BASE + SIDECAR_UID_COUNT;
}

/**
 * Block indexes whose sidecar uid is taken: named in /etc/passwd, or the uid of a running process
 * (an orphan of a bottle that died without teardown). Such a block is skipped at allocation, so a
 * new bottle never shares a uid with anything that already exists.
 */
export function busyBlockIndexes(takenUids: Iterable<number>): Set<number> {
  const out = new Set<number>();
  for (const uid of takenUids) if (isSidecarUid(uid)) out.add(uid - SIDECAR_UID_BASE);
  return out;
}

/** uids named in passwd(5) text (third field). */
export function passwdUids(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2]!)) out.push(Number(f[2]));
  }
  return out;
}

/** Real, effective, saved and filesystem uid from a /proc/<pid>/status text; null if absent. */
export function statusUids(status: string): number[] | null {
  const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/m.exec(status);
  return m ? m.slice(1, 5).map(Number) : null;
}
