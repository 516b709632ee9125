/**
 * `--check URL` (docs/decisions/egress-check-exit.md): one request evaluated against the table with
 * no network and no credential values (token patterns only; known secrets are not available
 * offline). Pure except for the caller reading the table and body files. The request goes through
 * the proxy's own normalise-and-decide path (admit.ts decideAdmission), so `--check` and the live
 * proxy decide an oddly encoded path the same way.
 */
import { createScanner } from '../dlp/scanner.js';
import type { Finding } from '../dlp/types.js';
import { decideAdmission } from './admit.js';
import { decideAbsolute, decideConnect, dlpVerdict, parseAbsoluteHttp } from './decide.js';
import { DnsExfilGuard } from './dns-exfil.js';
import { formatHostPort } from './host.js';
import { filterRequestHeaders } from './inject.js';
import { absolutePortAllowed } from './normalize.js';
import { outboundSurfaces } from './surfaces.js';
import type { RouteTable } from './route-table.js';
import { checkAddresses } from './ssrf.js';

export interface CheckInput {
  url: string;
  method: string;
  headers: Array<[string, string]>;
  body?: string;
  /** `--resolve HOST=IP`: enables the address check. */
  resolve?: { host: string; ip: string };
}

export interface CheckResult {
  url: string;
  method: string;
  decision: 'allow' | 'deny' | 'hold' | 'redact';
  reason: string | null;
  route: string | null;
  match: number | null;
  mode: 'intercept' | 'passthrough' | 'http' | 'local' | null;
  inject: { scheme: string; slot: string } | null;
  dlp: { outbound_on_match: string; findings: Array<{ detector: string; rule: string; surface: string }> } | null;
  address_check: { address: string; ok: boolean; why: string | null } | null;
}

export function runCheck(table: RouteTable, input: CheckInput): CheckResult {
  const method = input.method.toUpperCase();
  const base: CheckResult = { url: input.url, method, decision: 'deny', reason: null, route: null, match: null, mode: null, inject: null, dlp: null, address_check: null };
  const m = /^(https?):\/\/([^/?#]*)([^#]*)/i.exec(input.url);
  if (!m) return { ...base, reason: 'bad_request' };
  const scheme = m[1]!.toLowerCase() as 'https' | 'http';
  let host: string;
  let port: number;
  // The request-target exactly as the proxy would receive it (never re-encoded here): origin-form
  // inside a tunnel, absolute-form for plain http://.
  let rawTarget: string;
  let mode: CheckResult['mode'];
  if (scheme === 'https') {
    const authority = /:\d+$/.test(m[2]!) && !m[2]!.endsWith(']') ? m[2]! : `${m[2]!}:443`;
    const d = decideConnect(table, authority);
    if (d.action === 'deny') return { ...base, reason: d.code, route: d.route?.label ?? null };
    if (d.action === 'local') return { ...base, decision: 'allow', mode: 'local' };
    host = d.host;
    port = d.port;
    mode = d.action === 'passthrough' ? 'passthrough' : 'intercept';
    if (d.action === 'passthrough') return { ...base, decision: 'allow', route: d.route.label, mode, address_check: addressCheck(input, d.route.allowCidrs) };
    rawTarget = m[3] || '/';
    if (rawTarget.startsWith('?')) rawTarget = `/${rawTarget}`;
  } else {
    const abs = parseAbsoluteHttp(input.url);
    if (abs === null || abs === 'bad_scheme') return { ...base, reason: 'bad_request' };
    const d = decideAbsolute(table, abs);
    if (d.action === 'deny') return { ...base, reason: d.code, route: d.route?.label ?? null };
    if (d.action === 'local') return { ...base, decision: 'allow', mode: 'local' };
    if (!absolutePortAllowed(d.route.port, abs.port)) return { ...base, reason: 'no_route' };
    host = abs.host;
    port = abs.port;
    rawTarget = input.url.replace(/#.*$/s, '');
    mode = 'http';
  }
  const rawHeaders: string[] = [];
  if (!input.headers.some(([k]) => k.toLowerCase() === 'host')) rawHeaders.push('host', formatHostPort(host, port));
  for (const [k, v] of input.headers) rawHeaders.push(k, v);
  if (input.body !== undefined && !input.headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k))) {
    rawHeaders.push('content-length', String(Buffer.byteLength(input.body)));
  }
  // The proxy's own decision path (admit.ts): normalise, decide, judge a wildcard name. A fresh
  // DNS-exfil guard: `--check` sees one request, so only the static score applies.
  const scanner = createScanner({ knownSecrets: [], fingerprintKey: new Uint8Array(32) });
  const a = decideAdmission(
    table,
    { method, target: { scheme, host, port }, rawTarget, rawHeaders, isConnectInner: scheme === 'https' },
    { guard: new DnsExfilGuard({ scanner }), rawHosts: [host], nowMs: Date.now() },
  );
  if (!a.ok) return { ...base, reason: a.code, route: a.route?.label ?? null, mode };
  const route = a.d.route;
  const headersOut = filterRequestHeaders(a.n.headers, { injectedHeader: route.auth?.header ?? '', websocket: a.n.websocket });
  const findings: Finding[] = route.outbound.size ? scanner.scan(outboundSurfaces(host, a.n.pathForUpstream, headersOut, input.body), route.outbound) : [];
  const v = dlpVerdict(findings, route);
  return {
    ...base,
    decision: v.action === 'allow' ? 'allow' : v.action === 'deny' ? 'deny' : v.action === 'redact' ? 'redact' : 'hold',
    reason: v.action === 'deny' ? v.code : null,
    route: route.label,
    match: a.d.match,
    mode,
    inject: route.auth ? { scheme: route.auth.scheme, slot: route.auth.slot } : null,
    dlp: { outbound_on_match: route.onMatch, findings: findings.map((f) => ({ detector: f.detector, rule: f.rule, surface: f.surface })) },
    address_check: addressCheck(input, route.allowCidrs),
  };
}

function addressCheck(input: CheckInput, allow: Parameters<typeof checkAddresses>[1]): CheckResult['address_check'] {
  if (!input.resolve) return null;
  const v = checkAddresses([input.resolve.ip], allow);
  return { address: input.resolve.ip, ok: v.ok, why: v.ok ? null : v.why };
}

/** Exit status of `--check`: 0 allow (incl. redact), 1 deny or hold. */
export function checkExitCode(r: CheckResult): number {
  return r.decision === 'allow' || r.decision === 'redact' ? (r.address_check && !r.address_check.ok ? 1 : 0) : 1;
}
