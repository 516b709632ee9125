/**
 * Request matching inside a route (docs/configuration.md §3.4.1), on the path the normaliser
 * produced (normalize.ts refuses unsafe paths first): `matches`
 * entries (any-of), each entry all-of its present fields. Pure.
 */
import type { CompiledMatch, CompiledRoute } from './route-table.js';

export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

export function prefixMatches(value: string, path: string): boolean {
  let v = value;
  while (v.length > 0 && v.endsWith('/')) v = v.slice(0, -1);
  if (v.length === 0) return true;
  if (!path.startsWith(v)) return false;
  return path.length === v.length || path.charCodeAt(v.length) === 47;
}

function headerValue(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(', ');
}

function entryMatches(m: CompiledMatch, method: string, path: string, headers: HeaderMap): boolean {
  if (m.methods && !m.methods.includes(method)) return false;
  if (m.paths) {
    let any = false;
    for (const p of m.paths) {
      if (p.type === 'exact' ? path === p.value : p.type === 'prefix' ? prefixMatches(p.value, path) : p.re!.test(path)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (m.headers) {
    for (const h of m.headers) {
      const v = headerValue(headers, h.name);
      if (v === undefined) return false;
      if (h.type === 'exact' ? v !== h.value : !h.re!.test(v)) return false;
    }
  }
  return true;
}

/** Index of the first matching entry, -1 for none, null when the route has no `matches` (all). */
export function matchRequest(route: CompiledRoute, method: string, path: string, headers: HeaderMap): number | null {
  if (!route.matches) return null;
  for (let i = 0; i < route.matches.length; i++) {
    if (entryMatches(route.matches[i]!, method, path, headers)) return i;
  }
  return -1;
}
