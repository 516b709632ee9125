/**
 * Route merge (docs/configuration.md §6): provider routes claim their hosts; weak provider routes
 * are defaults a bottle route for the same host replaces. Pure.
 */
import type { Route, SourcedRoute } from '../manifest/types.js';
import type { ProviderRoute } from '../providers/types.js';

export type RouteOrigin =
  | { readonly kind: 'provider'; readonly provider: string }
  | { readonly kind: 'bottle'; readonly bottle: string; readonly file: string };

export interface MergedRoute {
  readonly route: Route;
  readonly origin: RouteOrigin;
}

export interface DroppedRoute {
  readonly host: string;
  readonly origin: RouteOrigin;
  readonly reason: string;
}

export interface RouteMergeResult {
  readonly routes: readonly MergedRoute[];
  readonly dropped: readonly DroppedRoute[];
  /** Preflight notes, one per dropped route. */
  readonly notes: readonly string[];
}

/** `provider:<name>` or `bottle:<file>` (preflight tags and the JSON plan). */
export function originTag(origin: RouteOrigin): string {
  return origin.kind === 'provider' ? `provider:${origin.provider}` : `bottle:${origin.file}`;
}

function stripWeak(r: ProviderRoute): Route {
  const { weak: _weak, ...route } = r;
  return route;
}

export function mergeRoutes(provider: string, providerRoutes: readonly ProviderRoute[], bottleRoutes: readonly SourcedRoute[]): RouteMergeResult {
  const bottleHosts = new Set(bottleRoutes.map((r) => r.route.host.toLowerCase()));
  const routes: MergedRoute[] = [];
  const dropped: DroppedRoute[] = [];
  const notes: string[] = [];
  const claimed = new Set<string>();
  const providerOrigin: RouteOrigin = { kind: 'provider', provider };

  for (const r of providerRoutes) {
    const host = r.host.toLowerCase();
    // Authenticated routes are never weak (validation rejects weak + auth; belt and braces here).
    if (r.weak === true && r.auth === undefined && bottleHosts.has(host)) {
      const reason = `provider default for ${host} replaced by bottle route`;
      dropped.push({ host, origin: providerOrigin, reason });
      notes.push(reason);
      continue;
    }
    claimed.add(host);
    routes.push({ route: stripWeak(r), origin: providerOrigin });
  }
  for (const r of bottleRoutes) {
    const host = r.route.host.toLowerCase();
    const origin: RouteOrigin = { kind: 'bottle', bottle: r.source.bottle, file: r.source.file };
    if (claimed.has(host)) {
      const reason = `bottle route for ${host} ignored: owned by provider ${provider}`;
      dropped.push({ host, origin, reason });
      notes.push(reason);
      continue;
    }
    routes.push({ route: r.route, origin });
  }
  return { routes, dropped, notes };
}
