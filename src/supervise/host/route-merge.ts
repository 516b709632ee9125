/**
 * The approved-route merge (docs/supervise.md, "Applying approvals"), used for the
 * operator's diff, for applying, and for re-applying on `resume`. Pure.
 *
 * A proposed route whose (host, port) exists replaces it, keeping the existing `auth` and origin
 * (and the existing DLP unless the proposal sets one — an approval never silently weakens a
 * route); every other route is appended with origin `approved` and the manifest-route DLP
 * defaults (`outbound_on_match: supervise`) unless the proposal sets `dlp`.
 */
import { defaultDlpFor } from '../../egress/routes-file.js';
import type { RoutesFile, RoutesFileRoute } from '../../egress/routes-file-types.js';

const sameKey = (a: RoutesFileRoute, b: RoutesFileRoute): boolean => a.host === b.host && a.port === b.port;

export function mergeRoutes(live: readonly RoutesFileRoute[], proposed: readonly RoutesFileRoute[]): RoutesFileRoute[] {
  const out = live.map((r) => ({ ...r }));
  for (const p of proposed) {
    const { auth: proposedAuth, origin: _ignored, ...rest } = p;
    const i = out.findIndex((r) => sameKey(r, p));
    if (i >= 0) {
      const old = out[i]!;
      const next: RoutesFileRoute = { ...rest };
      if (old.auth) next.auth = old.auth;
      else if (proposedAuth) next.auth = proposedAuth;
      if (!rest.dlp && old.dlp && !rest.tls_passthrough) next.dlp = old.dlp;
      if (old.origin) next.origin = old.origin;
      out[i] = next;
    } else {
      const next: RoutesFileRoute = { ...rest, origin: 'approved' };
      if (proposedAuth) next.auth = proposedAuth;
      if (!rest.dlp && !rest.tls_passthrough) next.dlp = defaultDlpFor('approved');
      out.push(next);
    }
  }
  return out;
}

/** The next live table: merged routes, generation + 1. */
export function nextRoutesFile(live: RoutesFile, proposed: readonly RoutesFileRoute[]): RoutesFile {
  return { ...live, generation: live.generation + 1, routes: mergeRoutes(live.routes, proposed) };
}

/** The routes of `merged` that differ from `live` (what the approval applied). */
export function appliedRoutes(live: readonly RoutesFileRoute[], merged: readonly RoutesFileRoute[]): RoutesFileRoute[] {
  return merged.filter((m) => {
    const old = live.find((r) => sameKey(r, m));
    return !old || JSON.stringify(old) !== JSON.stringify(m);
  });
}

/** Slots (`auth.token_env`) in a table: the only credentials a modified route may reuse. */
export function liveSlots(routes: readonly RoutesFileRoute[]): Set<string> {
  return new Set(routes.flatMap((r) => (r.auth ? [r.auth.token_env] : [])));
}
