/**
 * Kernel-facing names of one netns bottle (docs/architecture.md §8.1): interface names are limited
 * to 15 characters, so they carry a short hash of the slug; the record file maps it back.
 */
import { createHash } from 'node:crypto';

export const NAME_PREFIX = 'bb-';
export const TABLE_PREFIX = 'bot_bottle_';
/** Host-wide runtime directory; runtime-dir.ts creates each level below it with its own mode. */
export const RUNTIME_DIR = '/run/bot-bottle';
/** Host-wide records of live netns bottles; tmpfs, so it ends with the kernel objects at reboot. */
export const RECORD_DIR = `${RUNTIME_DIR}/netns`;
/** Empty mount point used inside each sandbox's private mount namespace (never mounted on the host). */
export const STAGE_DIR = `${RUNTIME_DIR}/stage`;
/** Empty mount point for the tmpfs each bottle's sidecars run from, in their own mount namespace. */
export const SIDECAR_MOUNT = `${RUNTIME_DIR}/sidecar`;

export interface NetnsNames {
  short: string;
  netns: string;
  vethHost: string;
  vethGuest: string;
  table: string;
}

export function shortId(slug: string): string {
  return createHash('sha256').update(slug).digest('hex').slice(0, 8);
}

export function namesFor(slug: string): NetnsNames {
  const short = shortId(slug);
  return {
    short,
    netns: `${NAME_PREFIX}${short}`,
    vethHost: `${NAME_PREFIX}${short}h`, // 12 chars
    vethGuest: `${NAME_PREFIX}${short}g`,
    table: `${TABLE_PREFIX}${short}`,
  };
}
