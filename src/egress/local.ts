/**
 * `_egress.local` introspection: never resolved or forwarded; shows routes
 * without values or slot names.
 */
import type { RouteTable } from './route-table.js';

export interface ReloadStatus {
  at: string | null;
  ok: boolean;
  error: string | null;
}

export interface LocalState {
  table: RouteTable;
  loadedAt: string;
  logLevel: number;
  lastReload: ReloadStatus;
}

export function allowlistDoc(s: LocalState): unknown {
  return {
    bottle: s.table.doc.bottle,
    generation: s.table.doc.generation,
    loaded_at: s.loadedAt,
    log: s.logLevel,
    routes: s.table.routes.map((r) => ({
      host: r.host,
      port: r.port,
      tls_passthrough: r.passthrough,
      authenticated: r.auth !== null,
      auth_scheme: r.auth?.scheme ?? null,
      matches: r.source.matches ?? null,
      dlp: r.passthrough
        ? null
        : { outbound_detectors: [...r.outbound], inbound_detectors: r.inbound ? ['naive_injection_detection'] : [], outbound_on_match: r.onMatch },
      allow_private_cidrs: r.source.allow_private_cidrs ?? [],
    })),
  };
}

export function healthDoc(s: LocalState): unknown {
  return { status: 'ok', generation: s.table.doc.generation, routes: s.table.routes.length, last_reload: s.lastReload };
}

/** Status + JSON body for a local request path. */
export function localResponse(method: string, path: string, s: LocalState): { status: number; body: string } {
  if (path !== '/healthz' && path !== '/allowlist') return { status: 404, body: '{"error":"not found"}\n' };
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, body: '{"error":"method not allowed"}\n' };
  return { status: 200, body: `${JSON.stringify(path === '/healthz' ? healthDoc(s) : allowlistDoc(s))}\n` };
}
