/**
 * `--check URL` (docs/decisions/egress-check-exit.md): one request evaluated against the table with
 * no network and no credential values (token patterns only; known secrets are not available
 * offline). Pure except for the caller reading the table and body files.
 */
import { createScanner } from '../dlp/scanner.js';
import { requestSurfaces } from '../dlp/decode.js';
import type { Finding } from '../dlp/types.js';
import { decideAbsolute, decideConnect, decideRequest, dlpVerdict, parseAbsoluteHttp } from './decide.js';
import { formatHostPort } from './host.js';
import type { HeaderMap } from './match.js';
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
  let target = m[3] || '/';
  if (target.startsWith('?')) target = `/${target}`;
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
  } else {
    const abs = parseAbsoluteHttp(input.url);
    if (abs === null || abs === 'bad_scheme') return { ...base, reason: 'bad_request' };
    const d = decideAbsolute(table, abs);
    if (d.action === 'deny') return { ...base, reason: d.code, route: d.route?.label ?? null };
    if (d.action === 'local') return { ...base, decision: 'allow', mode: 'local' };
    host = abs.host;
    port = abs.port;
    target = abs.target;
    mode = 'http';
  }
  const headers: Record<string, string> = { host: formatHostPort(host, port) };
  for (const [k, v] of input.headers) headers[k.toLowerCase()] = headers[k.toLowerCase()] && k.toLowerCase() !== 'host' ? `${headers[k.toLowerCase()]}, ${v}` : v;
  const r = decideRequest(table, { method, url: target, headers: headers as HeaderMap, scheme, host, port });
  if (r.action === 'deny') return { ...base, reason: r.code, route: r.route?.label ?? null, mode };
  const route = r.route;
  const q = target.indexOf('?');
  const scanner = createScanner({ knownSecrets: [], fingerprintKey: new Uint8Array(32) });
  const scanHeaders = Object.entries(headers).filter(([k]) => k !== 'host' && k !== 'authorization' && k !== 'proxy-authorization' && k !== route.auth?.header);
  const findings: Finding[] = route.outbound.size
    ? scanner.scan(requestSurfaces({ host, path: r.path, query: q < 0 ? '' : target.slice(q + 1), headers: scanHeaders, ...(input.body !== undefined ? { body: input.body } : {}), ...(headers['content-type'] ? { contentType: headers['content-type'] } : {}) }), route.outbound)
    : [];
  const v = dlpVerdict(findings, route);
  const result: CheckResult = {
    ...base,
    decision: v.action === 'allow' ? 'allow' : v.action === 'deny' ? 'deny' : v.action === 'redact' ? 'redact' : 'hold',
    reason: v.action === 'deny' ? v.code : null,
    route: route.label,
    match: r.match,
    mode,
    inject: route.auth ? { scheme: route.auth.scheme, slot: route.auth.slot } : null,
    dlp: { outbound_on_match: route.onMatch, findings: findings.map((f) => ({ detector: f.detector, rule: f.rule, surface: f.surface })) },
    address_check: addressCheck(input, route.allowCidrs),
  };
  return result;
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
