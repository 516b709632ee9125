/**
 * The plan of a `resume` (docs/cli.md, `resume <slug>`): the recorded launch (metadata) with the
 * manifests re-read, for the `resume` command and for the relaunch after an approved capability
 * request (src/cli/bottle-session.ts). Checks that the slug has state, is not running and that its
 * recorded backend is known and available.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError } from '../errors.js';
import type { Backend } from '../backends/backend.js';
import { BACKEND_NAMES, getBackend } from '../backends/registry.js';
import { pidAlive } from '../util/pid-alive.js';
import { resolveHome, userHome } from '../manifest/home.js';
import { indexManifests, loadAgent, loadBottles, sourceLabel } from '../manifest/loader.js';
import { preparePlan, type PreparedLaunch } from '../plan/prepare.js';
import { readMetadata } from '../state/metadata.js';
import { stateDirFor } from '../state/paths.js';
import { warn } from './output.js';
import { plannedRuntime } from './planned-runtime.js';

function sessionLive(stateDir: string): boolean {
  try {
    return pidAlive((JSON.parse(readFileSync(join(stateDir, 'session.json'), 'utf8')) as { pid?: unknown }).pid);
  } catch {
    return false;
  }
}

export interface ResumePlan {
  readonly prepared: PreparedLaunch;
  readonly backend: Backend;
  readonly agentName: string;
  readonly template: string;
}

export async function prepareResume(slug: string, f: { headless: boolean; dryRun: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<ResumePlan> {
  const home = resolveHome(env);
  const uhome = userHome(env);
  const stateDir = stateDirFor(home, slug);
  const meta = await readMetadata(stateDir, slug);
  if (sessionLive(stateDir)) throw new BottleError('STILL_RUNNING', `bottle "${slug}" is still running`, { fix: 'attach to it, or stop it first' });
  if (!BACKEND_NAMES.includes(meta.backend)) throw new BottleError('BACKEND_UNAVAILABLE', `recorded backend "${meta.backend}" is unknown to this version`, { fix: 'see "bot-bottle doctor"' });
  const backend = await getBackend(meta.backend);
  const avail = await backend.available();
  if (!avail.ok && !f.dryRun) {
    throw new BottleError('BACKEND_UNAVAILABLE', `backend ${meta.backend} (recorded for ${slug}) is not available: ${avail.reason}`, { fix: `run "bot-bottle doctor --backend ${meta.backend}"` });
  }
  const runtime = await plannedRuntime(backend, f.dryRun);
  for (const w of runtime.warnings) warn(w);
  const cwd = meta.cwd || process.cwd();
  const index = indexManifests({ home, cwd, userHome: uhome });
  for (const w of index.warnings) warn(w);
  const prepared = await preparePlan({
    home, userHome: uhome, cwd, copyCwd: meta.copyCwd,
    agent: loadAgent(index, meta.agentName),
    selected: loadBottles(index, meta.bottleNames),
    backend: meta.backend,
    backendBuildsImages: backend.buildsCustomImages === true,
    backendRuntime: runtime.runtime,
    label: meta.label, labelIsExplicit: true, color: meta.color,
    headless: f.headless, dryRun: f.dryRun, hostEnv: env,
    slug,
    display: (file) => sourceLabel(index, file),
  });
  return { prepared, backend, agentName: meta.agentName, template: prepared.metadata.template };
}
