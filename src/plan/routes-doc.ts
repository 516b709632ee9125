/**
 * The routes file document for egress (docs/architecture.md §5, `live-config/routes.yaml`): every
 * route field, the slot as `auth.token_env` (never a reference name, never a value), explicit DLP
 * values per origin (docs/configuration.md §3.4.3). Pure; src/egress/routes-file.ts renders it to
 * YAML.
 */
import type { Route } from '../manifest/types.js';
import type { RoutesFile, RoutesFileRoute } from '../egress/routes-file-types.js';
import { defaultDlpFor } from '../egress/routes-file.js';
import type { MergedRoute } from './route-merge.js';

/**
 * Declared DLP over the origin's defaults (docs/configuration.md §3.4.3; provider routes never
 * block model output).
 */
export function effectiveDlp(route: Route, origin: 'provider' | 'manifest'): NonNullable<RoutesFileRoute['dlp']> {
  const d = defaultDlpFor(origin);
  const out = route.dlp.outboundDetectors;
  const inb = route.dlp.inboundDetectors;
  return {
    outbound_detectors: out === undefined ? d.outbound_detectors : out.length === 0 ? false : [...out],
    inbound_detectors: inb === undefined ? d.inbound_detectors : inb.length === 0 ? false : [...inb],
    outbound_on_match: route.dlp.outboundOnMatch ?? d.outbound_on_match,
  };
}

export function routeFileEntry(m: MergedRoute, slotOf: ReadonlyMap<string, string>): RoutesFileRoute {
  const r = m.route;
  const origin = m.origin.kind === 'provider' ? 'provider' : 'manifest';
  const e: RoutesFileRoute = { host: r.host };
  if (r.port !== undefined) e.port = r.port;
  if (r.matches !== undefined) {
    e.matches = r.matches.map((x) => ({
      ...(x.paths ? { paths: x.paths.map((p) => ({ type: p.type, value: p.value })) } : {}),
      ...(x.methods ? { methods: [...x.methods] } : {}),
      ...(x.headers ? { headers: x.headers.map((h) => ({ name: h.name, type: h.type, value: h.value })) } : {}),
    }));
  }
  if (r.auth !== undefined) {
    const slot = slotOf.get(r.auth.tokenRef);
    if (slot === undefined) throw new Error(`routes file: no slot assigned for a route on ${r.host}`);
    e.auth = { scheme: r.auth.scheme, token_env: slot, ...(r.auth.header !== undefined ? { header: r.auth.header } : {}) };
  }
  if (r.tlsPassthrough) {
    e.tls_passthrough = true;
  } else {
    e.git = { fetch: r.git.fetch };
    e.dlp = effectiveDlp(r, origin);
  }
  if (r.allowPrivateCidrs.length > 0) e.allow_private_cidrs = [...r.allowPrivateCidrs];
  e.origin = origin;
  return e;
}

export function buildRoutesFile(opts: {
  slug: string;
  log: 0 | 1 | 2;
  routes: readonly MergedRoute[];
  slotOf: ReadonlyMap<string, string>;
  generation?: number;
}): RoutesFile {
  return {
    version: 1,
    generation: opts.generation ?? 1,
    bottle: opts.slug,
    log: opts.log,
    routes: opts.routes.map((m) => routeFileEntry(m, opts.slotOf)),
  };
}
