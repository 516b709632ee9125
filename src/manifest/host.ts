/**
 * Route host normalisation (docs/configuration.md §3.4). Pure: no I/O, shared with egress.
 * Result: lower-case DNS name without trailing dot (IDN → punycode), an IPv4 literal, an
 * unbracketed IPv6 literal, or `*.` + ≥ 2 labels.
 */
import { domainToASCII } from 'node:url';

export type HostCheck = { ok: true; host: string; kind: 'dns' | 'ipv4' | 'ipv6' | 'wildcard' } | { ok: false; reason: string };

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** Canonical unbracketed IPv6 or null. */
export function canonicalIPv6(s: string): string | null {
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  try {
    const u = new URL(`http://[${s}]/`);
    return u.hostname.slice(1, -1);
  } catch {
    return null;
  }
}

function dnsName(s: string): string | null {
  let ascii = s;
  // eslint-disable-next-line no-control-regex -- "anything outside ASCII", NUL included
  if (/[^\x00-\x7f]/.test(s)) {
    ascii = domainToASCII(s);
    if (!ascii) return null;
  }
  ascii = ascii.toLowerCase();
  if (ascii.length === 0 || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (!labels.every((l) => LABEL.test(l))) return null;
  // An all-numeric last label would be read as an IP address by clients.
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return null;
  return ascii;
}

export function normalizeHost(raw: string): HostCheck {
  let s = raw.trim();
  if (s === '') return { ok: false, reason: 'must not be empty' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.includes('/')) {
    return { ok: false, reason: 'must be a bare host name: no scheme, path or port (write "example.com", not a URL)' };
  }
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const v6 = canonicalIPv6(s);
  if (v6 !== null) return { ok: true, host: v6, kind: 'ipv6' };
  if (s.includes(':')) return { ok: false, reason: 'must not contain a port; use the route key port' };
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (isIPv4(s)) return { ok: true, host: s, kind: 'ipv4' };
  if (/^[\d.]+$/.test(s)) return { ok: false, reason: 'is not a valid IPv4 address' };
  if (s.includes('*')) {
    if (!s.startsWith('*.') || s.slice(2).includes('*')) {
      return { ok: false, reason: 'may use "*" only as a whole first label ("*.example.com")' };
    }
    const rest = dnsName(s.slice(2));
    if (rest === null) return { ok: false, reason: 'is not a valid wildcard host name' };
    if (rest.split('.').length < 2) return { ok: false, reason: 'wildcard needs at least two labels after "*." (e.g. "*.example.com")' };
    return { ok: true, host: `*.${rest}`, kind: 'wildcard' };
  }
  const name = dnsName(s);
  if (name === null) return { ok: false, reason: 'is not a valid host name (letters, digits, "-", dots)' };
  return { ok: true, host: name, kind: 'dns' };
}

/**
 * Does a route host accept a request host? Exact names match exactly; `*.example.com` matches
 * any deeper name, never the apex (M9). Both sides already normalised.
 */
export function hostMatches(routeHost: string, requestHost: string): boolean {
  if (routeHost.startsWith('*.')) {
    const suffix = routeHost.slice(1); // ".example.com"
    return requestHost.length > suffix.length && requestHost.endsWith(suffix);
  }
  return routeHost === requestHost;
}
