/** Host tools the netns backend drives, found without spawning anything (available() is cheap). */
import { findSystemTool, isLinux, isRoot } from '../platform.js';
import type { Availability } from '../backend.js';
import type { HostTools } from './sandbox-argv.js';

export interface NetnsTools extends HostTools {
  nft: string;
  flock: string;
  tar: string;
  /** Starts the sidecars in a private mount namespace (docs/decisions/netns-sidecar-uid.md). */
  unshare: string;
}

/** Debian package of each tool (also `doctor`'s fix lines). */
export const PACKAGES: Record<keyof NetnsTools, string> = {
  ip: 'iproute2', sh: 'dash', mount: 'mount', setpriv: 'util-linux', bwrap: 'bubblewrap', nft: 'nftables', flock: 'util-linux', tar: 'tar', unshare: 'util-linux',
};

export function findTools(): { tools: NetnsTools } | { missing: string[] } {
  const found: Partial<NetnsTools> = {};
  const missing: string[] = [];
  for (const name of Object.keys(PACKAGES) as Array<keyof NetnsTools>) {
    const p = findSystemTool(name);
    if (p) found[name] = p;
    else missing.push(name);
  }
  return missing.length > 0 ? { missing } : { tools: found as NetnsTools };
}

export function netnsAvailability(): Availability {
  if (!isLinux()) return { ok: false, reason: 'netns needs Linux', fix: 'on macOS use --backend macos-container (macOS 26) or --backend smolmachines; "bot-bottle doctor" shows which works here' };
  if (!isRoot()) {
    return { ok: false, reason: 'netns needs root (network namespaces, veth and nftables need CAP_NET_ADMIN and CAP_SYS_ADMIN)', fix: 'run bot-bottle as root (sudo -E bot-bottle …)' };
  }
  const t = findTools();
  if ('missing' in t) {
    const pkgs = [...new Set(t.missing.map((m) => PACKAGES[m as keyof NetnsTools]))];
    return { ok: false, reason: `netns needs ${t.missing.join(', ')} on PATH`, fix: `apt-get install ${pkgs.join(' ')}` };
  }
  return { ok: true };
}
