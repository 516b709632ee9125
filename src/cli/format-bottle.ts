/**
 * Pure text formatters for an effective bottle, shared by `info` and `start`'s preflight
 * (docs/architecture.md §4.4). They print names and markers only: never an env value or a token
 * value.
 */
import type { EnvEntry, ExtendsTree, GitGateRepo, GitIdentity, OnMatch, Route, RouteMatch } from '../manifest/types.js';
import { NOT_AVAILABLE } from '../plan/availability.js';

export interface RouteLineOptions {
  /** Provider that owns the route (`[provider:<name>]` tag). */
  readonly provider?: string;
  /** The origin's default on-match (manifest routes `supervise`, provider routes `redact`). */
  readonly defaultOnMatch?: OnMatch;
  /** Pad the host column to this width. */
  readonly hostWidth?: number;
}

export function routeHostLabel(route: Route): string {
  const host = route.host.includes(':') ? `[${route.host}]` : route.host;
  return route.port !== undefined ? `${host}:${route.port}` : host;
}

/** `/x` exact, `/x/*` prefix, `~<re>` regex. */
function pathSummary(p: { type: string; value: string }): string {
  if (p.type === 'exact') return p.value;
  if (p.type === 'prefix') return p.value === '/' ? '/*' : `${p.value}/*`;
  return `~${p.value}`;
}

function matchSummary(m: RouteMatch): string {
  const parts: string[] = [];
  if (m.methods) parts.push(m.methods.join(','));
  if (m.paths) parts.push(m.paths.map(pathSummary).join(','));
  if (m.headers) parts.push(m.headers.map((h) => `${h.name}${h.type === 'regex' ? '~' : '='}…`).join(','));
  return parts.join(' ');
}

export function matchesSummary(matches: readonly RouteMatch[] | undefined): string {
  return matches === undefined ? '' : matches.map(matchSummary).join(' | ');
}

/** `gitea.example.com    [auth:token] GET,POST,PATCH /api/v1/repos/acme/* [dlp:block]` */
export function formatRouteLine(route: Route, opts: RouteLineOptions = {}): string {
  const host = routeHostLabel(route);
  const head = opts.hostWidth !== undefined ? host.padEnd(opts.hostWidth) : host;
  const tags: string[] = [];
  if (route.auth) tags.push(`[auth:${route.auth.scheme}]`);
  if (route.tlsPassthrough) tags.push('[passthrough]');
  if (!route.git.fetch) tags.push('[no-git-fetch]');
  const m = matchesSummary(route.matches);
  if (m) tags.push(m);
  const onMatch = route.dlp.outboundOnMatch;
  if (onMatch !== undefined && onMatch !== (opts.defaultOnMatch ?? 'supervise')) tags.push(`[dlp:${onMatch}]`);
  if (opts.provider) tags.push(`[provider:${opts.provider}]`);
  return tags.length > 0 ? `${head}  ${tags.join(' ')}`.replace(/\s+$/, '') : host;
}

export interface RouteRow {
  readonly route: Route;
  readonly provider?: string;
  readonly defaultOnMatch?: OnMatch;
}

/** Lines of a route table with an aligned host column. */
export function formatRouteTable(rows: readonly RouteRow[]): string[] {
  const width = Math.max(0, ...rows.map((r) => routeHostLabel(r.route).length)) + 1;
  return rows.map((r) =>
    formatRouteLine(r.route, {
      hostWidth: width,
      ...(r.provider !== undefined ? { provider: r.provider } : {}),
      ...(r.defaultOnMatch !== undefined ? { defaultOnMatch: r.defaultOnMatch } : {}),
    }),
  );
}

/** `Implementer Bot (agent) <review-bot@example.com> (bottle)`; `(not set)` when empty. */
export function formatIdentity(id: GitIdentity): string {
  const parts: string[] = [];
  if (id.name) parts.push(`${id.name.value} (${id.name.from})`);
  if (id.email) parts.push(`<${id.email.value}> (${id.email.from})`);
  return parts.length > 0 ? parts.join(' ') : '(not set)';
}

