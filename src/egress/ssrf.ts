/**
 * Upstream address policy (docs/security-model.md §2.3, SSRF guard). Every address a name resolves
 * to must be public, or inside one of the route's `allow_private_cidrs`; metadata endpoints never
 * pass. IPv4-mapped and NAT64 (64:ff9b::/96) addresses are judged by their embedded IPv4.
 */
import { inCidr, parseCidr, parseIp, type Cidr, type IpBytes } from './ip.js';

const DENIED_TEXT = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24',
  '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
  '::/128', '::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8', '2001:db8::/32',
];
const METADATA_TEXT = ['169.254.169.254', '169.254.170.2', 'fd00:ec2::254'];

function must(text: string): Cidr {
  const c = parseCidr(text);
  if (!c) throw new Error(`internal: bad built-in CIDR ${text}`);
  return c;
}
const DENIED: readonly Cidr[] = DENIED_TEXT.map(must);
const METADATA: readonly Cidr[] = METADATA_TEXT.map(must);
const NAT64 = must('64:ff9b::/96');

/** The address a check is made on: the embedded IPv4 for NAT64, the address itself otherwise. */
function effective(ip: IpBytes): IpBytes {
  if (inCidr(ip, NAT64)) {
    const m = new Uint8Array(16);
    m[10] = 0xff;
    m[11] = 0xff;
    m.set(ip.subarray(12), 12);
    return m;
  }
  return ip;
}

export type AddressVerdict = { ok: true } | { ok: false; address: string; why: 'private' | 'metadata' | 'invalid' };

export function checkAddress(address: string, allow: readonly Cidr[]): AddressVerdict {
  const parsed = parseIp(address);
  if (!parsed) return { ok: false, address, why: 'invalid' };
  const ip = effective(parsed);
  if (METADATA.some((c) => inCidr(ip, c))) return { ok: false, address, why: 'metadata' };
  // ::ffff:0:0/96 itself is the mapped space: judged through the IPv4 ranges above.
  if (!DENIED.some((c) => inCidr(ip, c))) return { ok: true };
  if (allow.some((c) => inCidr(ip, c) || inCidr(parsed, c))) return { ok: true };
  return { ok: false, address, why: 'private' };
}

/** All addresses must pass (a name resolving to [public, private] is refused). */
export function checkAddresses(addresses: readonly string[], allow: readonly Cidr[]): AddressVerdict {
  if (addresses.length === 0) return { ok: false, address: '', why: 'invalid' };
  for (const a of addresses) {
    const v = checkAddress(a, allow);
    if (!v.ok) return v;
  }
  return { ok: true };
}

export function compileCidrs(list: readonly string[]): Cidr[] {
  return list.map((t) => {
    const c = parseCidr(t);
    if (!c) throw new Error(`invalid CIDR ${t}`);
    return c;
  });
}
