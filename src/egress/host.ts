/**
 * Host normalisation through the WHATWG URL host parser (docs/configuration.md §3.4; C2): case,
 * IDNA, trailing dot, and the legacy IPv4 spellings (`2130706433`, `0x7f.1`) all collapse to one
 * form. Pure: no I/O.
 */
export type HostKind = 'name' | 'ipv4' | 'ipv6';

export interface NormalHost {
  /** Lower-case punycode name, dotted-quad IPv4, or unbracketed IPv6. */
  readonly host: string;
  readonly kind: HostKind;
}

const IPV4_RE = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Returns null when the input is not a valid host (the caller answers 400 bad_request). */
export function normalizeHost(input: string): NormalHost | null {
  if (input.length === 0 || input.length > 253 + 2) return null;
  // Characters the URL parser would treat as structure, not host.
  if (/[/?#@\s\\]/.test(input)) return null;
  let raw = input;
  const bracketed = raw.startsWith('[') && raw.endsWith(']');
  if (!bracketed && raw.includes(':')) raw = `[${raw}]`;
  let hostname: string;
  try {
    hostname = new URL(`http://${raw}/`).hostname;
  } catch {
    return null;
  }
  if (hostname.startsWith('[')) return { host: hostname.slice(1, -1), kind: 'ipv6' };
  if (hostname.endsWith('.')) hostname = hostname.slice(0, -1);
  // One trailing dot is the root label; a second is an empty label. Refused, so a normalised host
  // normalises to itself (fuzz counterexample: `example.com..` became `example.com.`).
  if (hostname.length === 0 || hostname.endsWith('.')) return null;
  if (IPV4_RE.test(hostname)) return { host: hostname, kind: 'ipv4' };
  return { host: hostname, kind: 'name' };
}

export interface Authority {
  readonly host: NormalHost;
  /** null when the authority carried no port. */
  readonly port: number | null;
}

/** Parses `host[:port]` / `[v6][:port]`; null when malformed (including a bad port). */
export function parseAuthority(input: string): Authority | null {
  let hostPart: string;
  let portPart: string | undefined;
  if (input.startsWith('[')) {
    const close = input.indexOf(']');
    if (close < 0) return null;
    hostPart = input.slice(0, close + 1);
    const rest = input.slice(close + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(':')) return null;
      portPart = rest.slice(1);
    }
  } else {
    const colon = input.lastIndexOf(':');
    if (colon >= 0) {
      if (input.indexOf(':') !== colon) return null; // bare IPv6 without brackets is ambiguous
      hostPart = input.slice(0, colon);
      portPart = input.slice(colon + 1);
    } else {
      hostPart = input;
    }
  }
  let port: number | null = null;
  if (portPart !== undefined) {
    if (!/^\d{1,5}$/.test(portPart)) return null;
    port = Number(portPart);
    if (port < 1 || port > 65535) return null;
  }
  const host = normalizeHost(hostPart);
  return host ? { host, port } : null;
}

/** `host:port` as written in messages and logs (IPv6 bracketed). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
