/**
 * Approve-and-remember matching (docs/decisions/supervise-remember.md). Pure: no I/O.
 *
 * `ruleFromPayload` turns an approved payload into the rule that is stored; `covers` says whether
 * a later proposal is covered by a rule, i.e. asks for nothing the operator did not already
 * approve. Every doubt answers "not covered": the proposal then simply waits for the operator, so
 * a false negative costs one question and a false positive would widen the sandbox silently.
 * Hosts and routes go through the egress routes-file validator (validateProposedRoutes), which
 * refuses anything not already in canonical form — case, trailing dot, Unicode instead of
 * punycode, lower-case methods — so no second normaliser lives here.
 */
import { normalizeHost } from '../../egress/host.js';
import { prefixMatches } from '../../egress/match.js';
import type { RoutesFileMatch, RoutesFileRoute } from '../../egress/routes-file-types.js';
import { canonicalJson } from '../proposal-kinds.js';
import type { ProposalKind } from '../store/types.js';
import { validateProposedRoutes } from './route-proposal.js';

export const REMEMBER_SCOPES = ['bottle', 'agent', 'file'] as const;
export type RememberScope = (typeof REMEMBER_SCOPES)[number];
/** Scopes kept in the store (`file` writes the manifest instead). */
export type StoredScope = 'bottle' | 'agent';

export interface EgressAllowRule {
  readonly routes: RoutesFileRoute[];
}
export interface TokenAllowRule {
  readonly host: string;
  /** (rule, fingerprint) pairs; never a value. */
  readonly findings: ReadonlyArray<{ rule: string; fingerprint: string }>;
}
export interface SecretAllowRule {
  readonly repo: string;
  readonly findings: ReadonlyArray<{ commit: string; file: string; line: number | null; rule: string }>;
}
export type RememberRuleBody = EgressAllowRule | TokenAllowRule | SecretAllowRule;

export type RuleResult = { ok: true; rule: RememberRuleBody } | { ok: false; message: string };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const COMMIT_RE = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
/** Egress fingerprints: hex HMAC digests (src/dlp/mask.ts); anything else is not trusted as one. */
const FINGERPRINT_RE = /^[0-9a-f]{8,128}$/;

/** Route payloads are validated with the egress schema; null when not valid (never covered). */
function routesOf(payload: unknown): RoutesFileRoute[] | null {
  try {
    return validateProposedRoutes(payload, { allowAuthSlots: authSlotsIn(payload) });
  } catch {
    return null;
  }
}

/** Slots named by `auth` in a payload (only an operator-modified payload may carry them). */
function authSlotsIn(payload: unknown): Set<string> {
  const routes = Array.isArray(payload) ? payload : isObj(payload) && Array.isArray(payload.routes) ? payload.routes : [];
  const slots = new Set<string>();
  for (const r of routes) if (isObj(r) && isObj(r.auth) && typeof r.auth.token_env === 'string') slots.add(r.auth.token_env);
  return slots;
}

function tokenFindings(payload: Record<string, unknown>): Array<{ rule: string; fingerprint: string }> | null {
  if (!Array.isArray(payload.findings) || payload.findings.length === 0) return null;
  const out: Array<{ rule: string; fingerprint: string }> = [];
  for (const f of payload.findings) {
    if (!isObj(f) || typeof f.rule !== 'string' || f.rule === '' || typeof f.fingerprint !== 'string' || !FINGERPRINT_RE.test(f.fingerprint)) return null;
    out.push({ rule: f.rule, fingerprint: f.fingerprint });
  }
  return out;
}

function tokenHost(payload: Record<string, unknown>): string | null {
  if (typeof payload.host !== 'string') return null;
  // The held request's host as egress saw it: lower-cased, IDNA, trailing dot dropped. Equality
  // of canonical forms only — never a suffix or wildcard comparison.
  return normalizeHost(payload.host)?.host ?? null;
}

function secretFindings(payload: Record<string, unknown>): SecretAllowRule['findings'] | null {
  if (!Array.isArray(payload.findings) || payload.findings.length === 0) return null;
  const out: Array<SecretAllowRule['findings'][number]> = [];
  for (const f of payload.findings) {
    if (!isObj(f) || typeof f.commit !== 'string' || !COMMIT_RE.test(f.commit) || typeof f.file !== 'string' || f.file === '' || typeof f.rule !== 'string' || f.rule === '') return null;
    const line = typeof f.line === 'number' && Number.isInteger(f.line) ? f.line : f.line === null || f.line === undefined ? null : NaN;
    if (Number.isNaN(line)) return null;
    out.push({ commit: f.commit, file: f.file, line, rule: f.rule });
  }
  return out;
}

/** The rule remembered for an approved (or modified) payload of `kind`, or why there is none. */
export function ruleFromPayload(kind: ProposalKind, payload: unknown): RuleResult {
  switch (kind) {
    case 'capability-block':
      return { ok: false, message: 'capability-block approvals are never remembered: a Dockerfile change always asks' };
    case 'egress-allow': {
      const routes = routesOf(payload);
      return routes ? { ok: true, rule: { routes } } : { ok: false, message: 'the approved routes do not validate; nothing to remember' };
    }
    case 'egress-token-allow': {
      if (!isObj(payload)) return { ok: false, message: 'the payload is not an object' };
      const host = tokenHost(payload);
      const findings = tokenFindings(payload);
      if (!host || !findings) return { ok: false, message: 'the held request has no valid host or finding fingerprints; nothing to remember' };
      return { ok: true, rule: { host, findings } };
    }
    case 'secret-allow': {
      if (!isObj(payload) || typeof payload.repo !== 'string' || payload.repo === '') return { ok: false, message: 'the payload names no repository' };
      const findings = secretFindings(payload);
      if (!findings) return { ok: false, message: 'the findings lack commit, file or rule; nothing to remember' };
      return { ok: true, rule: { repo: payload.repo, findings } };
    }
  }
}

