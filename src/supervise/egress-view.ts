/**
 * The daemon's read-only view of egress (docs/architecture.md §7a): `/allowlist` for
 * `list-egress-routes` (2 s, else the routes file) and `/healthz` to see an applied generation
 * arrive. Never sends anything but GETs to the introspection URL.
 */
import { readFile } from 'node:fs/promises';
import { parseRoutesFile } from '../egress/routes-file.js';
import type { RouteView } from './proposal-schemas.js';
import { routeViewFromFile, routeViewsFromAllowlist } from './tool-results.js';

const ALLOWLIST_TIMEOUT_MS = 2000;
const GENERATION_WAIT_MS = 10_000;
const GENERATION_POLL_MS = 250;

async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

export interface RoutesListing {
  source: 'egress' | 'file';
  generation: number;
  routes: RouteView[];
}

export async function listRoutes(introspectUrl: string, routesFile: string): Promise<RoutesListing> {
  try {
    const view = routeViewsFromAllowlist(await getJson(`${introspectUrl}/allowlist`, ALLOWLIST_TIMEOUT_MS));
    if (view) return { source: 'egress', ...view };
  } catch {
    // egress down or slow: the routes file says what it would load
  }
  const doc = parseRoutesFile(await readFile(routesFile, 'utf8'));
  return { source: 'file', generation: doc.generation, routes: doc.routes.map(routeViewFromFile) };
}

/** True once egress `/healthz` reports `generation` ≥ `want` (within 10 s). */
export async function waitForGeneration(introspectUrl: string, want: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + GENERATION_WAIT_MS;
  while (Date.now() < deadline && !signal?.aborted) {
    try {
      const doc = await getJson(`${introspectUrl}/healthz`, ALLOWLIST_TIMEOUT_MS);
      const g = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).generation : undefined;
      if (typeof g === 'number' && g >= want) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, GENERATION_POLL_MS));
  }
  return false;
}
