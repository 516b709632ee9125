/**
 * /30 blocks from 10.250.0.0/16 for the veth pairs (docs/architecture.md §8.1). Pure: the in-use set
 * comes from `ip -o -4 addr` output that the caller reads under the host-wide lock.
 */

const POOL_BASE = (10 << 24) | (250 << 16);
export const POOL_BLOCKS = 1 << 14; // 65536 / 4

export interface Block {
  index: number;
  hostAddr: string; // .1 of the block: the sidecars listen here
  guestAddr: string; // .2: the bottle end
  prefix: 30;
}

const toIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
function fromIp(s: string): number | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return (((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) >>> 0;
}

export function blockAt(index: number): Block {
  const base = (POOL_BASE + index * 4) >>> 0;
  return { index, hostAddr: toIp(base + 1), guestAddr: toIp(base + 2), prefix: 30 };
}

/** Block indexes touched by the IPv4 addresses in `ip -o -4 addr` output. */
export function usedBlocks(ipAddrOutput: string): Set<number> {
  const used = new Set<number>();
  for (const m of ipAddrOutput.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\/(\d+)/g)) {
    const addr = fromIp(m[1]!);
    const len = Number(m[2]);
    if (addr === null) continue;
    // Networks of /16 or narrower block all their /30s; wider ones (a host on 10/8) only the
    // block holding the address, or the pool would be empty on such hosts.
    const size = len >= 16 ? 2 ** (32 - len) : 1;
    const start = len >= 16 ? addr - (addr % size) : addr;
    for (let a = start; a < start + size; a += 4) {
      const idx = Math.floor((a - POOL_BASE) / 4);
      if (idx >= 0 && idx < POOL_BLOCKS) used.add(idx);
      if (a - POOL_BASE >= POOL_BLOCKS * 4) break;
    }
  }
  return used;
}

/** The lowest free block, or null when the pool is exhausted. */
export function pickBlock(used: ReadonlySet<number>): Block | null {
  for (let i = 0; i < POOL_BLOCKS; i += 1) if (!used.has(i)) return blockAt(i);
  return null;
}