/**
 * A path value the coverage check trusts: no dot segments, no percent escapes, no empty segments,
 * no backslashes. Egress refuses such request paths before matching, but a rule value carrying
 * them would compare as text; an odd value is never auto-approved.
 */
function plainPath(v: string): boolean {
  if (!v.startsWith('/') || /[%\\]/.test(v) || v.includes('//')) return false;
  return !v.split('/').some((seg) => seg === '.' || seg === '..');
}

type PathRule = NonNullable<RoutesFileMatch['paths']>[number];

function pathCovered(want: PathRule, have: PathRule): boolean {
  if (want.type === 'regex' || have.type === 'regex') return want.type === have.type && want.value === have.value;
  if (!plainPath(want.value) || !plainPath(have.value)) return false;
  // An exact path is covered by the same exact path or a prefix containing it; a prefix only by
  // a prefix containing it (a narrower prefix never covers a broader one).
  if (have.type === 'exact') return want.type === 'exact' && want.value === have.value;
  return prefixMatches(have.value, want.value.replace(/\/+$/, '') || '/');
}

function entryCovered(want: RoutesFileMatch, have: RoutesFileMatch): boolean {
  if (have.methods) {
    if (!want.methods) return false;
    if (!want.methods.every((m) => have.methods!.includes(m))) return false;
  }
  if (have.paths) {
    if (!want.paths) return false;
    if (!want.paths.every((p) => have.paths!.some((h) => pathCovered(p, h)))) return false;
  }
  if (have.headers) {
    // Every header condition of the remembered entry must be required by the request too.
    const wanted = new Set((want.headers ?? []).map((h) => canonicalJson(h)));
    if (!have.headers.every((h) => wanted.has(canonicalJson(h)))) return false;
  }
  return true;
}

function portsOf(port: number | undefined): number[] {
  return port === undefined ? [443, 80] : [port];
}

/** Is `want` equal to or narrower than `have`? */
export function routeCovered(want: RoutesFileRoute, have: RoutesFileRoute): boolean {
  // Credentials: exact equality only (a route with auth is never "narrower" than another).
  if (want.auth || have.auth) return canonicalJson(want) === canonicalJson(have);
  if (want.host !== have.host) return false; // canonical already; a wildcard only covers itself
  // A route without a port serves 443 and 80 (src/egress/route-table.ts portMatches), so it
  // covers only those: a remembered `host` must not approve `host:22`.
  const havePorts = portsOf(have.port);
  if (!portsOf(want.port).every((p) => havePorts.includes(p))) return false;
  if ((want.tls_passthrough ?? false) !== (have.tls_passthrough ?? false)) return false;
  if (canonicalJson(want.dlp ?? null) !== canonicalJson(have.dlp ?? null)) return false;
  if (canonicalJson(want.git ?? null) !== canonicalJson(have.git ?? null)) return false;
  const cidrs = new Set(have.allow_private_cidrs ?? []);
  if (!(want.allow_private_cidrs ?? []).every((c) => cidrs.has(c))) return false;
  if (!have.matches) return true;
  if (!want.matches) return false;
  return want.matches.every((w) => have.matches!.some((h) => entryCovered(w, h)));
}

/** Does the rule cover a new proposal of the same kind? */
export function covers(kind: ProposalKind, rule: RememberRuleBody, payload: unknown): boolean {
  const candidate = ruleFromPayload(kind, payload);
  if (!candidate.ok) return false;
  switch (kind) {
    case 'capability-block':
      return false;
    case 'egress-allow': {
      const want = (candidate.rule as EgressAllowRule).routes;
      const have = (rule as EgressAllowRule).routes ?? [];
      return want.every((w) => have.some((h) => routeCovered(w, h)));
    }
    case 'egress-token-allow': {
      const want = candidate.rule as TokenAllowRule;
      const have = rule as TokenAllowRule;
      if (want.host !== have.host) return false;
      const known = new Set((have.findings ?? []).map((f) => `${f.rule}\u0000${f.fingerprint}`));
      return want.findings.every((f) => known.has(`${f.rule}\u0000${f.fingerprint}`));
    }
    case 'secret-allow': {
      const want = candidate.rule as SecretAllowRule;
      const have = rule as SecretAllowRule;
      if (want.repo !== have.repo) return false;
      const known = new Set((have.findings ?? []).map((f) => canonicalJson(f)));
      return want.findings.every((f) => known.has(canonicalJson(f)));
    }
  }
}

/** One line for listings: what a rule allows, without values. */
export function describeRule(kind: ProposalKind, rule: RememberRuleBody): string {
  if (kind === 'egress-allow') return (rule as EgressAllowRule).routes.map((r) => `${r.host}${r.port ? `:${r.port}` : ''}`).join(', ');
  if (kind === 'egress-token-allow') {
    const r = rule as TokenAllowRule;
    return `${r.host}: ${r.findings.map((f) => `${f.rule}#${f.fingerprint.slice(0, 8)}`).join(', ')}`;
  }
  const r = rule as SecretAllowRule;
  return `${r.repo}: ${r.findings.map((f) => `${f.file}${f.line !== null ? `:${f.line}` : ''} ${f.rule} @${f.commit.slice(0, 8)}`).join(', ')}`;
}
