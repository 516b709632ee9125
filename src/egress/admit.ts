/**
 * Admission of one request (plain `http://`, inside a CONNECT tunnel, or a WebSocket upgrade):
 * normalise it once (docs/decisions/egress-normalisation.md), decide on the normalised form
 * (routes, DoH, git services), then judge a wildcard-routed name for DNS exfiltration before
 * anything resolves it (docs/decisions/egress-dns-exfil.md). The relays only act on the result.
 */
import type http from 'node:http';
import type { Finding } from '../dlp/types.js';
import { decideNormalized, type Allow } from './decide.js';
import type { DenyCode } from './deny.js';
import { dnsExfilAuditEntry, redactedHost, type DnsExfilGuard } from './dns-exfil.js';
import { normalizeRequest, type NormalizeInput, type NormalizedRequest } from './normalize.js';
import type { RelayContext, Target, TunnelCtx } from './relay-context.js';
import type { CompiledRoute, RouteTable } from './route-table.js';

export interface Admitted {
  readonly ok: true;
  readonly n: NormalizedRequest;
  readonly d: Allow;
  /** The target with the normalised path, query and framing. */
  readonly target: Target;
  /** The DNS-exfil audit entry of an allowed wildcard name that scored (action `allow`), else null. */
  readonly dnsAudit: Record<string, unknown> | null;
}

export interface Refused {
  readonly ok: false;
  readonly code: DenyCode;
  /** Host to show and audit (a refused wildcard name is shown redacted). */
  readonly host: string;
  readonly route: CompiledRoute | null;
  readonly detail?: string;
  readonly findings?: readonly Finding[];
  readonly auditFindings?: ReadonlyArray<Record<string, unknown>>;
}

/** Every spelling of the name the agent sent for this request, for the DNS-exfil check. */
function rawHosts(req: http.IncomingMessage, tunnel: TunnelCtx | null): string[] {
  const out: string[] = [];
  const h = req.headers.host;
  if (h) out.push(h);
  const url = req.url ?? '';
  if (!url.startsWith('/')) {
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(url);
    if (m?.[1]) out.push(m[1]);
  }
  if (tunnel?.sni) out.push(tunnel.sni);
  return out;
}

/** A request decided without a socket: what both the proxy and `--check` act on. */
export type Admission = { readonly ok: true; readonly n: NormalizedRequest; readonly d: Allow; readonly dnsAudit: Record<string, unknown> | null } | Refused;

/** The DNS-exfil judge of one admission: the proxy's guard (with its windows) or a fresh one. */
export interface DnsJudge {
  readonly guard: DnsExfilGuard;
  /** Every spelling of the name the agent sent (Host, absolute-form authority, SNI). */
  readonly rawHosts: readonly string[];
  readonly nowMs: number;
}

/**
 * Normalise once, decide on the normalised form, then judge a wildcard-routed name: the one
 * decision path of the live proxy and of `--check` (docs/decisions/egress-check-exit.md), so the
 * two cannot disagree on an oddly encoded path.
 */
export function decideAdmission(table: RouteTable, input: NormalizeInput, dns: DnsJudge): Admission {
  const norm = normalizeRequest(input);
  if (!norm.ok) return { ok: false, code: norm.code, host: input.target.host, route: null, detail: norm.reason };
  const n = norm.req;
  const d = decideNormalized(table, n);
  if (d.action === 'deny') return { ok: false, code: d.code, host: input.target.host, route: d.route };
  let dnsAudit: Record<string, unknown> | null = null;
  const suffix = d.route.wildcardSuffix;
  if (suffix) {
    const v = dns.guard.check({ host: n.host, rawHosts: [...dns.rawHosts], wildcardSuffix: suffix, nowMs: dns.nowMs });
    dnsAudit = dnsExfilAuditEntry(v);
    if (v.decision === 'block') {
      return { ok: false, code: 'dns_exfil', host: redactedHost(n.host, suffix), route: d.route, findings: v.findings, ...(dnsAudit ? { auditFindings: [dnsAudit] } : {}) };
    }
  }
  return { ok: true, n, d, dnsAudit };
}

export function admit(ctx: RelayContext, req: http.IncomingMessage, target: Target, tunnel: TunnelCtx | null): Admitted | Refused {
  const a = decideAdmission(
    ctx.table,
    {
      method: req.method ?? '',
      target: { scheme: target.scheme, host: target.host, port: target.port },
      rawTarget: req.url ?? '/',
      rawHeaders: req.rawHeaders,
      isConnectInner: tunnel !== null,
    },
    { guard: ctx.dnsGuard, rawHosts: rawHosts(req, tunnel), nowMs: Date.now() },
  );
  if (!a.ok) return a;
  return { ...a, target: { ...target, url: a.n.pathForUpstream, framing: a.n.framing } };
}
