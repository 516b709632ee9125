/**
 * Upstream connections (docs/decisions/egress-upstream-resolution.md): keep-alive pools keyed by
 * (host, port, servername), ≤ 64 sockets per origin, idle close 30 s, TLS verified against system
 * roots plus EGRESS_UPSTREAM_CA_FILE. Names resolve through our own lookup, which checks every
 * address before the socket connects to the checked one (no second lookup).
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import tls from 'node:tls';
import type { Cidr } from './ip.js';
import { checkAddresses, type AddressVerdict } from './ssrf.js';

export type Resolver = (host: string) => Promise<string[]>;

/** `host=ip[,host=ip…]`; a repeated host accumulates addresses. Throws naming the bad entry. */
export function parseResolveMap(text: string | undefined): Map<string, string[]> {
  const map = new Map<string, string[]>();
  if (!text) return map;
  for (const entry of text.split(',')) {
    const e = entry.trim();
    if (!e) continue;
    const eq = e.indexOf('=');
    const host = eq > 0 ? e.slice(0, eq).trim().toLowerCase().replace(/\.$/, '') : '';
    let ip = eq > 0 ? e.slice(eq + 1).trim() : '';
    if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (!host || isIP(ip) === 0) throw new Error(`EGRESS_RESOLVE entry "${e}" must be host=ip`);
    const list = map.get(host) ?? [];
    list.push(ip);
    map.set(host, list);
  }
  return map;
}

export function createResolver(staticMap: ReadonlyMap<string, readonly string[]>, system?: Resolver): Resolver {
  const sys: Resolver =
    system ??
    (async (host) => {
      const r = await dns.promises.lookup(host, { all: true, verbatim: true });
      return r.map((x) => x.address);
    });
  return async (host) => {
    if (isIP(host)) return [host];
    const s = staticMap.get(host);
    if (s) return [...s];
    return sys(host);
  };
}

export class SsrfError extends Error {
  readonly code = 'EGRESS_SSRF';
  constructor(readonly verdict: Extract<AddressVerdict, { ok: false }>) {
    super(`address not allowed (${verdict.why})`);
  }
}

/** Resolve and check; returns the address to connect to. */
export async function resolveChecked(resolver: Resolver, host: string, allow: readonly Cidr[]): Promise<{ address: string; family: 4 | 6 }> {
  const addrs = await resolver(host);
  const v = checkAddresses(addrs, allow);
  if (!v.ok) throw new SsrfError(v);
  const address = addrs[0]!;
  return { address, family: isIP(address) === 6 ? 6 : 4 };
}

/** A net.LookupFunction bound to one route's allowed CIDRs. */
export function checkedLookup(resolver: Resolver, allow: readonly Cidr[], onLookup?: (host: string) => void): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    onLookup?.(hostname);
    resolveChecked(resolver, hostname, allow).then(
      ({ address, family }) => (options?.all ? callback(null, [{ address, family }]) : callback(null, address, family)),
      (err: unknown) => callback(err),
    );
  }) as unknown as LookupFunction;
}

export interface UpstreamAgents {
  https: https.Agent;
  http: http.Agent;
  /** Trust for upstream TLS, built on first use (see `upstreamTrust`). */
  trust: () => tls.SecureContext;
  destroy(): void;
}

/**
 * The upstream trust store (system roots plus EGRESS_UPSTREAM_CA_FILE), built once on first call:
 * parsing ~150 roots costs ≈ 25 ms of CPU, which would otherwise sit on the daemon's start and on
 * every routes reload (docs/decisions/sidecar-bundle.md). The server warms it right after it
 * listens.
 */
export function upstreamTrust(extraCaPem: string | undefined): () => tls.SecureContext {
  let ctx: tls.SecureContext | undefined;
  return () => {
    if (ctx === undefined) {
      const ca = [...tls.rootCertificates];
      if (extraCaPem) ca.push(extraCaPem);
      ctx = tls.createSecureContext({ ca, minVersion: 'TLSv1.2' });
    }
    return ctx;
  };
}

export function createAgents(trust: () => tls.SecureContext, maxSockets = 64): UpstreamAgents {
  const common = { keepAlive: true, keepAliveMsecs: 1000, maxSockets, maxFreeSockets: maxSockets, timeout: 30_000, scheduling: 'lifo' as const };
  const a = { https: new https.Agent(common), http: new http.Agent(common) };
  return { ...a, trust, destroy: () => (a.https.destroy(), a.http.destroy()) };
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|ERR_OSSL)/;

/** Maps an upstream error to its refusal code (deny.ts). */
export function classifyUpstreamError(err: unknown): 'ssrf' | 'upstream_tls' | 'upstream_timeout' | 'upstream_unreachable' {
  const e = err as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  if (code === 'EGRESS_SSRF') return 'ssrf';
  if (code === 'EGRESS_TIMEOUT' || code === 'ETIMEDOUT') return 'upstream_timeout';
  if (TLS_CODES.test(code)) return 'upstream_tls';
  if (code === '' && /certificate|ssl/i.test(e?.message ?? '')) return 'upstream_tls';
  return 'upstream_unreachable';
}

export class UpstreamTimeout extends Error {
  readonly code = 'EGRESS_TIMEOUT';
}

export interface UpstreamTarget {
  readonly scheme: 'https' | 'http';
  readonly host: string;
  readonly port: number;
}

/**
 * One upstream request (docs/architecture.md §7, R9): our own lookup (SSRF-checked), verification
 * against system roots plus EGRESS_UPSTREAM_CA_FILE, servername = host. `pooled` false for
 * WebSocket upgrades, whose sockets leave the pool for good.
 */
export function upstreamRequest(agents: UpstreamAgents, lookup: LookupFunction, target: UpstreamTarget, method: string, path: string, headers: readonly string[], pooled: boolean): http.ClientRequest {
  const isHttps = target.scheme === 'https';
  const reqOpts: https.RequestOptions & { secureContext?: tls.SecureContext } = {
    agent: pooled ? (isHttps ? agents.https : agents.http) : false,
    host: target.host,
    port: target.port,
    method,
    path,
    // Node accepts the flat [name, value, …] list as is (duplicates and order kept).
    headers: headers as unknown as http.OutgoingHttpHeaders,
    setHost: false,
    lookup,
  };
  if (isHttps) {
    reqOpts.secureContext = agents.trust();
    if (!/^[\d.]+$|:/.test(target.host)) reqOpts.servername = target.host;
  }
  return (isHttps ? https : http).request(reqOpts);
}
