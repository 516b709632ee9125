/**
 * `state/<slug>/approved-routes.yaml` (docs/supervise.md): every applied route approval, in
 * order. Host-only (never in the spool, which the sidecar can write); `resume` merges them into the
 * fresh table built from the re-read manifests. Credentials are never recorded: a route re-applied
 * on resume keeps whatever `auth` the new table gives its (host, port) (docs/decisions/supervise-apply-routes.md).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { RoutesFile, RoutesFileRoute } from '../../egress/routes-file-types.js';
import { mergeRoutes } from './route-merge.js';
import { validateProposedRoutes } from './route-proposal.js';

export const APPROVED_ROUTES_FILE = 'approved-routes.yaml';

export interface ApprovedEntry {
  proposal: string;
  at: string;
  routes: RoutesFileRoute[];
}

const stripForRecord = (r: RoutesFileRoute): RoutesFileRoute => {
  const { auth: _auth, origin: _origin, ...rest } = r;
  return rest;
};

export function readApprovedRoutes(stateDir: string): ApprovedEntry[] {
  const path = join(stateDir, APPROVED_ROUTES_FILE);
  if (!existsSync(path)) return [];
  const doc = parse(readFileSync(path, 'utf8')) as { approvals?: unknown } | null;
  const list = Array.isArray(doc?.approvals) ? doc.approvals : [];
  return list.map((e: unknown, i) => {
    const o = (e ?? {}) as Record<string, unknown>;
    try {
      return { proposal: String(o.proposal ?? ''), at: String(o.at ?? ''), routes: validateProposedRoutes(o.routes) };
    } catch (err) {
      throw new Error(`${path}: approvals[${i}]: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

export function appendApprovedRoutes(stateDir: string, entry: ApprovedEntry): void {
  if (entry.routes.length === 0) return; // the approval changed nothing
  const path = join(stateDir, APPROVED_ROUTES_FILE);
  const all = [...readApprovedRoutes(stateDir), { ...entry, routes: entry.routes.map(stripForRecord) }];
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `# routes approved with "bot-bottle supervise"; re-applied on resume\n${stringify({ approvals: all }, { lineWidth: 0, aliasDuplicateObjects: false })}`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The launch table with every recorded approval merged in, in order (pure given its inputs). */
export function withApprovedRoutes(table: RoutesFile, approvals: readonly ApprovedEntry[]): RoutesFile {
  let routes = table.routes;
  for (const a of approvals) routes = mergeRoutes(routes, a.routes);
  return { ...table, routes };
}
