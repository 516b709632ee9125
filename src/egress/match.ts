/**
 * Request matching inside a route (docs/configuration.md §3.4.1): path safety, then `matches`
 * entries (any-of), each entry all-of its present fields. Pure.
 */
import type { CompiledMatch, CompiledRoute } from './route-table.js';

export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Path safety (R3). Rejects a raw `\`, and any path whose dot-segment removal would change it once
 * `%2e`, `%2f` and `%5c` are decoded (so `/v1/%2e%2e/x`, `/v1/..%2fx` are refused while GitLab's
 * `projects/acme%2Fwidget` passes: an encoded slash alone forms no dot segment).
 */
export function pathIsSafe(path: string): boolean {
  if (!path.startsWith('/')) return false;
  if (path.includes('\\')) return false;
  let decoded = path;
  if (path.includes('%')) {
    decoded = path.replace(/%(2e|2f|5c)/gi, (m) => {
      const c = m.toLowerCase();
      return c === '%2e' ? '.' : '/';
    });
  }
  let start = 1;
  const n = decoded.length;
  while (start <= n) {
    let end = decoded.indexOf('/', start);
    if (end < 0) end = n;
    const len = end - start;
    if ((len === 1 && decoded.charCodeAt(start) === 46) || (len === 2 && decoded.charCodeAt(start) === 46 && decoded.charCodeAt(start + 1) === 46)) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

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
