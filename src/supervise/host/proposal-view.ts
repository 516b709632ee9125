/**
 * What the operator reads (docs/supervise.md, "Operator verbs"): one-line summaries for the
 * pending table, the detail of `show` (a diff of live vs merged routes with credentials shown as
 * `configured`, or a Dockerfile diff), and the warnings list. Pure; shared by the CLI verbs and the
 * TUI.
 */
import { stringify } from 'yaml';
import { normalizeHost } from '../../egress/host.js';
import { defaultDlpFor } from '../../egress/routes-file.js';
import type { RoutesFile, RoutesFileRoute } from '../../egress/routes-file-types.js';
import type { Proposal } from '../store/types.js';
import { unifiedDiff } from './line-diff.js';
import { mergeRoutes } from './route-merge.js';
import { ProposalInvalidError, validateDockerfile, validateProposedRoutes } from './route-proposal.js';

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

function routeLabel(r: { host?: unknown; port?: unknown }): string {
  return `${str(r.host)}${typeof r.port === 'number' ? `:${r.port}` : ''}`;
}

/** The one-line summary of the pending table. */
export function summarize(p: Pick<Proposal, 'kind' | 'payload'>): string {
  const pl = isObj(p.payload) ? p.payload : {};
  switch (p.kind) {
    case 'egress-allow': {
      const routes = Array.isArray(pl.routes) ? pl.routes.filter(isObj) : [];
      return `allow ${routes.map(routeLabel).join(', ') || '(no routes)'}`;
    }
    case 'capability-block': {
      const from = /^\s*FROM\s+(\S+)/im.exec(str(pl.dockerfile))?.[1];
      return `new image${from ? ` FROM ${from}` : ''}`;
    }
    case 'egress-token-allow': {
      const rules = Array.isArray(pl.findings) ? pl.findings.filter(isObj).map((f) => str(f.rule)) : [];
      return `${str(pl.method) || 'request'} ${str(pl.host)}${str(pl.path)} carries ${rules.join(', ') || 'a secret'}`;
    }
    case 'secret-allow': {
      const n = Array.isArray(pl.findings) ? pl.findings.length : 0;
      return `push to ${str(pl.repo)} with ${n} finding${n === 1 ? '' : 's'}`;
    }
  }
}

/** The table as the operator sees it: credentials never named beyond their scheme. */
export function routesForDisplay(routes: readonly RoutesFileRoute[]): string {
  const shown = routes.map((r) => {
    const { auth, ...rest } = r;
    if (!auth) return rest;
    // auth right after host/port, so it shows next to the route it belongs to
    const { host, port, ...others } = rest;
    return { host, ...(port !== undefined ? { port } : {}), auth: { scheme: auth.scheme, credential: 'configured' }, ...others };
  });
  return stringify(shown, { lineWidth: 0, aliasDuplicateObjects: false });
}

const PRIVATE_OK_METHODS = new Set(['GET', 'HEAD']);

/** Warnings for proposed routes (the things an operator should look at twice). */
export function routeWarnings(proposed: readonly RoutesFileRoute[]): string[] {
  const w: string[] = [];
  for (const r of proposed) {
    const l = routeLabel(r);
    if (r.host.startsWith('*.')) w.push(`${l}: wildcard host (covers every subdomain)`);
    else if (normalizeHost(r.host)?.kind !== 'name') w.push(`${l}: IP-literal host`);
    if (r.tls_passthrough) w.push(`${l}: tls_passthrough (not decrypted: no path rules, no DLP)`);
    if (r.allow_private_cidrs?.length) w.push(`${l}: allows private addresses ${r.allow_private_cidrs.join(', ')}`);
    if (r.dlp) {
      const d = defaultDlpFor('approved');
      const weaker =
        r.dlp.outbound_detectors === false ||
        r.dlp.inbound_detectors === false ||
        (Array.isArray(r.dlp.outbound_detectors) && Array.isArray(d.outbound_detectors) && d.outbound_detectors.some((x) => !(r.dlp!.outbound_detectors as string[]).includes(x))) ||
        (r.dlp.outbound_on_match === 'redact' && d.outbound_on_match !== 'redact');
      if (weaker) w.push(`${l}: weakened DLP`);
    }
    const matches = r.matches ?? [];
    if (matches.some((m) => m.paths?.some((p) => p.type === 'regex'))) w.push(`${l}: regex path`);
    if (!r.tls_passthrough) {
      const methods = matches.length === 0 || matches.some((m) => !m.methods) ? null : matches.flatMap((m) => m.methods ?? []);
      if (methods === null) w.push(`${l}: every method allowed (not only GET/HEAD)`);
      else {
        const other = [...new Set(methods.filter((m) => !PRIVATE_OK_METHODS.has(m)))];
        if (other.length) w.push(`${l}: methods other than GET/HEAD: ${other.join(', ')}`);
      }
    }
  }
  return w;
}

