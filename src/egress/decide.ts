/**
 * The decision pipeline (docs/architecture.md §7): CONNECT/absolute-form targets (C1–C6) and inner
 * requests (R2–R5b), plus the DLP verdict (docs/configuration.md §3.4.3). Pure: data in,
 * `allow | deny(code) | passthrough` out; the server only turns results into sockets and responses.
 */
import type { Finding } from '../dlp/types.js';
import type { DenyCode } from './deny.js';
import { DOH_HOSTS, isDohShaped } from './doh.js';
import { normalizeHost, parseAuthority, type HostKind } from './host.js';
import { matchRequest } from './match.js';
import type { NormalizedRequest } from './normalize.js';
import { exactlyRouted, selectRoute, type CompiledRoute, type RouteTable } from './route-table.js';

export const LOCAL_HOST = '_egress.local';

export interface Deny {
  readonly action: 'deny';
  readonly code: DenyCode;
  /** Normalised target when known (for the body and audit). */
  readonly host: string;
  readonly port: number;
  readonly route: CompiledRoute | null;
}

export interface TargetOk {
  readonly action: 'intercept' | 'passthrough' | 'forward';
  readonly host: string;
  readonly port: number;
  readonly kind: HostKind;
  readonly route: CompiledRoute;
}
export interface TargetLocal {
  readonly action: 'local';
  readonly host: typeof LOCAL_HOST;
  readonly port: number;
}
export type TargetDecision = Deny | TargetOk | TargetLocal;

function deny(code: DenyCode, host: string, port: number, route: CompiledRoute | null = null): Deny {
  return { action: 'deny', code, host, port, route };
}

/** C2–C6 on a normalised target (shared by CONNECT and absolute-form). */
function decideTarget(table: RouteTable, host: string, kind: HostKind, port: number, mode: 'connect' | 'http'): TargetDecision {
  if (host === LOCAL_HOST) return { action: 'local', host: LOCAL_HOST, port };
  if (DOH_HOSTS.has(host) && !exactlyRouted(table, host, port)) return deny('doh', host, port);
  if (kind !== 'name' && !exactlyRouted(table, host, port)) return deny('ip_literal', host, port);
  const route = selectRoute(table, host, port);
  if (!route) return deny('no_route', host, port);
  if (mode === 'http') {
    // A passthrough route has no plain-HTTP meaning; credentials never travel in clear.
    if (route.passthrough) return deny('no_route', host, port, route);
    if (route.auth) return deny('plain_http_credential', host, port, route);
    return { action: 'forward', host, port, kind, route };
  }
  return { action: route.passthrough ? 'passthrough' : 'intercept', host, port, kind, route };
}

/** C1–C6 for `CONNECT authority`. A CONNECT must name a port. */
export function decideConnect(table: RouteTable, authority: string): TargetDecision {
  const a = parseAuthority(authority);
  if (!a || a.port === null) return deny('bad_request', authority.slice(0, 255), 0);
  return decideTarget(table, a.host.host, a.host.kind, a.port, 'connect');
}

export interface AbsoluteTarget {
  readonly host: string;
  readonly kind: HostKind;
  readonly port: number;
  /** Port as written in the URL (null when absent): R2 compares against it. */
  readonly explicitPort: number | null;
  readonly target: string; // path + query, as sent
}

/** Splits `http://authority/path?query` without re-encoding the path. */
export function parseAbsoluteHttp(url: string): AbsoluteTarget | 'bad_scheme' | null {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(url);
  if (!m) return null;
  if (m[1]!.toLowerCase() !== 'http') return 'bad_scheme';
  const authority = m[2]!;
  if (authority.includes('@')) return null; // userinfo in a proxy request: refuse rather than guess
  const a = parseAuthority(authority);
  if (!a) return null;
  let target = m[3]!;
  if (target === '') target = '/';
  else if (target.startsWith('?')) target = `/${target}`;
  return { host: a.host.host, kind: a.host.kind, port: a.port ?? 80, explicitPort: a.port, target };
}

