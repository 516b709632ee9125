/**
 * Re-writes the launch files of an EXISTING state dir for `resume` (docs/architecture.md §4.8): a
 * new CA (the key was deleted at the last teardown), the routes file and git-gate config from the
 * re-read manifests (plus the routes approved through supervise), fresh metadata. The agent's
 * home, logs and spool are kept.
 * src/plan/materialize.ts refuses an existing directory by design (slug clash), so resume checks
 * the directory exists and then writes the same files.
 */
import { existsSync } from 'node:fs';
import { BottleError } from '../errors.js';
import { writeLaunchFiles } from '../plan/materialize.js';
import type { PreparedLaunch } from '../plan/prepare.js';
import { readApprovedRoutes, withApprovedRoutes } from '../supervise/host/approved-routes.js';

export async function rematerializeState(prepared: PreparedLaunch, now: Date = new Date()): Promise<void> {
  const { plan } = prepared;
  const dir = plan.stateDir;
  if (!existsSync(dir)) throw new BottleError('STATE_NOT_FOUND', `no saved state for "${plan.slug}" (looked in ${dir})`, { fix: 'see "bot-bottle list"' });
  // Routes approved with `bot-bottle supervise` while the bottle ran are merged into the table
  // built from the re-read manifests (docs/supervise.md, "Applying approvals").
  const approved = readApprovedRoutes(dir);
  const withApproved = approved.length === 0 ? prepared : { ...prepared, routesFile: withApprovedRoutes(prepared.routesFile, approved) };
  await writeLaunchFiles(withApproved, now);
}
