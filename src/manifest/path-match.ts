/**
 * Path and request matching semantics of `matches` (docs/configuration.md §3.4.1). Pure; egress may
 * reuse it. The caller has already refused dot segments and encoded separators and stripped the
 * query.
 */
import type { PathMatch, RouteMatch } from './types.js';

/** `prefix` matches whole segments: `/v1` matches `/v1` and `/v1/x`, never `/v1x` (M23). */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.replace(/\/+$/, '') : prefix;
  if (p === '/' || p === '') return path.startsWith('/');
  return path === p || path.startsWith(`${p}/`);
}

const regexCache = new Map<string, RegExp>();
export function compileAnchored(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, 'u');
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

export function pathMatches(m: PathMatch, path: string): boolean {
  switch (m.type) {
    case 'exact':
      return path === m.value;
    case 'prefix':
      return prefixMatches(m.value, path);
    case 'regex':
      return compileAnchored(m.value).test(path);
  }
}

export interface RequestShape {
  readonly method: string;
  readonly path: string;
  /** lower-cased names */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export function matchEntryAccepts(entry: RouteMatch, req: RequestShape): boolean {
  if (entry.paths && !entry.paths.some((p) => pathMatches(p, req.path))) return false;
  if (entry.methods && !entry.methods.includes(req.method.toUpperCase())) return false;
  if (entry.headers) {
    for (const h of entry.headers) {
      const raw = req.headers[h.name];
      const values = raw === undefined ? [] : typeof raw === 'string' ? [raw] : raw;
      const hit = values.some((v) => (h.type === 'regex' ? compileAnchored(h.value).test(v) : v === h.value));
      if (!hit) return false;
    }
  }
  return true;
}

/** Unset `matches` accepts everything; otherwise any entry must accept. */
export function matchesAccept(matches: readonly RouteMatch[] | undefined, req: RequestShape): boolean {
  return matches === undefined || matches.some((m) => matchEntryAccepts(m, req));
}
