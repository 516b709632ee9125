/**
 * IP address and CIDR arithmetic without node:net (pure module shared by host and sidecars).
 * Addresses are 16-byte arrays; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so one comparison
 * routine serves both families.
 */
export type IpBytes = Uint8Array; // length 16

export function parseIPv4(s: string): IpBytes | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith('0'))) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[12 + i] = n;
  }
  return out;
}

export function parseIPv6(input: string): IpBytes | null {
  let s = input;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const groups: number[] = [];
  let tail4: IpBytes | null = null;
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return null;
  const parseSide = (side: string, allowV4: boolean): number[] | null => {
    if (side === '') return [];
    const items = side.split(':');
    const res: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (allowV4 && i === items.length - 1 && it.includes('.')) {
        tail4 = parseIPv4(it);
        if (!tail4) return null;
        res.push((tail4[12]! << 8) | tail4[13]!, (tail4[14]! << 8) | tail4[15]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
      res.push(parseInt(it, 16));
    }
    return res;
  };
  if (dbl >= 0) {
    const left = parseSide(s.slice(0, dbl), false);
    const right = parseSide(s.slice(dbl + 2), true);
    if (!left || !right || left.length + right.length > 7) return null;
    groups.push(...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right);
  } else {
    const all = parseSide(s, true);
    if (!all || all.length !== 8) return null;
    groups.push(...all);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = groups[i]! >> 8;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  return out;
}

export function parseIp(s: string): IpBytes | null {
  return s.includes(':') ? parseIPv6(s) : parseIPv4(s);
}

export interface Cidr {
  readonly bytes: IpBytes;
  /** Prefix length over the 128-bit (mapped) space. */
  readonly bits: number;
  readonly text: string;
}

export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const v6 = addr.includes(':');
  const bytes = parseIp(addr);
  if (!bytes) return null;
  let bits = v6 ? 128 : 32;
  if (slash >= 0) {
    const b = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) return null;
    bits = Number(b);
    if (bits > (v6 ? 128 : 32)) return null;
  }
  return { bytes, bits: v6 ? bits : bits + 96, text };
}

export function inCidr(ip: IpBytes, c: Cidr): boolean {
  let bits = c.bits;
  for (let i = 0; i < 16 && bits > 0; i++) {
    const take = Math.min(8, bits);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((ip[i]! & mask) !== (c.bytes[i]! & mask)) return false;
    bits -= take;
  }
  return true;
}

export function isMapped4(ip: IpBytes): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

export function formatIp(ip: IpBytes): string {
  if (isMapped4(ip)) return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  const g: string[] = [];
  for (let i = 0; i < 8; i++) g.push(((ip[i * 2]! << 8) | ip[i * 2 + 1]!).toString(16));
  return g.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}
