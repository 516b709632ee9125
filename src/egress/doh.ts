/** DNS-over-HTTPS refusal (docs/security-model.md §2.1). Pure. */
import type { HeaderMap } from './match.js';

export const DOH_HOSTS: ReadonlySet<string> = new Set([
  'dns.google', 'dns.google.com', 'cloudflare-dns.com', 'mozilla.cloudflare-dns.com', 'one.one.one.one',
  'dns.quad9.net', 'dns9.quad9.net', 'dns10.quad9.net', 'dns11.quad9.net', 'doh.opendns.com', 'dns.nextdns.io',
  'doh.cleanbrowsing.org', 'dns.adguard.com', 'dns.adguard-dns.com', 'doh.dns.sb', 'dns.alidns.com', 'doh.pub',
  'freedns.controld.com', 'dns0.eu', 'doh.mullvad.net',
]);

const DNS_TYPES = ['application/dns-message', 'application/dns-json'];

function mediaTypes(v: string | readonly string[] | undefined): string[] {
  if (v === undefined) return [];
  const s = typeof v === 'string' ? v : v.join(',');
  return s.split(',').map((p) => p.split(';')[0]!.trim().toLowerCase());
}

export function isDohShaped(method: string, path: string, query: string, headers: HeaderMap): boolean {
  for (const t of mediaTypes(headers['content-type'])) if (DNS_TYPES.includes(t)) return true;
  for (const t of mediaTypes(headers.accept)) if (DNS_TYPES.includes(t)) return true;
  if (method === 'GET' && path.endsWith('/dns-query') && /(?:^|&)dns=/.test(query)) return true;
  return false;
}
