/**
 * The compiled route table and route selection (docs/configuration.md §3.4). Built once per reload
 * from a validated RoutesFile; immutable afterwards so requests decided on an old table keep it.
 */
import type { DetectorName } from '../dlp/types.js';
import type { AuthScheme, OnMatch } from '../manifest/types.js';
import type { RoutesFile, RoutesFileRoute } from './routes-file-types.js';
import { compileRouteRegex } from './routes-file.js';
import { compileCidrs } from './ssrf.js';
import type { Cidr } from './ip.js';

export interface CompiledPath {
  readonly type: 'exact' | 'prefix' | 'regex';
  readonly value: string;
  readonly re: RegExp | null;
}
export interface CompiledHeader {
  readonly name: string;
  readonly type: 'exact' | 'regex';
  readonly value: string;
  readonly re: RegExp | null;
}
export interface CompiledMatch {
  readonly paths: readonly CompiledPath[] | null;
  readonly methods: readonly string[] | null;
  readonly headers: readonly CompiledHeader[] | null;
}

export interface CompiledRoute {
  readonly index: number;
  readonly host: string;
  /** `.example.com` for `*.example.com`, else null. */
  readonly wildcardSuffix: string | null;
  readonly port: number | null;
  /** `host` or `host:port`, used in logs, audit and denials. */
  readonly label: string;
  readonly matches: readonly CompiledMatch[] | null;
  readonly auth: { readonly scheme: AuthScheme; readonly slot: string; readonly header: string } | null;
  readonly passthrough: boolean;
  readonly allowCidrs: readonly Cidr[];
  readonly gitFetch: boolean;
  readonly outbound: ReadonlySet<DetectorName>;
  readonly inbound: boolean;
  readonly onMatch: OnMatch;
  readonly source: RoutesFileRoute;
}

export interface RouteTable {
  readonly doc: RoutesFile;
  readonly routes: readonly CompiledRoute[];
  /** Exact host → routes on that host. */
  readonly exact: ReadonlyMap<string, readonly CompiledRoute[]>;
  /** Wildcard routes, longest suffix first. */
  readonly wildcards: readonly CompiledRoute[];
  /** Slot names the table references (startup refuses unset ones). */
  readonly slots: readonly string[];
}

const ALL_OUTBOUND: readonly DetectorName[] = ['token_patterns', 'known_secrets', 'entropy'];

function outboundSet(v: NonNullable<RoutesFileRoute['dlp']>['outbound_detectors'] | undefined): Set<DetectorName> {
  if (v === undefined) return new Set(['token_patterns', 'known_secrets']);
  if (v === false) return new Set();
  if (v === 'all') return new Set(ALL_OUTBOUND);
  return new Set(v);
}

function compileRoute(r: RoutesFileRoute, index: number): CompiledRoute {
  const wildcard = r.host.startsWith('*.');
  const authHeader = r.auth ? (r.auth.scheme === 'header' ? (r.auth.header ?? '').toLowerCase() : 'authorization') : '';
  const inboundSrc = r.dlp?.inbound_detectors;
  return {
    index,
    host: r.host,
    wildcardSuffix: wildcard ? r.host.slice(1) : null,
    port: r.port ?? null,
    label: r.port === undefined ? r.host : `${r.host}:${r.port}`,
    matches: r.matches
      ? r.matches.map((m) => ({
          paths: m.paths ? m.paths.map((p) => ({ type: p.type, value: p.value, re: p.type === 'regex' ? compileRouteRegex(p.value) : null })) : null,
          methods: m.methods ? [...m.methods] : null,
          headers: m.headers
            ? m.headers.map((h) => ({ name: h.name.toLowerCase(), type: h.type, value: h.value, re: h.type === 'regex' ? compileRouteRegex(h.value) : null }))
            : null,
        }))
      : null,
    auth: r.auth ? { scheme: r.auth.scheme, slot: r.auth.token_env, header: authHeader } : null,
    passthrough: r.tls_passthrough === true,
    allowCidrs: compileCidrs(r.allow_private_cidrs ?? []),
    gitFetch: r.git?.fetch ?? true,
    outbound: outboundSet(r.dlp?.outbound_detectors),
    inbound: inboundSrc === undefined ? true : inboundSrc !== false && (inboundSrc === 'all' || inboundSrc.length > 0),
    onMatch: r.dlp?.outbound_on_match ?? 'block',
    source: r,
  };
}

export function compileRouteTable(doc: RoutesFile): RouteTable {
  const routes = doc.routes.map(compileRoute);
  const exact = new Map<string, CompiledRoute[]>();
  const wildcards: CompiledRoute[] = [];
  for (const r of routes) {
    if (r.wildcardSuffix) wildcards.push(r);
    else {
      const list = exact.get(r.host) ?? [];
      list.push(r);
      exact.set(r.host, list);
    }
  }
  wildcards.sort((a, b) => b.wildcardSuffix!.length - a.wildcardSuffix!.length);
  const slots = [...new Set(routes.flatMap((r) => (r.auth ? [r.auth.slot] : [])))];
  return { doc, routes, exact, wildcards, slots };
}

function portMatches(r: CompiledRoute, port: number): boolean {
  return r.port === null ? port === 443 || port === 80 : r.port === port;
}

/** Exact host beats wildcard; the longest wildcard suffix wins; the port must match. */
export function selectRoute(table: RouteTable, host: string, port: number): CompiledRoute | null {
  const exact = table.exact.get(host);
  if (exact) {
    for (const r of exact) if (portMatches(r, port)) return r;
  }
  for (const r of table.wildcards) {
    // ≥ 1 extra label: `*.example.com` never matches `example.com` itself.
    if (host.length > r.wildcardSuffix!.length && host.endsWith(r.wildcardSuffix!) && portMatches(r, port)) return r;
  }
  return null;
}

/** True when `host` is routed by an exact (non-wildcard) entry on `port` (C4/C5). */
export function exactlyRouted(table: RouteTable, host: string, port: number): boolean {
  const exact = table.exact.get(host);
  return exact !== undefined && exact.some((r) => portMatches(r, port));
}
