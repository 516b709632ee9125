/**
 * Names and labels of one docker bottle (docs/architecture.md, docker backend). Everything carries
 * the slug; kernel-facing names (bridge, nftables table) carry a short hash of it instead, because
 * interface names are limited to 15 characters. The docker shapes differ from netns's
 * (`bbd-` bridge, `bot_bottle_dk` table) so neither backend's cleanup ever claims the other's.
 */
import { createHash } from 'node:crypto';

export const CONTAINER_PREFIX = 'bot-bottle-';
export const SIDECAR_PREFIX = 'bot-bottle-sidecars-';
export const NET_PREFIX = 'bot-bottle-net-';
export const EGRESS_NET_PREFIX = 'bot-bottle-egress-';
export const BRIDGE_PREFIX = 'bbd-';
export const TABLE_PREFIX = 'bot_bottle_dk';
export const COMMITTED_PREFIX = 'bot-bottle-committed-';

/** Label keys (spec: `bot-bottle.slug`, `bot-bottle.role`; the rest feed `list active`). */
export const LABEL = {
  slug: 'bot-bottle.slug',
  role: 'bot-bottle.role',
  agent: 'bot-bottle.agent',
  label: 'bot-bottle.label',
  color: 'bot-bottle.color',
  bottles: 'bot-bottle.bottles',
  headless: 'bot-bottle.headless',
  daemons: 'bot-bottle.daemons',
  started: 'bot-bottle.started',
  stateDir: 'bot-bottle.state-dir',
  ownerPid: 'bot-bottle.owner-pid',
  runtime: 'bot-bottle.runtime',
} as const;

export type Role = 'agent' | 'sidecars' | 'relay' | 'network' | 'egress-network';

export interface DockerNames {
  short: string;
  agent: string;
  sidecars: string;
  network: string;
  egressNetwork: string;
  bridge: string;
  egressBridge: string;
  table: string;
  committedImage: string;
}

export function shortId(slug: string): string {
  return createHash('sha256').update(slug).digest('hex').slice(0, 8);
}

export function namesFor(slug: string): DockerNames {
  const short = shortId(slug);
  return {
    short,
    agent: `${CONTAINER_PREFIX}${slug}`,
    sidecars: `${SIDECAR_PREFIX}${slug}`,
    network: `${NET_PREFIX}${slug}`,
    egressNetwork: `${EGRESS_NET_PREFIX}${slug}`,
    bridge: `${BRIDGE_PREFIX}${short}`, // 12 chars
    egressBridge: `${BRIDGE_PREFIX}${short}e`,
    table: `${TABLE_PREFIX}${short}`,
    committedImage: `${COMMITTED_PREFIX}${slug}:latest`,
  };
}
