/**
 * What the agent's tools answer (docs/architecture.md §7a). Pure: outcome → tool result, and
 * routes → the credential-free view `list-egress-routes` returns.
 */
import type { RoutesFileRoute } from '../egress/routes-file-types.js';
import type { Outcome } from './broker.js';
import type { Kind } from './proposal-kinds.js';
import type { Decision, RouteView } from './proposal-schemas.js';

export const expiredNotes = (timeoutSeconds: number): string => `no operator decision within ${timeoutSeconds}s; you may propose again`;
export const GENERATION_LAG_NOTE = 'The change may take a moment to reach egress; retry shortly if a request is still denied.';

/** The decision an agent tool returns; `generationSeen` says whether egress reported the applied generation. */
export function decisionResult(
  kind: Kind,
  id: string,
  payload: Record<string, unknown>,
  o: Outcome,
  timeoutSeconds: number,
  generationSeen: boolean,
): Decision {
  if (o.state === 'expired' || o.state === 'withdrawn') return { status: 'rejected', notes: expiredNotes(timeoutSeconds), proposal_id: id };
  if (o.state === 'rejected') return { status: 'rejected', notes: joinNotes(o.notes, o.reason && o.reason !== o.notes ? o.reason : ''), proposal_id: id };
  const applied = o.modifiedPayload ?? payload;
  const out: Decision = { status: o.state, notes: o.notes, proposal_id: id };
  if (kind === 'egress-allow') {
    out.routes = Array.isArray(applied.routes) ? (applied.routes as Record<string, unknown>[]) : [];
    if (o.appliedGeneration !== null) out.generation = o.appliedGeneration;
    if (!generationSeen) out.notes = joinNotes(out.notes, GENERATION_LAG_NOTE);
  } else if (kind === 'capability-block') {
    // The host's notes say when the image takes effect (src/supervise/host/decide.ts).
    if (typeof applied.dockerfile === 'string') out.dockerfile = applied.dockerfile;
  }
  return out;
}

/** Two notes as one sentence sequence. */
export function joinNotes(a: string, b: string): string {
  if (!a) return b;
  if (!b) return a;
  return `${a}${/[.!?]$/.test(a) ? '' : '.'} ${b}`;
}

/** A routes-file route → what the agent may see: no slot names, no values. */
export function routeViewFromFile(r: RoutesFileRoute): RouteView {
  return {
    host: r.host,
    port: r.port ?? null,
    matches: r.matches ? (r.matches as Array<Record<string, unknown>>) : null,
    tls_passthrough: r.tls_passthrough === true,
    authenticated: r.auth !== undefined,
    auth_scheme: r.auth?.scheme ?? null,
    dlp: r.tls_passthrough === true || r.dlp === undefined ? null : { ...r.dlp },
    allow_private_cidrs: r.allow_private_cidrs ? [...r.allow_private_cidrs] : [],
  };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Egress's `/allowlist` document → the same view, keeping only the listed fields (egress already
 * leaves values and slots out; this is the second lock). Null when the document is not one.
 */
export function routeViewsFromAllowlist(doc: unknown): { generation: number; routes: RouteView[] } | null {
  if (!isObj(doc) || typeof doc.generation !== 'number' || !Array.isArray(doc.routes)) return null;
  const routes: RouteView[] = [];
  for (const r of doc.routes) {
    if (!isObj(r) || typeof r.host !== 'string') return null;
    routes.push({
      host: r.host,
      port: typeof r.port === 'number' ? r.port : null,
      matches: Array.isArray(r.matches) ? (r.matches as Array<Record<string, unknown>>) : null,
      tls_passthrough: r.tls_passthrough === true,
      authenticated: r.authenticated === true,
      auth_scheme: typeof r.auth_scheme === 'string' ? r.auth_scheme : null,
      dlp: isObj(r.dlp) ? r.dlp : null,
      allow_private_cidrs: Array.isArray(r.allow_private_cidrs) ? r.allow_private_cidrs.filter((c): c is string => typeof c === 'string') : [],
    });
  }
  return { generation: doc.generation, routes };
}
