/**
 * Applying an approval (docs/supervise.md, "Applying approvals"). Route changes: under the
 * live-config lock, read the live table, merge, validate with the egress schema, generation + 1,
 * temp + rename, signal egress through the recorded backend, record in approved-routes.yaml.
 * Capability changes: write `state/<slug>/Dockerfile`, the top of the image cascade.
 */
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../../backends/registry.js';
import type { Backend } from '../../backends/backend.js';
import { parseRoutesFile, renderRoutesFile } from '../../egress/routes-file.js';
import type { RoutesFile, RoutesFileRoute } from '../../egress/routes-file-types.js';
import { pidAlive } from '../../util/pid-alive.js';
import { readMetadata } from '../../state/metadata.js';
import { STATE_ENTRIES } from '../../state/paths.js';
import { appendApprovedRoutes } from './approved-routes.js';
import { appliedRoutes, liveSlots, nextRoutesFile } from './route-merge.js';
import { validateDockerfile, validateProposedRoutes } from './route-proposal.js';

export interface RouteApplyResult {
  readonly generation: number;
  readonly routes: RoutesFileRoute[];
  /** How egress learns of it: `signalled`, or why not (its file watcher still picks it up). */
  readonly reload: string;
}

export type BackendLookup = (name: string) => Promise<Pick<Backend, 'reloadEgress'>>;

export function readLiveRoutes(stateDir: string): RoutesFile {
  return parseRoutesFile(readFileSync(join(stateDir, STATE_ENTRIES.routesFile), 'utf8'));
}

function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** Call with the live-config lock held (routes-lock.ts). */
export async function applyRouteChange(o: {
  stateDir: string;
  slug: string;
  proposalId: string;
  payload: unknown;
  now?: Date;
  backendOf?: BackendLookup;
}): Promise<RouteApplyResult> {
  const live = readLiveRoutes(o.stateDir);
  const proposed = validateProposedRoutes(o.payload, { allowAuthSlots: liveSlots(live.routes) });
  const next = nextRoutesFile(live, proposed);
  // renderRoutesFile validates the whole table with the egress schema before anything is written.
  writeAtomic(join(o.stateDir, STATE_ENTRIES.routesFile), renderRoutesFile(next), 0o644);
  const applied = appliedRoutes(live.routes, next.routes);
  let reload = 'signalled';
  try {
    const meta = await readMetadata(o.stateDir, o.slug);
    const backend = await (o.backendOf ?? getBackend)(meta.backend);
    await backend.reloadEgress(o.slug);
  } catch (err) {
    // Not running, or a backend without a signal path here: egress reads the file when it
    // (re)starts, and a running egress's file watcher covers a failed signal.
    reload = `not signalled (${err instanceof Error ? err.message : String(err)})`;
  }
  appendApprovedRoutes(o.stateDir, { proposal: o.proposalId, at: (o.now ?? new Date()).toISOString(), routes: applied });
  return { generation: next.generation, routes: applied, reload };
}

/**
 * When the approved Dockerfile takes effect (docs/supervise.md, "Applying approvals"): a running
 * bottle on a backend that builds images is rebuilt and resumed by its launcher within seconds;
 * otherwise at the next resume, and never on a backend that cannot build images.
 */
export async function capabilityRebuildNote(stateDir: string, slug: string, backendOf: (name: string) => Promise<Pick<Backend, 'buildsCustomImages'>> = getBackend): Promise<string> {
  let name: string;
  let builds: boolean;
  try {
    name = (await readMetadata(stateDir, slug)).backend;
    builds = (await backendOf(name)).buildsCustomImages === true;
  } catch {
    return 'built at the next resume of this slug';
  }
  if (!builds) return `recorded but not built: the ${name} backend cannot build images, and refuses to resume this slug until ${STATE_ENTRIES.dockerfile} is removed from its state`;
  let live = false;
  try {
    live = pidAlive((JSON.parse(readFileSync(join(stateDir, STATE_ENTRIES.session), 'utf8')) as { pid?: unknown }).pid);
  } catch {
    // no session: not running
  }
  return live ? 'built by the running launcher, which stops the bottle, rebuilds its image and resumes it within seconds' : 'built at the next resume of this slug';
}

/** Writes the approved Dockerfile, the top of the image cascade. */
export function applyCapabilityChange(o: { stateDir: string; payload: unknown }): { path: string } {
  const text = validateDockerfile(o.payload);
  const path = join(o.stateDir, STATE_ENTRIES.dockerfile);
  writeAtomic(path, text.endsWith('\n') ? text : `${text}\n`, 0o644);
  return { path };
}