/** C2–C6 plus the passthrough and credential rules for an absolute-form `http://` request. */
export function decideAbsolute(table: RouteTable, t: AbsoluteTarget): TargetDecision {
  return decideTarget(table, t.host, t.kind, t.port, 'http');
}

export interface Allow {
  readonly action: 'allow';
  readonly route: CompiledRoute;
  /** Index of the matching `matches` entry, null when the route has none. */
  readonly match: number | null;
  readonly path: string;
  readonly query: string;
  readonly websocket: boolean;
}

export type RequestDecision = Deny | Allow;

/**
 * R4–R5b on the normalised request (docs/decisions/egress-normalisation.md): R1–R3 (parser
 * validity, Host, path safety) already held in normalizeRequest. Every form in `matchPaths` must
 * match the route (an upstream may split on `%2F`, so a route written for one form fails closed);
 * git services come from every signal the normaliser found.
 */
export function decideNormalized(table: RouteTable, n: NormalizedRequest): RequestDecision {
  const { host, port } = n;
  const route = selectRoute(table, host, port);
  if (!route || route.passthrough) return deny('no_route', host, port);
  let match: number | null = null;
  for (let i = 0; i < n.matchPaths.length; i++) {
    const m = matchRequest(route, n.method, n.matchPaths[i]!, n.headerMap);
    if (m === -1) return deny('no_match', host, port, route);
    if (i === 0) match = m;
  }
  if (isDohShaped(n.method, n.path, n.queryString, n.headerMap)) return deny('doh', host, port, route);
  if (n.isGitPush) return deny('git_push_via_egress', host, port, route);
  if (n.gitService === 'upload-pack' && !route.gitFetch) return deny('git_fetch_disabled', host, port, route);
  return { action: 'allow', route, match, path: n.path, query: n.queryString, websocket: n.websocket };
}

export type DlpVerdict =
  | { readonly action: 'allow'; readonly warnings: readonly Finding[] }
  | { readonly action: 'deny'; readonly code: 'canary' | 'dlp_block' | 'dlp_redact_failed'; readonly findings: readonly Finding[] }
  | { readonly action: 'redact' | 'supervise'; readonly findings: readonly Finding[]; readonly warnings: readonly Finding[] };

/**
 * The DLP verdict (docs/security-model.md §2.4): the canary is always `canary`; a slot value is
 * always `dlp_block` (the agent can only hold it after a breach); entropy only warns; everything
 * else follows `outbound_on_match`.
 */
export function dlpVerdict(findings: readonly Finding[], route: CompiledRoute): DlpVerdict {
  if (findings.length === 0) return { action: 'allow', warnings: [] };
  const canary = findings.filter((f) => f.detector === 'canary' || f.secretKind === 'canary');
  if (canary.length > 0) return { action: 'deny', code: 'canary', findings: canary };
  const blocking = findings.filter((f) => f.severity === 'block');
  const warnings = findings.filter((f) => f.severity !== 'block');
  if (blocking.length === 0) return { action: 'allow', warnings };
  const slots = blocking.filter((f) => f.secretKind === 'slot');
  if (slots.length > 0) return { action: 'deny', code: 'dlp_block', findings: slots };
  switch (route.onMatch) {
    case 'block':
      return { action: 'deny', code: 'dlp_block', findings: blocking };
    case 'redact': {
      const unrewritable = blocking.filter((f) => f.start === null || f.end === null || f.surface === 'host');
      if (unrewritable.length > 0) return { action: 'deny', code: 'dlp_redact_failed', findings: unrewritable };
      return { action: 'redact', findings: blocking, warnings };
    }
    case 'supervise':
      return { action: 'supervise', findings: blocking, warnings };
  }
}

/** Normalises a host for `--check` and other callers that start from a URL string. */
export function normalizeTargetHost(host: string): string | null {
  return normalizeHost(host)?.host ?? null;
}
