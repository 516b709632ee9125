/**
 * Subnets for the per-bottle internal docker networks: /28 blocks of 10.251.0.0/16 (next to
 * netns's 10.250.0.0/16 pool, so the two never overlap). Pure: the caller reads the in-use
 * set (docker networks' subnets, the host's addresses) under the host-wide allocation lock.
 * In a block: .1 the bridge (the host side, firewalled), .2 the sidecar, .3 the agent.
 */
const POOL_BASE = ((10 << 24) | (251 << 16)) >>> 0;
const BLOCK = 16;
export const POOL_BLOCKS = 65536 / BLOCK;

export interface Subnet {
  index: number;
  cidr: string;
  gateway: string;
  sidecar: string;
  agent: string;
}

const toIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

function fromIp(s: string): number | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return null;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return null;
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

export function subnetAt(index: number): Subnet {
  const base = (POOL_BASE + index * BLOCK) >>> 0;
  return { index, cidr: `${toIp(base)}/28`, gateway: toIp(base + 1), sidecar: toIp(base + 2), agent: toIp(base + 3) };
}

/** Block indexes overlapped by CIDRs or addresses (`a.b.c.d/len`, a bare address = /32). */
export function usedSubnets(cidrs: readonly string[]): Set<number> {
  const used = new Set<number>();
  for (const c of cidrs) {
    const [ip, lenText] = c.split('/');
    const addr = fromIp(ip ?? '');
    let len = lenText === undefined ? 32 : Number(lenText);
    if (addr === null || !Number.isInteger(len) || len < 0 || len > 32) continue;
    // A network wider than /16 (a host on 10/8) blocks only the block holding its address, or
    // the pool would be empty on such hosts.
    if (len < 16) len = 32;
    const size = 2 ** (32 - len);
    const start = addr - (addr % size);
    const end = start + size; // exclusive
    const lo = Math.max(start, POOL_BASE);
    const hi = Math.min(end, POOL_BASE + POOL_BLOCKS * BLOCK);
    for (let a = lo - ((lo - POOL_BASE) % BLOCK); a < hi; a += BLOCK) used.add((a - POOL_BASE) / BLOCK);
  }
  return used;
}

export function pickSubnet(used: ReadonlySet<number>): Subnet | null {
  for (let i = 0; i < POOL_BLOCKS; i += 1) if (!used.has(i)) return subnetAt(i);
  return null;
}