export interface RouteChangeView {
  readonly diff: string;
  readonly warnings: string[];
  readonly merged: RoutesFileRoute[];
}

/** The detail of an `egress-allow` against the live table (null live: the file is unreadable). */
export function routeChangeView(live: RoutesFile | null, payload: unknown): RouteChangeView {
  const proposed = validateProposedRoutes(payload, { allowAuthSlots: new Set(live?.routes.flatMap((r) => (r.auth ? [r.auth.token_env] : [])) ?? []) });
  const before = live?.routes ?? [];
  const merged = mergeRoutes(before, proposed);
  return {
    // Whole-table context: the table is small and the operator judges the change against all of it.
    diff: unifiedDiff(routesForDisplay(before), routesForDisplay(merged), { a: 'live routes', b: 'after approval' }, Number.MAX_SAFE_INTEGER),
    warnings: routeWarnings(proposed),
    merged,
  };
}

export function dockerfileView(current: string | null, payload: unknown): { diff: string; warnings: string[] } {
  const next = validateDockerfile(payload);
  const from = (t: string | null): string | undefined => (t ? /^\s*FROM\s+(.+)$/im.exec(t)?.[1]?.trim() : undefined);
  const warnings: string[] = [];
  if (current !== null && from(current) !== from(next)) warnings.push(`FROM changes: ${from(current) ?? '(none)'} → ${from(next) ?? '(none)'}`);
  return { diff: unifiedDiff(current ?? '', next, { a: current === null ? 'image cascade (no bottle Dockerfile)' : 'current Dockerfile', b: 'proposed' }), warnings };
}

/** Detail text for the sidecar kinds: what they ask, masked values only (as filed). */
export function sidecarDetail(p: Pick<Proposal, 'kind' | 'payload'>): string {
  const pl = isObj(p.payload) ? p.payload : {};
  const findings = Array.isArray(pl.findings) ? pl.findings.filter(isObj) : [];
  if (p.kind === 'egress-token-allow') {
    const lines = [`host:   ${str(pl.host)}`, `method: ${str(pl.method)}`, `path:   ${str(pl.path)}`, 'findings:'];
    for (const f of findings) lines.push(`  - ${str(f.rule)} in ${str(f.surface)}: ${str(f.masked)}${f.fingerprint ? ` (fingerprint ${str(f.fingerprint)})` : ''}`);
    lines.push('note: approving lets this value reach this host for the rest of the bottle\'s life');
    return `${lines.join('\n')}\n`;
  }
  const lines = [`repo: ${str(pl.repo)}`];
  if (Array.isArray(pl.refs)) lines.push(`refs: ${pl.refs.map(str).join(', ')}`);
  lines.push('findings:');
  for (const f of findings) {
    lines.push(`  - ${str(f.file)}:${str(f.line)} commit ${str(f.commit).slice(0, 12)} rule ${str(f.rule)}`);
    if (f.masked_line !== undefined || f.masked !== undefined) lines.push(`      ${str(f.masked_line ?? f.masked)}`);
    if (f.reason !== undefined) lines.push(`      agent's reason: ${str(f.reason)}`);
  }
  return `${lines.join('\n')}\n`;
}

export { ProposalInvalidError };