/** `TZ, NPM_CONFIG_REGISTRY (host), STAGING_DB_PASSWORD (prompted)`; hidden names omitted. */
export function formatEnvNames(entries: readonly EnvEntry[], hidden: ReadonlySet<string> = new Set()): string {
  const names = entries
    .filter((e) => !hidden.has(e.name))
    .map((e) => (e.kind === 'host' ? `${e.name} (host)` : e.kind === 'prompted' ? `${e.name} (prompted)` : e.name));
  return names.length > 0 ? names.join(', ') : '(none)';
}

/** `webapp → gitea.example.com:2222  [key:gitea] [host key pinned]` */
export function formatGitGateRepo(repo: GitGateRepo): string {
  const target = repo.kind === 'file' ? repo.url : `${repo.host !== null && repo.host.includes(':') ? `[${repo.host}]` : repo.host}:${repo.port}`;
  const tags: string[] = [];
  if (repo.key) tags.push(`[key:${repo.key.provider}]`);
  if (repo.hostKeys.length > 0) tags.push('[host key pinned]');
  if (repo.tokenRef !== undefined) tags.push(`[token:${repo.tokenRef}]`);
  if (repo.readOnly) tags.push('[read-only]');
  if (repo.protectedRefs.length > 0) tags.push(`[protected:${repo.protectedRefs.map((r) => r.replace(/^refs\/heads\//, '')).join(',')}]`);
  if (repo.allowForcePush) tags.push('[force-push]');
  if (repo.allowDelete) tags.push('[delete]');
  return tags.length > 0 ? `${repo.name} → ${target}  ${tags.join(' ')}` : `${repo.name} → ${target}`;
}

/** `a ← b ← c`; several parents `a ← [b ← base, c]`. */
export function formatBottleChain(tree: ExtendsTree): string {
  if (tree.parents.length === 0) return tree.name;
  if (tree.parents.length === 1) return `${tree.name} ← ${formatBottleChain(tree.parents[0] as ExtendsTree)}`;
  return `${tree.name} ← [${tree.parents.map(formatBottleChain).join(', ')}]`;
}

/** The selection, in order: `a ← base + extra`. */
export function formatBottleSelection(trees: readonly ExtendsTree[]): string {
  return trees.map(formatBottleChain).join(' + ');
}

/** Direct parents of a tree node (JSON `extends`). */
export function parentNames(tree: ExtendsTree): string[] {
  return tree.parents.map((p) => p.name);
}

/** Two-column block: label padded to 14, continuation lines indented. */
export function block(label: string, lines: readonly string[] | string): string[] {
  const list = typeof lines === 'string' ? [lines] : lines.length > 0 ? lines : ['(none)'];
  const pad = ' '.repeat(14);
  return list.map((l, i) => `  ${i === 0 ? label.padEnd(14) : pad}${l}`);
}

/**
 * The image part of the provider block. Where the backend builds no image it says so (the note)
 * instead of naming a Dockerfile that nothing builds (docs/decisions/supervise-not-available.md).
 */
export function formatProviderImage(p: {
  readonly image: string;
  /** A custom Dockerfile (display form), or null for the provider's stock one. */
  readonly dockerfile: string | null;
  /** `manifest`, `plugin`, `state-override`; ignored without a custom Dockerfile. */
  readonly source: string;
  readonly build: { available: boolean; note: string | null };
}): string {
  const note = p.build.note === null ? '' : `; ${p.build.note}`;
  if (p.build.available) return `image ${p.image} (${p.dockerfile === null ? 'bundled Dockerfile' : `${p.source} Dockerfile ${p.dockerfile}`}${note})`;
  if (p.dockerfile === null) return `(agent image: ${p.build.note ?? NOT_AVAILABLE})`;
  return `${p.source} Dockerfile ${p.dockerfile} (${p.build.note ?? `building agent images: ${NOT_AVAILABLE}`})`;
}
